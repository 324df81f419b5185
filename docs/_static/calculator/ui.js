/* The calculator's form: reads the inputs, asks the engine (gpumem/web/engine.js, on the
 * formulas generated from the symbolic model) and shows its answer. It computes nothing
 * itself. The inputs live in the page address (#model=…&gpu=…), so an answer can be shared.
 */
(function () {
  "use strict";
  const data = window.gpumemCalculatorData;
  const engine = window.gpumemEngine(window.gpumemFormulas, data);
  const reader = window.gpumemConfig(engine, data);
  const W = data.words;
  const W_EN = data.english; // message ids: the engine's errors are translated from English
  const T = data.tables;
  const OPTIONAL = ["kv_dtype", "logits", "precision", "optimizer", "optimizer_impl", "checkpointing"];
  const TRAINING = ["precision", "optimizer", "optimizer_impl", "checkpointing", "lora_rank"];
  const COUNTS = ["batch", "seq", "lora_rank", "tp", "pp", "dp"];
  const FIELDS = [
    "model", "config", "gpu", "mode", "dtype", "kv_dtype", "batch", "seq", "attention", "logits",
    ...TRAINING, "tp", "pp", "dp", "zero", "cuda_context", "allocator_reserve",
  ];
  const MIB = 2 ** 20;

  // --- words ----------------------------------------------------------------------------
  function fill(template, args) {
    return template.replace(/\{(\w+)(!r)?\}/g, (_m, name, r) =>
      r ? "'" + String(args[name]) + "'" : String(args[name]),
    );
  }

  function message(error) {
    const gettext = (t) => data.templates[t] || t;
    const text = engine.format(error.text, gettext);
    const line = error.hint ? fill(W.error_hint, { message: text, hint: engine.format(error.hint, gettext) }) : text;
    return fill(W.error, { prog: "gpumem", message: line });
  }

  const fixed = (x, digits) =>
    x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const grouped = (n) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const unit = (bytes, size) => engine.toUnit(bytes, size);
  const gb = (bytes) => fixed(unit(bytes, 10n ** 9n), 2);
  const gib = (bytes) => fixed(unit(bytes, 2n ** 30n), 2);
  const percent = (x) => fixed(x * 100, 1) + "%";

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    }
    for (const child of [].concat(children || [])) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // --- the form ---------------------------------------------------------------------------
  function options(root) {
    const fmt = (name) => data.formats[name].label;
    const O = data.options;
    const choices = {
      model: Object.entries(data.models).map(([id, m]) => [id, m.name]),
      gpu: Object.entries(data.gpus).map(([id, g]) => [id, g.name]),
      mode: T.modes.map((m) => [m, data.modes[m]]),
      dtype: Object.keys(data.formats).map((f) => [f, fmt(f)]),
      kv_dtype: Object.keys(data.formats).map((f) => [f, fmt(f)]),
      attention: T.attention.map((a) => [a, O.attention[a]]),
      logits: T.logits.map((l) => [l, O.logits[l]]),
      precision: T.precisions.map((p) => [p, O.precision[p]]),
      optimizer: Object.entries(data.optimizers).map(([id, o]) => [id, o.label]),
      optimizer_impl: T.optimizer_impls.map((i) => [i, O.optimizer_impl[i]]),
      checkpointing: T.checkpointing.map((c) => [c, O.checkpointing[c]]),
      zero: ["0", "1", "2", "3"].map((z) => [z, z]),
    };
    const byDefault = {
      kv_dtype: W.kv_same,
      logits: O.logits.last,
      precision: O.precision.mixed,
      optimizer: data.optimizers.adamw.label,
      optimizer_impl: O.optimizer_impl.foreach,
      checkpointing: O.checkpointing.none,
    };
    const defaults = {};
    for (const [k, v] of Object.entries(byDefault)) defaults[k] = fill(W.default, { value: v });
    for (const [name, list] of Object.entries(choices)) {
      const select = root.querySelector(`[name="${name}"]`);
      if (OPTIONAL.includes(name)) select.append(el("option", { value: "" }, defaults[name]));
      for (const [value, label] of list) select.append(el("option", { value: value }, label));
    }
  }

  const START = { model: "llama-3.1-8b", gpu: "rtx-4090", mode: "inference", dtype: "bf16" };

  function setState(root, state) {
    for (const name of FIELDS) {
      const input = root.querySelector(`[name="${name}"]`);
      let value = state[name] !== undefined ? state[name] : START[name] || "";
      if (input.tagName === "SELECT") {
        if (value === "" && !OPTIONAL.includes(name)) value = input.options[0].value;
        if (![...input.options].some((o) => o.value === value)) {
          // A value from the address that no option has: kept, so the engine names it.
          input.append(el("option", { value: value }, value));
        }
      }
      input.value = value;
    }
  }

  function readState(root) {
    const state = {};
    for (const name of FIELDS) state[name] = root.querySelector(`[name="${name}"]`).value.trim();
    return state;
  }

  /** Python's round(): to the nearest integer, ties to even. */
  function roundEven(x) {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  function inputError(template, text) {
    return new engine.GpumemError({ template: template, args: { text: text }, text: fill(template, { text: text }) });
  }

  /** The workload's settings from the form: what the command line would be given. */
  function settings(state) {
    const out = { mode: state.mode, dtype: state.dtype, attention: state.attention };
    const training = state.mode === "training";
    for (const name of OPTIONAL) {
      const other = training ? ["logits", "kv_dtype"].includes(name) : TRAINING.includes(name);
      if (state[name] !== "" && !other) {
        out[name] = state[name];
      }
    }
    for (const name of COUNTS) {
      if (state[name] === "" || (!training && name === "lora_rank")) continue;
      if (!/^\+?\d+$/.test(state[name]) || BigInt(state[name]) < 1n) {
        throw inputError(W_EN.not_integer, state[name]);
      }
      out[name] = BigInt(state[name]);
    }
    if (state.zero !== "0") out.zero = BigInt(state.zero);
    if (state.cuda_context !== "") {
      const mib = Number(state.cuda_context);
      if (!Number.isFinite(mib) || mib < 0) {
        throw inputError(W_EN.not_size, state.cuda_context + "MiB");
      }
      out.cuda_context = BigInt(roundEven(mib * MIB));
    }
    if (state.allocator_reserve !== "") {
      const x = Number(state.allocator_reserve);
      if (!(x >= 0 && x < 1)) throw inputError(W_EN.not_fraction, state.allocator_reserve);
      out.allocator_reserve = x;
    }
    return out;
  }

  /** The equivalent `gpumem fit` command line. */
  function commandLine(state, given) {
    const model = state.config ? "config.json" : state.model;
    const parts = ["gpumem", "fit", model, "--gpu", state.gpu];
    for (const [name, value] of Object.entries(given)) {
      if (name === "mode" && value === "inference") continue;
      if (name === "dtype" && value === "bf16") continue;
      if (name === "attention" && value === "flash") continue;
      const flag = "--" + name.replace(/_/g, "-");
      const shown = name === "cuda_context" ? state.cuda_context + "MiB" : String(value);
      parts.push(flag, shown);
    }
    return parts.join(" ");
  }

  // --- the answer -------------------------------------------------------------------------
  function layoutText(fit) {
    const w = fit.estimate.workload;
    const parts = ["tp", "pp", "dp"].filter((n) => w[n] > 1n).map((n) => `${n}=${w[n]}`);
    if (w.zero) parts.push(`ZeRO-${w.zero}`);
    const count = w.tp * w.pp * w.dp;
    return `${count} × ${fit.gpu.name}` + (parts.length ? ` (${parts.join(", ")})` : "");
  }

  /** ``gpumem.report.number``: at most two decimals, no trailing zeros. */
  function number(x) {
    const text = fixed(x, 2);
    return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  }

  function verdict(fit, gpu) {
    const device = fill(W.device, {
      gpu: gpu.name,
      memory: gib(gpu.memory_bytes),
      basis: data.memory_bases[gpu.memory_basis] || gpu.memory_basis,
    });
    const missing = fit.headroom_bytes < 0n ? -fit.headroom_bytes : fit.headroom_bytes;
    if (fit.fits) return fill(W.fits, { device: device, gib: gib(missing), share: percent(fit.headroom) });
    const ratio = engine.toUnit(fit.estimate.total_bytes, gpu.memory_bytes);
    return fill(W.misses, { device: device, gib: gib(missing), ratio: number(ratio) });
  }

  function breakdown(e) {
    const total = e.total_bytes;
    const bar = el("div", { class: "gc-bar", "aria-hidden": "true" });
    const rows = [];
    for (const [name, bytes] of Object.entries(e.components)) {
      const label = data.components[name] || name;
      const share = engine.toUnit(bytes, total);
      bar.append(
        el("span", { class: `gc-seg gc-${name}`, style: `width:${share * 100}%`, title: `${label} ${percent(share)}` }),
      );
      rows.push(
        el("tr", { "data-component": name, "data-bytes": bytes }, [
          el("th", { scope: "row" }, [el("span", { class: `gc-key gc-${name}` }), label]),
          el("td", {}, gb(bytes)),
          el("td", {}, gib(bytes)),
          el("td", {}, percent(share)),
        ]),
      );
    }
    rows.push(
      el("tr", { class: "gc-total-row", "data-bytes": total }, [
        el("th", { scope: "row" }, W.total),
        el("td", {}, gb(total)),
        el("td", {}, gib(total)),
        el("td", {}, "100.0%"),
      ]),
    );
    const head = el("tr", {}, [W.component, "GB", "GiB", W.share].map((h) => el("th", { scope: "col" }, h)));
    const table = el("table", { class: "gc-table" }, [el("thead", {}, head), el("tbody", {}, rows)]);
    return [bar, table];
  }

  function render(root, model, gpu, w, state, given) {
    const a = engine.answer(model, gpu, w);
    const fit = a.fit;
    const e = fit.estimate;
    const none = W.none;
    const lines = [
      el("p", { class: "gc-total", "data-bytes": e.total_bytes }, fill(W.peak, { gb: gb(e.total_bytes), gib: gib(e.total_bytes) })),
      ...breakdown(e),
      el("p", { class: "gc-phase", "data-phase": e.phase }, fill(W.phase, { phase: data.phases[e.phase] })),
      el(
        "p",
        { class: fit.fits ? "gc-verdict gc-fits" : "gc-verdict gc-misses", "data-fits": fit.fits, "data-headroom": fit.headroom_bytes },
        verdict(fit, gpu),
      ),
      el(
        "p",
        { class: "gc-layout", "data-gpus": a.layout ? a.layout.estimate.workload.tp * a.layout.estimate.workload.pp * a.layout.estimate.workload.dp : "" },
        fill(W.layout, { layout: a.layout ? layoutText(a.layout) : W.no_layout }),
      ),
      el(
        "p",
        { class: "gc-max-batch", "data-value": a.max_batch === null ? "" : a.max_batch },
        fill(W.max_batch, { seq: grouped(e.workload.seq), batch: a.max_batch ? grouped(a.max_batch) : none }),
      ),
      el(
        "p",
        { class: "gc-max-context", "data-value": a.max_context === null ? "" : a.max_context },
        fill(W.max_context, {
          batch: e.workload.batch,
          tokens: a.max_context ? fill(W.tokens, { n: grouped(a.max_context) }) : none,
          window: grouped(model.max_context),
        }),
      ),
    ];
    if (w.mode === "inference") {
      const rate = engine.decodeTokensPerSecond(e, gpu);
      lines.push(el("p", { class: "gc-decode", "data-value": rate }, fill(W.decode, { rate: fixed(rate, 1) })));
    }
    const rule = engine.ruleOfThumb(model.parameters, w.dtype, w.mode);
    lines.push(
      el("p", { class: "gc-rule", "data-bytes": rule }, fill(W.rule, { factor: w.mode === "inference" ? "1.2" : "2", gb: gb(rule), gib: gib(rule) })),
    );
    const command = commandLine(state, given);
    const copy = el("button", { type: "button", class: "gc-copy" }, W.copy);
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(command).then(() => (copy.textContent = W.copied), () => {});
    });
    lines.push(
      el("div", { class: "gc-command" }, [
        el("p", {}, W.command),
        el("pre", {}, el("code", {}, command)),
        copy,
        el("p", { class: "gc-share" }, W.share_note),
      ]),
    );
    root.querySelector(".gc-result").replaceChildren(...lines);
  }

  function update(root) {
    const started = performance.now();
    const state = readState(root);
    const training = state.mode === "training";
    root.querySelector(".gc-training").disabled = !training;
    root.querySelector('[name="logits"]').disabled = training;
    root.querySelector('[name="kv_dtype"]').disabled = training;
    root.querySelector('[name="model"]').disabled = state.config !== "";
    const error = root.querySelector(".gc-error");
    try {
      const given = settings(state);
      const model = state.config
        ? engine.modelSpec(reader.readConfig(state.config, "config.json"))
        : engine.getModel(state.model);
      const gpu = engine.getGpu(state.gpu);
      const w = engine.workload(given);
      render(root, model, gpu, w, state, given);
      error.hidden = true;
      root.classList.remove("gc-failed");
    } catch (failure) {
      if (!(failure instanceof engine.GpumemError)) throw failure;
      error.textContent = message(failure);
      error.hidden = false;
      root.classList.add("gc-failed");
    }
    writeAddress(state);
    root.dataset.updateMs = (performance.now() - started).toFixed(2);
  }

  // --- the address ------------------------------------------------------------------------
  function readAddress() {
    const state = {};
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    for (const name of FIELDS) if (params.has(name)) state[name] = params.get(name);
    return state;
  }

  function writeAddress(state) {
    const params = new URLSearchParams();
    for (const name of FIELDS) if (state[name] !== "") params.set(name, state[name]);
    const hash = "#" + params.toString();
    if (window.location.hash === hash) return;
    try {
      window.history.replaceState(null, "", hash);
    } catch (_e) {
      window.location.replace(hash);
    }
  }

  function start(root) {
    options(root);
    setState(root, readAddress());
    const form = root.querySelector("form");
    form.addEventListener("input", () => update(root));
    form.addEventListener("change", () => update(root));
    form.addEventListener("submit", (event) => event.preventDefault());
    window.addEventListener("hashchange", () => {
      const state = readAddress();
      if (Object.keys(state).length) {
        setState(root, state);
        update(root);
      }
    });
    update(root);
  }

  document.querySelectorAll(".gpumem-calculator").forEach(start);
})();
