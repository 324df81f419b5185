/* The calculator's form: reads the inputs, asks the engine (gpumem/web/engine.js, on the
 * formulas generated from the symbolic model) or the llama.cpp planner (gpumem/web/offload.js)
 * and shows its answer. It computes nothing itself. The inputs live in the page address
 * (#model=…&gpu=…), so an answer can be shared.
 */
(function () {
  "use strict";
  const data = window.gpumemCalculatorData;
  const engine = window.gpumemEngine(window.gpumemFormulas, data);
  const reader = window.gpumemConfig(engine, data);
  const planner = window.gpumemOffload(window.gpumemFormulas, data, engine);
  const vllm = window.gpumemServe(window.gpumemFormulas, data, engine);
  const W = data.words;
  const W_EN = data.english; // message ids: the engine's errors are translated from English
  const T = data.tables;
  const OPTIONAL = [
    "kv_dtype", "logits", "precision", "optimizer", "optimizer_impl", "checkpointing", "prefix_caching",
    "language_model_only", "compile_cache", "wsl2",
  ];
  const TRAINING = ["precision", "optimizer", "optimizer_impl", "checkpointing", "lora_rank"];
  const COUNTS = ["batch", "seq", "lora_rank", "tp", "pp", "dp"];
  const ESTIMATE = [
    "model", "config", "gpu", "mode", "dtype", "kv_dtype", "batch", "seq", "attention", "logits",
    ...TRAINING, "tp", "pp", "dp", "zero", "cuda_context", "allocator_reserve",
  ];
  // The local question: model and GPU, then llama.cpp's settings.
  const LOCAL = ["gpus", "gguf", "ram", "ctx", "ctk", "fa", "swa", "ngl", "n_cpu_moe", "b", "ub"];
  // The serving question: model, GPU and formats, tp and pp, then vLLM's settings.
  const SERVING = [
    "gpu_memory_utilization", "max_model_len", "max_num_seqs", "max_num_batched_tokens",
    "block_size", "kv_cache_memory", "cudagraph_memory", "prefix_caching", "language_model_only",
    "mtp", "compile_cache", "wsl2", "engine",
  ];
  const FIELDS = ["view", ...ESTIMATE, "vram", ...LOCAL, ...SERVING];
  /** The fields each question reads (and the address keeps). */
  const SHOWN = {
    estimate: ["view", ...ESTIMATE, "vram"],
    offload: ["view", "model", "config", "gpu", "vram", ...LOCAL],
    serve: ["view", "model", "config", "gpu", "vram", "dtype", "kv_dtype", "tp", "pp", ...SERVING],
  };
  const VIEWS = Object.keys(SHOWN);
  /** GGUF weights a local user picks: llama.cpp's quantisations, and its 16-bit files. */
  const GGUF = [...Object.keys(data.formats).filter((f) => data.formats[f].kind === "gguf"), "fp16", "bf16"];
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
      view: VIEWS.map((v) => [v, W["view_" + v]]),
      gguf: GGUF.map((f) => [f, fmt(f)]),
      ctk: planner.KV_TYPES.map((k) => [k, k]),
      fa: ["on", "off"].map((v) => [v, W[v]]),
      swa: ["off", "on"].map((v) => [v, W[v]]),
      engine: Object.keys(data.serving.engines).map((id) => [id, W["engine_" + id] || id]),
      prefix_caching: ["on", "off"].map((v) => [v, W[v]]),
      language_model_only: [["on", W.on]],
      compile_cache: [["warm", W.compile_warm]],
      wsl2: [["on", W.wsl2_on]],
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
    defaults.prefix_caching = W.vllm_default;
    defaults.language_model_only = W.multimodal;
    defaults.compile_cache = W.compile_default;
    defaults.wsl2 = W.linux;
    for (const [name, list] of Object.entries(choices)) {
      const select = root.querySelector(`[name="${name}"]`);
      if (OPTIONAL.includes(name)) select.append(el("option", { value: "" }, defaults[name]));
      for (const [value, label] of list) select.append(el("option", { value: value }, label));
    }
  }

  const START = {
    view: "estimate", model: "llama-3.1-8b", gpu: "rtx-4090", mode: "inference", dtype: "bf16",
    gguf: data.offload.default_weights, ctk: "f16", fa: "on", swa: "off", engine: "vllm",
  };

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

  /** A count typed in a box: a positive integer, as the command line's type checks it. */
  function positive(text) {
    if (!/^\+?\d+$/.test(text) || BigInt(text) < 1n) throw inputError(W_EN.not_integer, text);
    return BigInt(text);
  }

  const UNITS = data.offload.size_units;
  const BY_LENGTH = Object.keys(UNITS).sort((a, b) => b.length - a.length);

  /** ``gpumem.cli._size``: bytes written with their unit (64GB, 0.5GiB), or 0. */
  function size(text) {
    let number = text.trim();
    let scale = 0;
    const unit = BY_LENGTH.find((u) => number.endsWith(u));
    if (unit !== undefined) {
      number = number.slice(0, -unit.length).trim();
      scale = UNITS[unit];
    }
    const value = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(number) ? Number(number) : -1;
    if (value === 0 && !number.startsWith("-")) return 0n;
    if (!(scale && value >= 0 && value < Infinity)) throw inputError(W_EN.not_size, text);
    return BigInt(roundEven(value * scale));
  }

  /** ``gpumem.cli._budget`` (``--vram``): a GPU that has the typed memory and nothing else
   * known; its id is the size as the page's command line writes it (without spaces). */
  function budget(text) {
    const bytes = size(text);
    if (!bytes) throw inputError(W_EN.not_vram, text);
    const unit = BY_LENGTH.find((u) => text.trim().endsWith(u));
    return {
      id: text.replace(/\s+/g, ""),
      name: text.trim().slice(0, -unit.length).trim() + " " + unit,
      memory_basis: "given",
      memory_bytes: bytes,
      bandwidth_bytes_per_s: 0n,
      unified_memory: false,
      gpu_working_set_bytes: null,
      multiprocessors: null,
      compute_capability: null,
      dense_peak_tflops: null,
    };
  }

  /** The GPU of the form: typed by its memory (``--vram``), else chosen from the catalog. */
  const gpuOf = (state) => (state.vram ? budget(state.vram) : engine.getGpu(state.gpu));
  const gpuFlag = (state) => (state.vram ? ["--vram", state.vram.replace(/\s+/g, "")] : ["--gpu", state.gpu]);

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
      out[name] = positive(state[name]);
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
    const parts = ["gpumem", "fit", model, ...gpuFlag(state)];
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
      // a GPU known only by its memory (--vram) has no bandwidth: no ceiling, as offload's
      const rate = gpu.bandwidth_bytes_per_s ? engine.decodeTokensPerSecond(e, gpu) : null;
      const shown = rate === null ? "—" : fixed(rate, 1);
      lines.push(el("p", { class: "gc-decode", "data-value": rate === null ? "" : rate }, fill(W.decode, { rate: shown })));
    }
    const rule = engine.ruleOfThumb(model.parameters, w.dtype, w.mode);
    lines.push(
      el("p", { class: "gc-rule", "data-bytes": rule }, fill(W.rule, { factor: w.mode === "inference" ? "1.2" : "2", gb: gb(rule), gib: gib(rule) })),
    );
    lines.push(commandBlock(commandLine(state, given)));
    root.querySelector(".gc-result").replaceChildren(...lines);
  }

  /** The gpumem command line that gives the same answer, with a button that copies it. */
  function commandBlock(command) {
    const copy = el("button", { type: "button", class: "gc-copy" }, W.copy);
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(command).then(() => (copy.textContent = W.copied), () => {});
    });
    return el("div", { class: "gc-command" }, [
      el("p", {}, W.command),
      el("pre", {}, el("code", {}, command)),
      copy,
      el("p", { class: "gc-share" }, W.share_note),
    ]);
  }

  // --- the local question: llama.cpp on GPUs and the CPU ------------------------------------
  const listed = (text) => text.split(",").map((g) => g.trim()).filter(Boolean);
  /** The GPUs in llama.cpp's order: those typed by their memory (each a ``--vram``), else the
   * one chosen, then the others by their ids. */
  const gpusOf = (state) => [...(state.vram ? listed(state.vram).map(budget) : [state.gpu]), ...listed(state.gpus)];

  /** The planner's options from the form: what `gpumem offload` would be given. */
  function localOptions(state) {
    const out = {
      dtype: state.gguf,
      kv_dtype: state.ctk,
      flash_attn: state.fa !== "off",
      swa_full: state.swa === "on",
    };
    for (const [name, key] of [["ctx", "ctx"], ["b", "batch"], ["ub", "ubatch"]]) {
      if (state[name] !== "") out[key] = positive(state[name]);
    }
    for (const name of ["ngl", "n_cpu_moe"]) {
      if (state[name] === "") continue;
      if (!/^[+-]?\d+$/.test(state[name])) throw inputError(W_EN.not_integer, state[name]);
      out[name] = BigInt(state[name]);
    }
    if (state.ram !== "") out.ram = size(state.ram);
    return out;
  }

  /** The equivalent `gpumem offload` command line. */
  function localCommand(state, gpus) {
    const model = state.config ? "config.json" : state.model;
    const flag = (g) => (typeof g === "string" ? ["--gpu", g] : ["--vram", g.id]);
    const parts = ["gpumem", "offload", model, ...gpus.flatMap(flag)];
    if (state.gguf !== data.offload.default_weights) parts.push("--dtype", state.gguf);
    if (state.ram !== "") parts.push("--ram", state.ram.replace(/\s+/g, ""));
    const counts = [["ctx", "--ctx"], ["b", "--batch"], ["ub", "--ubatch"], ["ngl", "--ngl"], ["n_cpu_moe", "--n-cpu-moe"]];
    for (const [name, flag] of counts) if (state[name] !== "") parts.push(flag, state[name]);
    if (state.ctk !== "f16") parts.push("--kv-dtype", state.ctk);
    if (state.fa === "off") parts.push("--no-flash-attn");
    if (state.swa === "on") parts.push("--swa-full");
    return parts.join(" ");
  }

  /** Bytes per device, as `gpumem offload` prints them (each row keeps its bytes). */
  function deviceTable(p) {
    const columns = ["device", "layers", "weights", "kv", "compute", "reserve", "total", "capacity"];
    const head = el("tr", {}, columns.map((c) => el("th", { scope: "col" }, W["col_" + c])));
    const rows = p.devices.map((d) => {
      const last = d.layers.length - 1;
      const span = (last >= 0 ? `${d.layers[0]}-${d.layers[last]}` : "—") + (d.output ? " +out" : "");
      const total = planner.totalBytes(d);
      const held = [d.weights_bytes, d.kv_bytes, d.compute_bytes, d.reserve_bytes, total];
      const capacity = d.capacity_bytes === null ? "" : d.capacity_bytes;
      return el(
        "tr",
        {
          "data-device": d.name, "data-layers": d.layers.length, "data-output": d.output,
          "data-weights": d.weights_bytes, "data-kv": d.kv_bytes, "data-compute": d.compute_bytes,
          "data-reserve": d.reserve_bytes, "data-total": total, "data-capacity": capacity,
          "data-fits": planner.deviceFits(d),
        },
        [
          el("th", { scope: "row" }, d.name),
          el("td", {}, span),
          ...held.map((b) => el("td", {}, gib(b))),
          el("td", {}, capacity === "" ? "—" : gib(capacity)),
        ],
      );
    });
    return el("table", { class: "gc-table gc-devices" }, [el("thead", {}, head), el("tbody", {}, rows)]);
  }

  function renderLocal(root, state) {
    const gpus = gpusOf(state);
    const model = modelOf(state);
    const p = planner.plan(model, gpus, localOptions(state));
    const L = model.n_layers;
    const fits = planner.fits(p);
    const lines = [
      el("p", { class: "gc-local-head" }, [p.model, "llama.cpp", `-c ${grouped(p.ctx)}`, `KV ${p.kv_dtype}`].join(" · ")),
      el(
        "p",
        { class: "gc-ngl", "data-ngl": p.ngl, "data-n-cpu-moe": p.n_cpu_moe },
        p.ngl ? fill(W.ngl_line, { ngl: p.ngl, slots: L + 1n, n: p.ngl > 1n ? p.ngl - 1n : 0n, layers: L }) : W.ngl_zero,
      ),
    ];
    if (p.n_cpu_moe) {
      lines.push(el("p", { class: "gc-cpu-moe" }, fill(W.cpu_moe_line, { last: p.n_cpu_moe - 1n, n: p.n_cpu_moe })));
    }
    lines.push(
      deviceTable(p),
      el(
        "p",
        { class: fits ? "gc-verdict gc-fits" : "gc-verdict gc-misses", "data-fits": fits, "data-max-ctx": p.max_ctx },
        (fits ? W.placed : W.not_placed) + " · " + fill(W.max_ctx, { n: grouped(p.max_ctx) }),
      ),
      el("div", { class: "gc-command gc-llama" }, [
        el("p", {}, W.llama_flags),
        el("pre", {}, el("code", { class: "gc-flags" }, "llama-cli -m MODEL.gguf " + planner.flags(p).join(" "))),
      ]),
    );
    const ot = planner.overrideTensor(p);
    if (ot) lines.push(el("p", { class: "gc-ot", "data-ot": ot }, fill(W.override, { ot: ot })));
    const prefill = p.prefill_ceiling === null ? "—" : fixed(p.prefill_ceiling, 0);
    const decode = p.decode_ceiling === null ? "—" : fixed(p.decode_ceiling, 1);
    lines.push(
      el(
        "p",
        {
          class: "gc-ceilings",
          "data-decode": p.decode_ceiling === null ? "" : p.decode_ceiling,
          "data-prefill": p.prefill_ceiling === null ? "" : p.prefill_ceiling,
        },
        fill(W.ceilings, { decode: decode, prefill: prefill }),
      ),
    );
    if (!p.exact) lines.push(el("p", { class: "gc-inexact" }, W.inexact));
    if (p.vision_parameters) {
      lines.push(el("p", { class: "gc-vision" }, fill(W.vision, { n: grouped(p.vision_parameters) })));
    }
    lines.push(commandBlock(localCommand(state, gpus)));
    root.querySelector(".gc-result").replaceChildren(...lines);
  }

  // --- the serving question: what vLLM reserves at startup ---------------------------------
  /** vLLM's settings from the form: what `gpumem serve` would be given. */
  function serveOptions(state) {
    const out = { dtype: state.dtype, kv_dtype: state.kv_dtype || null, engine_id: state.engine };
    for (const name of ["tp", "pp", "max_num_seqs", "max_num_batched_tokens", "block_size"]) {
      if (state[name] !== "") out[name] = positive(state[name]);
    }
    const length = state.max_model_len;
    if (length !== "") out.max_model_len = length === "auto" ? "auto" : positive(length);
    if (state.gpu_memory_utilization !== "") out.gpu_memory_utilization = Number(state.gpu_memory_utilization);
    if (state.kv_cache_memory !== "") out.kv_cache_memory = size(state.kv_cache_memory);
    if (state.cudagraph_memory !== "") out.cudagraph_memory = size(state.cudagraph_memory);
    out.enable_prefix_caching = prefixCaching(state.prefix_caching);
    // --language-model-only or not; a value from the address that is neither goes on, so
    // serve() names it
    const textOnly = state.language_model_only;
    out.language_model_only = textOnly === "" ? false : textOnly === "on" ? true : textOnly;
    // --speculative-config '{"method": "mtp", "num_speculative_tokens": N}'
    if (state.mtp !== "") out.speculative_config = { method: "mtp", num_speculative_tokens: positive(state.mtp) };
    // --compile-cache: a restart that loads the compiled model; by default a first start
    if (state.compile_cache !== "") out.compile_cache = state.compile_cache;
    // --wsl2: CUDA under WSL2 reports the card's whole memory; a value from the address that
    // is not the choice goes on, so serve() names it
    out.wsl2 = state.wsl2 === "" ? false : state.wsl2 === "on" ? true : state.wsl2;
    return out;
  }

  /** Prefix caching as the command line's flags give it to serve(): on, off, or vLLM's
   * default (null); a value from the address that is neither goes on, so serve() names it. */
  function prefixCaching(choice) {
    const given = new Map([["", null], ["on", true], ["off", false]]);
    return given.has(choice) ? given.get(choice) : choice;
  }

  /** The equivalent `gpumem serve` command line. */
  function serveCommand(state) {
    const model = state.config ? "config.json" : state.model;
    const parts = ["gpumem", "serve", model, ...gpuFlag(state)];
    for (const name of ["tp", "pp", "dtype", "kv_dtype", ...SERVING]) {
      const value = state[name].replace(/\s+/g, "");
      if (value === "" || (name === "dtype" && value === "bf16") || (name === "engine" && value === "vllm")) continue;
      if (name === "prefix_caching") parts.push(value === "off" ? "--no-enable-prefix-caching" : "--enable-prefix-caching");
      else if (name === "language_model_only") parts.push("--language-model-only");
      else if (name === "wsl2") parts.push("--wsl2");
      else if (name === "mtp") parts.push("--speculative-config", `'{"method":"mtp","num_speculative_tokens":${value}}'`);
      else parts.push("--" + name.replace(/_/g, "-"), value);
    }
    return parts.join(" ");
  }

  function renderServe(root, state) {
    const model = modelOf(state);
    // text only applies to a model whose vision encoder gpumem profiles; a choice already
    // made stays open, so that the refusal it meets can be undone
    const textOnly = root.querySelector('[name="language_model_only"]');
    textOnly.disabled = state.language_model_only === "" && !vllm.profilesEncoder(model);
    // draft tokens only for a model with an MTP module, the same way
    root.querySelector('[name="mtp"]').disabled = state.mtp === "" && !model.mtp_layers;
    const gpu = gpuOf(state);
    const o = serveOptions(state);
    const r = vllm.serve(model, gpu, o);
    const device = fill(W.device, {
      gpu: gpu.name,
      memory: gib(gpu.memory_bytes),
      basis: data.memory_bases[gpu.memory_basis] || gpu.memory_basis,
    });
    const layout = `tp=${o.tp || 1n}, pp=${o.pp || 1n}`;
    const row = vllm.engineNamed(o.engine_id);
    const version = "vLLM " + (W["engine_" + row] || row);
    const lines = [el("p", { class: "gc-serve-head", "data-engine": row }, [model.name, version, device, layout].join(" · "))];
    // the model runner assumed (gpumem.report's line): the one the release runs the model with
    lines.push(el("p", { class: "gc-serve-runner", "data-runner": r.model_runner }, W["runner_" + r.model_runner]));
    const fits = vllm.fits(r);
    const printed = [
      ["weights", W.loading, { gib: gib(r.weights_bytes) }, r.weights_bytes],
      ["available", W.available_kv, { gib: gib(r.available_kv_bytes) }, r.available_kv_bytes],
      ["tokens", W.kv_size, { tokens: grouped(r.kv_tokens) }, r.kv_tokens],
      ["concurrency", W.concurrency, { tokens: grouped(r.max_model_len), x: r.max_concurrency.toFixed(2) }, r.max_concurrency],
    ];
    const log = printed.map(([key, template, args, value]) => el("span", { class: "gc-log-" + key, "data-value": value }, fill(template, args) + "\n"));
    lines.push(el("pre", { class: "gc-log" }, log));
    if (r.num_speculative_tokens) {
      const drafter = { n: grouped(r.num_speculative_tokens), gib: gib(r.drafter_weights_bytes) };
      lines.push(el("p", { class: "gc-drafter", "data-value": r.drafter_weights_bytes }, fill(W.drafter, drafter)));
    }
    let verdict;
    if (fits) verdict = fill(W.starts, { longest: grouped(r.longest_request) });
    else if (r.longest_request) verdict = fill(W.no_start, { tokens: grouped(r.max_model_len), longest: r.longest_request });
    else verdict = W.no_kv;
    lines.push(
      el("p", { class: fits ? "gc-verdict gc-fits" : "gc-verdict gc-misses", "data-fits": fits, "data-longest": r.longest_request }, verdict),
    );
    const held = data.serve_lengths
      .filter((n) => fits && BigInt(n) < r.max_model_len)
      .map((n) => fill(W.held_at, { tokens: grouped(n), n: number(vllm.concurrency(r, BigInt(n))) }));
    if (held.length) lines.push(el("p", { class: "gc-held" }, fill(W.held, { list: held.join(", ") })));
    // the start the figures are for and the other start's tokens (gpumem.report's line); the
    // choice is closed on the first runner while it is gpumem's default
    root.querySelector('[name="compile_cache"]').disabled = state.compile_cache === "" && r.model_runner === "v1";
    if (r.other_start_kv_tokens !== null) {
      const start = { gib: gib(r.compile_transient_bytes), tokens: grouped(r.kv_tokens), other: grouped(r.other_start_kv_tokens) };
      const attrs = { class: "gc-serve-start", "data-start": r.compile_cache, "data-other": r.other_start_kv_tokens };
      lines.push(el("p", attrs, fill(W["start_" + r.compile_cache], start)));
    }
    lines.push(commandBlock(serveCommand(state)));
    root.querySelector(".gc-result").replaceChildren(...lines);
  }

  /** Each question shows its own fields, and the boxes that hold any of them. */
  function showView(root, view) {
    if (root.dataset.view === view) return;
    root.dataset.view = view;
    const shown = SHOWN[view];
    for (const name of FIELDS) {
      root.querySelector(`[name="${name}"]`).closest(".gc-field").hidden = !shown.includes(name);
    }
    for (const part of root.querySelectorAll("fieldset, .gc-config")) {
      part.hidden = ![...part.querySelectorAll("[name]")].some((f) => shown.includes(f.name));
    }
  }

  function update(root) {
    const started = performance.now();
    const state = readState(root);
    const view = SHOWN[state.view] ? state.view : "estimate";
    const local = view === "offload";
    showView(root, view);
    const training = view === "estimate" && state.mode === "training";
    root.querySelector(".gc-training").disabled = !training;
    root.querySelector('[name="logits"]').disabled = training;
    root.querySelector('[name="kv_dtype"]').disabled = training;
    root.querySelector('[name="model"]').disabled = state.config !== "";
    root.querySelector('[name="gpu"]').disabled = SHOWN[view].includes("vram") && state.vram !== "";
    const error = root.querySelector(".gc-error");
    try {
      if (local) renderLocal(root, state);
      else if (view === "serve") renderServe(root, state);
      else answer(root, state);
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

  /** The catalog model chosen, or the model of the pasted config.json. */
  function modelOf(state) {
    return state.config
      ? engine.modelSpec(reader.readConfig(state.config, "config.json"))
      : engine.getModel(state.model);
  }

  /** The memory question: `gpumem fit`'s answer. */
  function answer(root, state) {
    const given = settings(state);
    const model = modelOf(state);
    const gpu = gpuOf(state);
    const w = engine.workload(given);
    render(root, model, gpu, w, state, given);
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
    const view = SHOWN[state.view] ? state.view : "estimate";
    for (const name of SHOWN[view]) {
      if (state[name] !== "" && !(name === "view" && view === "estimate")) {
        params.set(name, state[name]);
      }
    }
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
