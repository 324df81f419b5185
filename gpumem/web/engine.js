/* The calculator's engine: gpumem.estimate, gpumem.solve and the checks of gpumem.workload,
 * step for step, on the formulas generated from the symbolic model (formulas.js) and the
 * catalogs and tables exported from the package (calculator data). It holds no formula.
 *
 * Numbers keep Python's types: an int is a BigInt, a float a Number, so every result equals
 * the command line's to the byte. Functions are named after the Python ones they follow.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory;
  else root.gpumemEngine = factory;
})(typeof self !== "undefined" ? self : this, function (fx, data) {
  "use strict";
  const rt = fx.runtime;
  const T = data.tables;
  const int = (x) => BigInt(x);

  // --- errors (gpumem.errors): an English message from a template, translatable ----------
  class GpumemError extends Error {
    constructor(message, hint) {
      super(message.text);
      this.text = message;
      this.hint = hint || null;
    }
  }

  /** A Text of gpumem.errors: a template and its arguments. */
  function text(template, args) {
    const t = { template: template, args: args || {} };
    t.text = format(t, (s) => s);
    return t;
  }

  /** Python's repr of a str, an int or a float. */
  function repr(value) {
    if (typeof value === "string") {
      const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
      return quote + value.replace(/\\/g, "\\\\").split(quote).join("\\" + quote) + quote;
    }
    return pyNumber(value);
  }

  /** A Python number as Python prints it (an integral float keeps its ".0"). */
  function pyNumber(value) {
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "number") {
      const s = String(value);
      return Number.isInteger(value) && !/[e.]/.test(s) ? s + ".0" : s;
    }
    return String(value);
  }

  /** A template filled in as str.format does, for {x}, {x!r} and {x:,}; the template and
   * Text arguments are translated with ``gettext`` first. */
  function format(t, gettext) {
    return gettext(t.template).replace(/\{(\w+)(!r)?(:,)?\}/g, (_m, name, r, comma) => {
      const value = t.args[name];
      if (value && typeof value === "object" && "template" in value) return format(value, gettext);
      if (r) return repr(value);
      if (comma) return groupDigits(value);
      return typeof value === "string" ? value : pyNumber(value);
    });
  }

  function groupDigits(value) {
    return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function invalidValue(name, value, accepted) {
    return new GpumemError(
      text("invalid {name} {value!r}: expected {accepted}", {
        name: name,
        value: value,
        accepted: accepted,
      }),
    );
  }

  function unknownName(kind, value, accepted) {
    const names = Array.from(accepted);
    const hint =
      names.length <= 24
        ? text("accepted: {names}", { names: names.join(", ") })
        : text("{n} {kind}s are known; list them with `{command}`", {
            n: int(names.length),
            kind: text(kind),
            command: `gpumem ${kind}s`,
          });
    return new GpumemError(
      text("unknown {kind} {value!r}", { kind: text(kind), value: value }),
      hint,
    );
  }

  // --- number formats (gpumem.precision) --------------------------------------------------
  function getFormat(name) {
    let key = String(name).toLowerCase();
    key = data.aliases[key] || key;
    const fmt = data.formats[key];
    if (!fmt) throw unknownName("dtype", String(name), Object.keys(data.formats));
    return { name: key, label: fmt.label, kind: fmt.kind, ratio: fmt.bits.map(int) };
  }

  /** ``_bytes_per_value``: numerator / (8 * denominator). */
  function bytesPerValue(fmt) {
    return rt.$div(fmt.ratio[0], rt.$mul(8n, fmt.ratio[1]));
  }

  // --- the workload (gpumem.workload) -------------------------------------------------------
  function getOptimizer(name) {
    const key = String(name).toLowerCase();
    const row = data.optimizers[key];
    if (!row) throw unknownName("optimizer", String(name), Object.keys(data.optimizers));
    return {
      name: key,
      label: row.label,
      states_per_param: int(row.states_per_param),
      factored: row.factored,
      state_bytes: row.state_bytes,
    };
  }

  const DEFAULTS = {
    mode: "inference",
    dtype: "bf16",
    kv_dtype: null,
    batch: 1n,
    seq: null,
    precision: null,
    optimizer: null,
    optimizer_impl: null,
    checkpointing: null,
    attention: "flash",
    logits: null,
    lora_rank: null,
    dp: 1n,
    tp: 1n,
    pp: 1n,
    zero: 0n,
    cuda_context: int(T.default_cuda_context),
    allocator_reserve: T.default_allocator_reserve,
  };

  function choice(name, value, accepted) {
    if (!accepted.includes(value)) throw unknownName(name, String(value), accepted);
  }

  function positiveInt(name, value) {
    if (typeof value !== "bigint" || value < 1n) {
      throw invalidValue(name, value, text("a positive integer"));
    }
  }

  /** ``Workload(**settings)``: the fields with their defaults, checked. */
  function workload(settings) {
    const w = Object.assign({}, DEFAULTS);
    for (const [key, value] of Object.entries(settings || {})) {
      if (!(key in DEFAULTS)) throw new Error(`unknown workload field ${key}`);
      w[key] = value;
    }
    checkWorkload(w);
    return Object.freeze(w);
  }

  function withChanges(w, changes) {
    return workload(Object.assign({}, w, changes));
  }

  function checkWorkload(w) {
    choice("mode", w.mode, T.modes);
    getFormat(w.dtype);
    if (w.kv_dtype !== null) getFormat(w.kv_dtype);
    for (const name of ["batch", "dp", "tp", "pp"]) positiveInt(name, w[name]);
    if (w.seq !== null) positiveInt("seq", w.seq);
    if (w.lora_rank !== null) positiveInt("lora_rank", w.lora_rank);
    if (typeof w.zero !== "bigint" || w.zero < 0n || w.zero > 3n) {
      throw invalidValue("zero", w.zero, text("a ZeRO stage 0, 1, 2 or 3"));
    }
    choice("attention", w.attention, T.attention);
    if (typeof w.cuda_context !== "bigint" || w.cuda_context < 0n) {
      throw invalidValue("cuda_context", w.cuda_context, text("bytes, an integer >= 0"));
    }
    if (!(w.allocator_reserve >= 0 && w.allocator_reserve < 1)) {
      throw invalidValue("allocator_reserve", w.allocator_reserve, text("0 <= x < 1"));
    }
    if (w.mode === "training") checkTraining(w);
    else checkInference(w);
  }

  function checkTraining(w) {
    const dtype = getFormat(w.dtype).name;
    if (w.lora_rank === null && !T.training_dtypes.includes(dtype)) {
      throw invalidValue(
        "dtype",
        w.dtype,
        text("one of {dtypes} for training (a quantised base needs lora_rank: QLoRA)", {
          dtypes: T.training_dtypes.join(", "),
        }),
      );
    }
    if (w.precision !== null) {
      choice("precision", w.precision, T.precisions);
      if (w.precision !== "pure" && dtype === "fp32") {
        throw invalidValue(
          "precision",
          w.precision,
          text("'pure' with dtype fp32 (mixed and amp need a 16-bit dtype)"),
        );
      }
    }
    if (w.optimizer !== null) getOptimizer(w.optimizer);
    if (w.optimizer_impl !== null) choice("optimizer_impl", w.optimizer_impl, T.optimizer_impls);
    if (w.checkpointing !== null) choice("checkpointing", w.checkpointing, T.checkpointing);
    if (w.logits !== null) {
      throw invalidValue("logits", w.logits, text("nothing in training (all are kept)"));
    }
  }

  function checkInference(w) {
    for (const name of ["precision", "optimizer", "optimizer_impl", "checkpointing", "lora_rank"]) {
      if (w[name] !== null) {
        throw invalidValue(name, w[name], text("nothing: it applies to training"));
      }
    }
    if (w.zero) {
      throw invalidValue("zero", w.zero, text("0 for inference (ZeRO shards training state)"));
    }
    if (w.logits !== null) choice("logits", w.logits, T.logits);
  }

  const resolvedPrecision = (w) =>
    w.precision !== null ? w.precision : getFormat(w.dtype).name === "fp32" ? "pure" : "mixed";
  const resolvedOptimizer = (w) => getOptimizer(w.optimizer || "adamw");
  const resolvedCheckpointing = (w) => w.checkpointing || "none";
  const resolvedLogits = (w) => w.logits || "last";

  // --- models --------------------------------------------------------------------------------
  /** A model spec with its counts as BigInt (from the catalog or a parsed config): every
   * number of a model is a count. */
  function modelSpec(fields) {
    const m = Object.assign({}, fields);
    for (const [key, value] of Object.entries(fields)) {
      if (typeof value === "number") m[key] = int(value);
    }
    if (m.active_parameters === 0n) m.active_parameters = m.parameters;
    m.is_moe = m.n_experts > 0n;
    m.uses_mla = m.kv_lora_rank > 0n;
    return Object.freeze(m);
  }

  function getModel(id) {
    const key = String(id).toLowerCase();
    const found = Object.keys(data.models).find((name) => name.toLowerCase() === key);
    if (found === undefined) throw unknownName("model", String(id), Object.keys(data.models));
    return modelSpec(data.models[found]);
  }

  function getGpu(id) {
    const key = String(id).toLowerCase();
    const found = Object.keys(data.gpus).find((name) => name.toLowerCase() === key);
    if (found === undefined) throw unknownName("gpu", String(id), Object.keys(data.gpus));
    const g = data.gpus[found];
    return {
      id: found,
      name: g.name,
      memory_basis: g.memory_basis,
      memory_bytes: int(g.memory_bytes),
      bandwidth_bytes_per_s: int(g.bandwidth_bytes_per_s),
    };
  }

  // --- the estimate (gpumem.estimate) ------------------------------------------------------
  function call(name, values) {
    const [fn, args] = fx.formulas[name];
    return fn(
      ...args.map((k) => {
        if (values[k] === undefined) throw new Error(`${name} needs ${k}`);
        return values[k];
      }),
    );
  }

  function bytesOf(counts, b_a) {
    const c = (key) => int(counts[key] || 0);
    return call("saved_bytes_per_element", {
      b_a: b_a,
      c_a: c("act"),
      c_32: c("fp32"),
      c_1: c("byte"),
      c_u: c("upcast"),
    });
  }

  function profile(m, amp) {
    const p = data.profiles[m.family] || data.profiles.llama;
    return amp ? p.amp : p.plain;
  }

  function mlpWidth(m) {
    if (!m.is_moe) return m.intermediate_size;
    return (
      m.n_experts_active * m.moe_intermediate_size +
      m.n_shared_experts * m.shared_intermediate_size
    );
  }

  function linearFeatures(m) {
    const q = m.n_heads * m.head_dim;
    const kv = m.n_kv_heads * m.head_dim;
    const attention = (m.hidden_size + q) * 2n + (m.hidden_size + kv) * 2n;
    const mlp = (m.gated_mlp ? 3n : 2n) * (m.hidden_size + mlpWidth(m));
    return attention + mlp;
  }

  function checkAgainstModel(m, w) {
    if (w.seq > m.max_context) {
      throw invalidValue(
        "seq",
        w.seq,
        text("at most the context window of {model}, {tokens:,} tokens", {
          model: m.name,
          tokens: m.max_context,
        }),
      );
    }
    if (m.n_heads % w.tp) {
      throw new GpumemError(
        text("tp={tp} does not divide the {heads} attention heads of {model}", {
          tp: w.tp,
          heads: m.n_heads,
          model: m.name,
        }),
        text("use a tp that divides {heads}", { heads: m.n_heads }),
      );
    }
    if (w.pp > m.n_layers) {
      throw new GpumemError(
        text("pp={pp} is more than the {layers} layers of {model}", {
          pp: w.pp,
          layers: m.n_layers,
          model: m.name,
        }),
      );
    }
  }

  function modelSymbols(m, w) {
    checkAgainstModel(m, w);
    const act = getFormat(w.dtype);
    const [bits, per] = act.ratio;
    const b_a = act.kind === "float" && bits >= 16n * per ? bytesPerValue(act) : 2.0;
    const kv = w.kv_dtype !== null ? getFormat(w.kv_dtype) : null;
    const v = {
      P: m.parameters,
      P_a: m.active_parameters,
      L: m.n_layers,
      h: m.hidden_size,
      n_h: m.n_heads,
      n_kv: m.n_kv_heads,
      d_h: m.head_dim,
      f: mlpWidth(m),
      n_e: m.is_moe ? m.n_experts : 0n,
      k_e: m.is_moe ? m.n_experts_active : 0n,
      V: m.vocab_size,
      L_w: m.n_sliding_layers,
      w: m.sliding_window || 1n,
      F: linearFeatures(m),
      B: w.batch,
      s: w.seq,
      b_w: bytesPerValue(getFormat(w.dtype)),
      b_kv: kv ? bytesPerValue(kv) : b_a,
      b_a: b_a,
      N_dp: w.dp,
      N_tp: w.tp,
      N_pp: w.pp,
      z_1: w.zero >= 1n ? 1n : 0n,
      z_2: w.zero >= 2n ? 1n : 0n,
      z_3: w.zero >= 3n ? 1n : 0n,
    };
    if (m.causal) {
      v.e_kv = m.uses_mla
        ? call("kv_values_mla", { c_kv: m.kv_lora_rank, d_r: m.qk_rope_head_dim })
        : call("kv_values_gqa", { n_kv: m.n_kv_heads, d_h: m.head_dim, N_tp: w.tp });
    } else {
      v.e_kv = 0n;
    }
    return v;
  }

  function activationSymbols(m, w, b_a) {
    const amp = resolvedPrecision(w) === "amp" && w.lora_rank === null;
    const p = profile(m, amp);
    const fused = w.attention === "flash" || resolvedCheckpointing(w) === "selective";
    const out = {};
    for (const [shape, key] of Object.entries(T.shapes)) {
      out[`a_${key}`] = bytesOf(p.saved[shape] || {}, b_a);
    }
    if (fused) out.a_s = 0.0;
    out.a_i = bytesOf(p.checkpoint_input, b_a);
    out.g_c = resolvedCheckpointing(w) === "full" ? 1n : 0n;
    out.l_f = bytesOf(p.logits.forward, b_a);
    out.l_b = bytesOf(p.logits.backward, b_a);
    out.P_m = m.parameters - m.embedding_parameters + m.vocab_size * m.hidden_size;
    out.b_c = amp ? b_a : 0.0;
    return out;
  }

  function inferenceSymbols(m, w, b_a) {
    const p = profile(m, false);
    const work = p.inference;
    return {
      i_h: bytesOf(work.h, b_a),
      i_f: bytesOf(work.f, b_a),
      i_r: bytesOf(work.routed || {}, b_a),
      i_s: w.attention === "flash" ? 0.0 : bytesOf(work.scores, b_a),
      s_l: resolvedLogits(w) === "last" ? 1n : w.seq,
      l_i: bytesOf(p.logits.inference, b_a),
    };
  }

  function trainingSymbols(m, w, v) {
    const precision = resolvedPrecision(w);
    const optimizer = resolvedOptimizer(w);
    const b_dtype = bytesPerValue(getFormat(w.dtype));
    const lora = w.lora_rank !== null;
    const b_train = lora || precision === "mixed" || precision === "amp" ? 4.0 : b_dtype;
    const trainable = lora
      ? call("lora_parameters", { L: m.n_layers, F: v.F, r: w.lora_rank })
      : m.parameters;
    return Object.assign(
      {
        P_t: trainable,
        R: m.n_layers * linearFeatures(m) + (lora ? 0n : m.vocab_size + m.hidden_size),
        b_w: precision === "amp" && !lora ? 4.0 : v.b_w,
        b_l: lora ? b_train : 0.0,
        b_g: lora || precision === "amp" ? b_train : b_dtype,
        b_m: precision === "mixed" && !lora ? 4.0 : 0.0,
        b_o: optimizer.state_bytes !== null ? optimizer.state_bytes : b_train,
        n_o: optimizer.states_per_param,
        n_f: optimizer.factored ? 1n : 0n,
        t_o: (w.optimizer_impl || "foreach") === "foreach" ? 1n : 0n,
      },
      activationSymbols(m, w, v.b_a),
    );
  }

  function symbolValues(m, w) {
    const v = modelSymbols(m, w);
    const training = w.mode === "training";
    Object.assign(v, training ? trainingSymbols(m, w, v) : inferenceSymbols(m, w, v.b_a));
    return v;
  }

  function evaluate(names, values) {
    const v = Object.assign({}, values);
    for (const name of names) v[name] = call(name, v);
    return v;
  }

  /** Python's ``max(keys, key=table.__getitem__)``: the first key of the largest value. */
  function argmax(keys, table) {
    let best = keys[0];
    for (const k of keys.slice(1)) if (table[k] > table[best]) best = k;
    return best;
  }

  function components(v, training) {
    const phases = {};
    if (training) for (const p of ["forward", "backward", "optimizer"]) phases[p] = v[`phase_${p}`];
    const phase = training ? argmax(Object.keys(phases), phases) : "prefill";
    const live = Object.assign({}, T.live[phase]);
    if (phase in T.larger_of) {
      const larger = argmax(Object.keys(T.larger_of[phase]), v);
      live[larger] = T.larger_of[phase][larger];
    }
    const raw = {};
    for (const [key, name] of Object.entries(live)) raw[name] = v[key];
    return [raw, phase, phases];
  }

  function sum(values) {
    return values.reduce((a, b) => rt.$add(a, b), 0n);
  }

  /** ``gpumem.estimate.estimate``: components, phase, phases and totals. */
  function estimate(m, w) {
    if (w.seq === null) {
      w = withChanges(w, { seq: rt.$min(int(T.default_seq), m.max_context) });
    }
    const training = w.mode === "training";
    const values = evaluate(training ? T.training : T.inference, symbolValues(m, w));
    const [raw, phase, phases] = components(values, training);
    const comps = {};
    for (const [k, x] of Object.entries(raw)) if (x > 0) comps[k] = rt.$ceil(x);
    const tensors = sum(Object.values(comps));
    if (w.cuda_context) comps.cuda_context = w.cuda_context;
    const reserve = call("runtime_overhead", {
      C: 0n,
      rho: w.allocator_reserve,
      M_tensors: tensors,
    });
    if (reserve != 0) comps.allocator_reserve = rt.$ceil(reserve);
    const ceiled = {};
    for (const [k, x] of Object.entries(phases)) ceiled[k] = rt.$ceil(x);
    const total = sum(Object.values(comps));
    const overhead = ["cuda_context", "allocator_reserve"];
    const tensorBytes = sum(
      Object.entries(comps)
        .filter(([k]) => !overhead.includes(k))
        .map(([, x]) => x),
    );
    return {
      model: m,
      workload: w,
      components: comps,
      phase: phase,
      phases: ceiled,
      total_bytes: total,
      tensor_bytes: tensorBytes,
    };
  }

  function ruleOfThumb(parameters, dtype, mode) {
    const multipliers = { inference: 1.2, training: 2.0 };
    if (!(mode in multipliers)) throw unknownName("mode", String(mode), Object.keys(multipliers));
    const b_w = bytesPerValue(getFormat(dtype));
    return rt.$ceil(call("rule_of_thumb", { P: parameters, b_w: b_w, k_r: multipliers[mode] }));
  }

  // --- does it fit (gpumem.solve) ------------------------------------------------------------
  function fitOf(e, gpu) {
    const headroom = gpu.memory_bytes - e.total_bytes;
    return {
      estimate: e,
      gpu: gpu,
      available_bytes: gpu.memory_bytes,
      headroom_bytes: headroom,
      headroom: rt.$div(headroom, gpu.memory_bytes),
      fits: headroom >= 0n,
    };
  }

  function* layouts(m, base, maxGpus) {
    const tps = [];
    for (let t = 1n; t <= int(T.node_size); t++) if (m.n_heads % t === 0n) tps.push(t);
    if (base.mode === "training") {
      for (let n = 1n; n <= maxGpus; n *= 2n) yield { dp: n, zero: n > 1n ? 3n : base.zero };
      return;
    }
    for (const tp of tps) yield { tp: tp };
    const widest = tps[tps.length - 1];
    for (let pp = 2n; pp <= m.n_layers; pp++) {
      if (widest * pp > maxGpus) return;
      yield { tp: widest, pp: pp };
    }
  }

  function gpusNeeded(m, gpu, base, maxGpus) {
    for (const layout of layouts(m, base, maxGpus === undefined ? 4096n : maxGpus)) {
      const result = fitOf(estimate(m, withChanges(base, layout)), gpu);
      if (result.fits) return result;
    }
    return null;
  }

  function largest(fits, low, high) {
    if (!fits(low)) return null;
    while (low < high) {
      const mid = (low + high + 1n) / 2n;
      if (fits(mid)) low = mid;
      else high = mid - 1n;
    }
    return low;
  }

  function maxBatch(m, gpu, base, limit) {
    const fits = (b) => fitOf(estimate(m, withChanges(base, { batch: b })), gpu).fits;
    return largest(fits, 1n, limit === undefined ? 2n ** 20n : limit);
  }

  function maxContext(m, gpu, base) {
    const fits = (s) => fitOf(estimate(m, withChanges(base, { seq: s })), gpu).fits;
    return largest(fits, 1n, m.max_context);
  }

  /** ``gpumem.solve.answer``: does it fit; if not, on how many GPUs; largest batch, context. */
  function answer(m, gpu, w) {
    const first = fitOf(estimate(m, w), gpu);
    const work = first.estimate.workload;
    return {
      fit: first,
      layout: first.fits ? first : gpusNeeded(m, gpu, work),
      max_batch: maxBatch(m, gpu, work),
      max_context: maxContext(m, gpu, work),
    };
  }

  /** Ceiling of decoding speed (tokens/s per sequence): bandwidth over bytes read per step. */
  function decodeTokensPerSecond(e, gpu) {
    return call("decode_tokens_per_second", {
      P_a: e.model.active_parameters,
      b_w: bytesPerValue(getFormat(e.workload.dtype)),
      BW: gpu.bandwidth_bytes_per_s,
      kv_cache: e.components.kv_cache === undefined ? 0n : e.components.kv_cache,
    });
  }

  /** ``gpumem.units.to_unit``: bytes in units of ``size`` bytes (10n ** 9n for GB). */
  function toUnit(bytes, size) {
    return rt.$div(bytes, size);
  }

  // --- JSON as the command line writes it (gpumem.report) ----------------------------------
  function estimateJson(e) {
    return {
      total_bytes: e.total_bytes,
      tensor_bytes: e.tensor_bytes,
      components: e.components,
      phase: e.phase,
      phases: e.phases,
      units: "bytes",
      workload: Object.assign({}, e.workload),
      rule_of_thumb_bytes: ruleOfThumb(e.model.parameters, e.workload.dtype, e.workload.mode),
    };
  }

  function fitJson(a) {
    const layout = a.layout;
    const lw = layout && layout.estimate.workload;
    return {
      fits: a.fit.fits,
      gpu: a.fit.gpu.name,
      available_bytes: a.fit.available_bytes,
      headroom_bytes: a.fit.headroom_bytes,
      layout:
        layout === null
          ? null
          : {
              gpus: lw.tp * lw.pp * lw.dp,
              tp: lw.tp,
              pp: lw.pp,
              dp: lw.dp,
              zero: lw.zero,
              total_bytes_per_gpu: layout.estimate.total_bytes,
            },
      max_batch: a.max_batch,
      max_context: a.max_context,
      estimate: estimateJson(a.fit.estimate),
    };
  }

  /** JSON text with Python's number types: ints as digits, floats with a point. */
  function toJson(value) {
    if (value === null || value === undefined) return "null";
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "number") return pyNumber(value);
    if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(toJson).join(",") + "]";
    return (
      "{" +
      Object.entries(value)
        .map(([k, v]) => JSON.stringify(k) + ":" + toJson(v))
        .join(",") +
      "}"
    );
  }

  return {
    GpumemError: GpumemError,
    format: format,
    getFormat: getFormat,
    getOptimizer: getOptimizer,
    getModel: getModel,
    getGpu: getGpu,
    modelSpec: modelSpec,
    workload: workload,
    withChanges: withChanges,
    resolvedPrecision: resolvedPrecision,
    resolvedOptimizer: resolvedOptimizer,
    estimate: estimate,
    ruleOfThumb: ruleOfThumb,
    fit: fitOf,
    gpusNeeded: gpusNeeded,
    maxBatch: maxBatch,
    maxContext: maxContext,
    answer: answer,
    decodeTokensPerSecond: decodeTokensPerSecond,
    estimateJson: estimateJson,
    fitJson: fitJson,
    toJson: toJson,
    toUnit: toUnit,
    pyNumber: pyNumber,
  };
});
