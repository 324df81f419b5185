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

  /** Python's repr of a str, a bool, an int or a float. */
  function repr(value) {
    if (typeof value === "boolean") return value ? "True" : "False";
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

  /** A template filled in as str.format does, for {x}, {x!r}, {x:,}, {x:.3g} and {x:.0e};
   * the template and Text arguments are translated with ``gettext`` first. */
  function format(t, gettext) {
    return gettext(t.template).replace(/\{(\w+)(!r)?(?::([^}]*))?\}/g, (_m, name, r, spec) => {
      const value = t.args[name];
      if (value && typeof value === "object" && "template" in value) return format(value, gettext);
      if (value && typeof value === "object" && "shown" in value) return value.shown;
      if (r) return repr(value);
      if (spec === ",") return groupDigits(value);
      if (spec) return formatSpec(Number(value), spec);
      return typeof value === "string" ? value : pyNumber(value);
    });
  }

  /** Python's ``format(x, ".Ng")`` and ``format(x, ".Ne")``. */
  function formatSpec(x, spec) {
    const [, digits, kind] = /^\.(\d+)([ge])$/.exec(spec);
    const exponential = (d) =>
      x.toExponential(d).replace(/e([+-])(\d)$/, "e$10$2");
    if (kind === "e") return exponential(Number(digits));
    const p = Math.max(Number(digits), 1);
    const exp = x === 0 ? 0 : Math.floor(Math.log10(Math.abs(Number(x.toPrecision(p)))));
    const strip = (t) => (t.includes(".") ? t.replace(/0+(e|$)/, "$1").replace(/\.(e|$)/, "$1") : t);
    if (exp < -4 || exp >= p) return strip(exponential(p - 1));
    return strip(x.toFixed(Math.max(p - 1 - exp, 0)));
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
    new_tokens: null,
    precision: null,
    optimizer: null,
    optimizer_impl: null,
    checkpointing: null,
    attention: "flash",
    logits: null,
    lora_rank: null,
    lora_targets: null,
    weights_as_shipped: false,
    adapter_dtype: null,
    lora_dropout: null,
    dp: 1n,
    tp: 1n,
    pp: 1n,
    zero: 0n,
    fsdp: false,
    cuda_context: int(T.default_cuda_context),
    allocator_reserve: T.default_allocator_reserve,
  };

  function choice(name, value, accepted) {
    if (!accepted.includes(value)) throw unknownName(name, String(value), accepted);
  }

  const MAX_COUNT = int(T.max_count);

  /** ``Workload._count``: a whole number from ``low`` to 2**53. */
  function count(w, name, low, accepted) {
    const value = w[name];
    if (typeof value !== "bigint" || value < low || value > MAX_COUNT) {
      throw invalidValue(
        name,
        value,
        accepted || text("a positive integer up to {high}", { high: MAX_COUNT }),
      );
    }
  }

  const TEXT_FIELDS = T.text_fields;

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
    TEXT_FIELDS.forEach((name, i) => {
      const value = w[name];
      if (typeof value !== "string" && (value !== null || i < 3)) {
        throw invalidValue(name, value, text("a string"));
      }
    });
    choice("mode", w.mode, T.modes);
    getFormat(w.dtype);
    if (w.kv_dtype !== null) getFormat(w.kv_dtype);
    for (const name of ["batch", "dp", "tp", "pp"]) count(w, name, 1n);
    for (const name of ["seq", "lora_rank"]) if (w[name] !== null) count(w, name, 1n);
    count(
      w,
      "cuda_context",
      0n,
      text("bytes, an integer from 0 to {high}", { high: MAX_COUNT }),
    );
    if (typeof w.zero !== "bigint" || w.zero < 0n || w.zero > 3n) {
      throw invalidValue("zero", w.zero, text("a ZeRO stage 0, 1, 2 or 3"));
    }
    if (typeof w.fsdp !== "boolean") throw invalidValue("fsdp", w.fsdp, text("True or False"));
    choice("attention", w.attention, T.attention);
    const reserve = w.allocator_reserve;
    const real = typeof reserve === "number" || typeof reserve === "bigint";
    if (!real || !(reserve >= 0 && reserve < 1)) {
      throw invalidValue(
        "allocator_reserve",
        reserve,
        text("a number from 0 up to (not including) 1"),
      );
    }
    w.allocator_reserve = Number(reserve);
    if (typeof w.weights_as_shipped !== "boolean") {
      throw invalidValue("weights_as_shipped", w.weights_as_shipped, text("true or false"));
    }
    if (w.weights_as_shipped) checkShipped(w);
    if (w.mode === "training") checkTraining(w);
    else checkInference(w);
  }

  /** ``Workload._check_shipped``. */
  function checkShipped(w) {
    if (w.mode === "training") {
      throw invalidValue(
        "weights_as_shipped",
        true,
        text("false in training (the shipped quantized weights are not trained)"),
      );
    }
    if (getFormat(w.dtype).kind !== "float") {
      throw invalidValue(
        "dtype",
        w.dtype,
        text(
          "a floating-point format with weights_as_shipped: it is the format of the " +
            "weights the checkpoint ships unquantized",
        ),
      );
    }
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
    checkLora(w);
    if (w.fsdp) checkFsdp(w);
    if (w.logits !== null) {
      throw invalidValue("logits", w.logits, text("nothing in training (all are kept)"));
    }
    if (w.kv_dtype !== null) {
      throw invalidValue("kv_dtype", w.kv_dtype, text("nothing in training (there is no KV cache)"));
    }
  }

  /** ``Workload._check_lora`` (the list of targets is not checked here: the calculator
   * adapts all linear layers). */
  function checkLora(w) {
    for (const name of ["lora_targets", "adapter_dtype", "lora_dropout"]) {
      if (w.lora_rank === null && w[name] !== null) {
        throw invalidValue(name, w[name], text("nothing without lora_rank"));
      }
    }
    if (w.lora_rank === null) return;
    const base = getFormat(w.dtype).name;
    if (!T.training_dtypes.includes(base) && base !== T.qlora_dtype) {
      throw invalidValue(
        "dtype",
        w.dtype,
        text("one of {dtypes} for LoRA, or {qlora} for QLoRA (bitsandbytes)", {
          dtypes: T.training_dtypes.join(", "),
          qlora: T.qlora_dtype,
        }),
      );
    }
    if (w.adapter_dtype !== null) {
      choice("adapter_dtype", w.adapter_dtype, T.adapter_dtypes);
      const compute = computeDtype(w);
      if (w.adapter_dtype !== "fp32" && w.adapter_dtype !== compute) {
        throw invalidValue(
          "adapter_dtype",
          w.adapter_dtype,
          text(
            "fp32 or the base's dtype {dtype}: peft keeps adapters in FP32 or, without " +
              "autocast_adapter_dtype, in the base layer's dtype",
            { dtype: compute },
          ),
        );
      }
    }
    if (w.lora_dropout !== null) {
      const p = w.lora_dropout;
      const real = typeof p === "number" || typeof p === "bigint";
      if (!real || !(p >= 0 && p < 1)) {
        throw invalidValue("lora_dropout", p, text("a number from 0 up to (not including) 1"));
      }
      w.lora_dropout = Number(p);
    }
  }

  const computeDtype = (w) => {
    const name = getFormat(w.dtype).name;
    return name === T.qlora_dtype ? "bf16" : name;
  };
  const qlora = (w) => w.lora_rank !== null && getFormat(w.dtype).name === T.qlora_dtype;

  /** ``Workload._check_fsdp``: full training sharded over ``dp`` alone, at stage 2 or 3. */
  function checkFsdp(w) {
    if (w.zero !== 2n && w.zero !== 3n) {
      throw invalidValue(
        "zero",
        w.zero,
        text(
          "2 or 3 with fsdp (reshard_after_forward False or True): fully_shard " +
            "always shards weights, gradients and optimizer states",
        ),
      );
    }
    if (w.precision === "amp") {
      throw invalidValue(
        "precision",
        w.precision,
        text("mixed (FSDP2's MixedPrecisionPolicy) or pure with fsdp"),
      );
    }
    if (w.lora_rank !== null) {
      throw invalidValue("lora_rank", w.lora_rank, text("nothing with fsdp (full training only)"));
    }
    for (const name of ["tp", "pp"]) {
      if (w[name] !== 1n) {
        throw invalidValue(name, w[name], text("1 with fsdp (data parallelism only)"));
      }
    }
  }

  function checkInference(w) {
    for (const name of T.training_only) {
      if (w[name] !== null) {
        throw invalidValue(name, w[name], text("nothing: it applies to training"));
      }
    }
    if (w.zero) {
      throw invalidValue("zero", w.zero, text("0 for inference (ZeRO shards training state)"));
    }
    if (w.fsdp) {
      throw invalidValue(
        "fsdp",
        w.fsdp,
        text("False for inference (FSDP2 is modelled for training)"),
      );
    }
    if (w.logits !== null) choice("logits", w.logits, T.logits);
  }

  const resolvedPrecision = (w) =>
    w.precision !== null ? w.precision : getFormat(w.dtype).name === "fp32" ? "pure" : "mixed";
  const resolvedOptimizer = (w) => getOptimizer(w.optimizer || "adamw");
  const resolvedCheckpointing = (w) => w.checkpointing || "none";
  const resolvedLogits = (w) => w.logits || "last";

  // --- models --------------------------------------------------------------------------------
  /** A model with its counts as BigInt: the fields the calculator shows and checks, and the
   * inputs of the memory model (gpumem.estimate.model_inputs), from the catalog or a config. */
  function modelSpec(entry) {
    const m = Object.assign({}, entry);
    for (const [key, value] of Object.entries(entry)) {
      if (typeof value === "number") m[key] = int(value);
    }
    m.inputs = {};
    for (const [key, value] of Object.entries(entry.inputs)) m.inputs[key] = int(value);
    if (m.active_parameters === 0n) m.active_parameters = m.parameters;
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
      unified_memory: g.unified_memory,
      gpu_working_set_bytes: g.gpu_working_set_bytes === null ? null : int(g.gpu_working_set_bytes),
      dense_peak_tflops: g.dense_peak_tflops,
    };
  }

  // --- the estimate (gpumem.estimate) ------------------------------------------------------
  const G = fx.tables;
  /** Formulas whose results are bytes held in memory: rounded up to whole bytes. */
  const WHOLE = new Set([...Object.keys(G.COMPONENTS), "runtime_overhead"]);

  function call(name, values) {
    const [fn, args] = fx.formulas[name];
    return fn(
      ...args.map((k) => {
        if (values[k] === undefined) throw new Error(`${name} needs ${k}`);
        return values[k];
      }),
    );
  }

  /** Python's int() of an int or a float (truncated). */
  function toInt(x) {
    return typeof x === "bigint" ? x : BigInt(Math.trunc(x));
  }

  /** Python's ``max(keys, key=table.__getitem__)``: the first key of the largest value. */
  function argmax(keys, table) {
    let best = keys[0];
    for (const k of keys.slice(1)) if (table[k] > table[best]) best = k;
    return best;
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
    if (qlora(w) && !T.llama_named.includes(m.family)) {
      throw invalidValue(
        "dtype",
        w.dtype,
        text(
          "fp32, fp16 or bf16 for LoRA on {model}: QLoRA (nf4) is modelled on dense " +
            "models whose linear layers are named as in Llama (q_proj … down_proj)",
          { model: m.name },
        ),
      );
    }
    if (w.lora_rank !== null && w.lora_rank > m.hidden_size) {
      throw invalidValue(
        "lora_rank",
        w.lora_rank,
        text("at most the hidden size of {model}, {hidden:,}", {
          model: m.name,
          hidden: m.hidden_size,
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

  const flag = (condition) => (condition ? 1n : 0n);

  /** ``_workload_inputs``: the workload's sizes, flags and bytes per value. */
  function workloadInputs(w) {
    const dtype = getFormat(w.dtype);
    const optimizer = resolvedOptimizer(w);
    const training = w.mode === "training";
    const adapted =
      w.lora_targets === null || w.lora_targets === T.all_linear ? null : w.lora_targets.split(",");
    return {
      B: w.batch,
      s: w.seq,
      n_t: w.new_tokens || 0n,
      m_t: flag(training),
      x_l: flag(resolvedLogits(w) === "all"),
      r: w.lora_rank || 0n,
      u_l: flag(w.lora_rank !== null),
      y_a: flag(adapted === null),
      ...Object.fromEntries(
        T.lora_targets.map((name) => [
          `j_${name[0]}`,
          flag(adapted !== null && adapted.includes(name)),
        ]),
      ),
      b_u: bytesPerValue(getFormat(w.adapter_dtype || "fp32")),
      o_l: flag(Boolean(w.lora_dropout)),
      q_4: flag(qlora(w)),
      p_m: flag(training && resolvedPrecision(w) === "mixed"),
      p_a: flag(training && resolvedPrecision(w) === "amp"),
      b_d: bytesPerValue(dtype),
      x_f: flag(dtype.kind === "float"),
      b_k: w.kv_dtype ? bytesPerValue(getFormat(w.kv_dtype)) : 0n,
      b_r: 4n, // transformers keeps a recurrent layer's temporal state in FP32
      b_s: optimizer.state_bytes ? optimizer.state_bytes : 0n,
      n_o: optimizer.states_per_param,
      n_f: flag(optimizer.factored),
      t_o: flag((w.optimizer_impl || "foreach") === "foreach"),
      N_dp: w.dp,
      N_tp: w.tp,
      N_pp: w.pp,
      z_1: flag(w.zero >= 1n),
      z_2: flag(w.zero >= 2n),
      z_3: flag(w.zero >= 3n),
      y_f: flag(w.fsdp),
    };
  }

  /** ``_shipped_inputs``: the weights as the checkpoint ships them, or refused. */
  function shippedInputs(m, w) {
    // QLoRA's linear layers in NF4, else nothing quantized
    if (!w.weights_as_shipped) {
      return { x_s: 0n, b_q: qlora(w) ? bytesPerValue(getFormat(w.dtype)) : 0n, b_q2: 0n };
    }
    const q = m.quantization;
    let problem;
    if (q === null) {
      problem = text(
        "false for {model}: its config.json has no quantization_config, so every weight " +
          "is in the dtype",
        { model: m.name },
      );
    } else if (q.format === null) {
      problem = text(
        "false for {model}: its quant_method {method!r} is not one gpumem counts (mxfp4; " +
          "fp8 in 128 × 128 blocks of e4m3)",
        { model: m.name, method: q.method },
      );
    } else if (q.unplaced.length) {
      problem = text(
        "false for {model}: its modules_to_not_convert names {modules}, which gpumem " +
          "does not count apart",
        { model: m.name, modules: q.unplaced.join(", ") },
      );
    } else if (q.unresolved && q.unresolved.length) {
      problem = text(
        "false for {model}: its quantized_layers leave {modules} without one format in " +
          "every layer and part, or in one gpumem does not count; accepted: NVFP4, " +
          "W4A16_NVFP4 or FP8 for each module, the same in all its layers, or none",
        { model: m.name, modules: q.unresolved.join(", ") },
      );
    } else {
      const second = q.second_format ? bytesPerValue(getFormat(q.second_format)) : 0n;
      return { x_s: 1n, b_q: bytesPerValue(getFormat(q.format)), b_q2: second };
    }
    throw invalidValue("weights_as_shipped", true, problem);
  }

  /** ``_activation_inputs``: bytes per element of what the family keeps live. */
  function activationInputs(m, w, b_a) {
    const amp = w.mode === "training" && resolvedPrecision(w) === "amp" && w.lora_rank === null;
    const lora = w.mode === "training" && w.lora_rank !== null;
    const p = (data.profiles[m.family] || data.profiles.llama)[
      amp ? "amp" : lora ? "lora" : "plain"
    ];
    const recomputed = resolvedCheckpointing(w) === "selective"; // attention's own not kept
    const out = {};
    for (const [shape, key] of Object.entries(T.shapes)) {
      out[`a_${key}`] = bytesOf(p.saved[shape] || {}, b_a);
    }
    const work = p.inference;
    return Object.assign(out, {
      a_s: w.attention === "eager" && !recomputed ? out.a_s : 0.0,
      a_i: bytesOf(p.checkpoint_input, b_a),
      g_c: flag(resolvedCheckpointing(w) === "full"),
      l_f: bytesOf(p.logits.forward, b_a),
      l_b: bytesOf(p.logits.backward, b_a),
      l_i: bytesOf(p.logits.inference, b_a),
      i_h: bytesOf(work.h, b_a),
      i_f: bytesOf(work.f, b_a),
      i_r: bytesOf(work.routed || {}, b_a),
      i_s: w.attention === "eager" ? bytesOf(work.scores, b_a) : 0.0,
      // sdpa's math kernel works in FP32
      i_p: w.attention === "math" && !recomputed ? 4.0 : 0.0,
    });
  }

  const peakFormula = (w) => (w.mode === "training" ? "training_peak" : "inference_peak");

  /** ``evaluate``: formulas in order, each result an input of the next; bytes held in
   * memory rounded up to whole bytes, as ``-(-x // 1)``. */
  function evaluate(names, values) {
    const v = Object.assign({}, values);
    for (const name of names) {
      const result = call(name, v);
      v[name] = WHOLE.has(name) ? rt.$neg(rt.$floordiv(rt.$neg(result), 1n)) : result;
    }
    return v;
  }

  function symbolValues(m, w) {
    checkAgainstModel(m, w);
    const v = Object.assign({}, m.inputs, workloadInputs(w), shippedInputs(m, w));
    Object.assign(v, activationInputs(m, w, call("b_a", { b_d: v.b_d, x_f: v.x_f })));
    return evaluate(
      G.ORDER[peakFormula(w)].filter((n) => G.DERIVED.includes(n)),
      v,
    );
  }

  /** ``formula_values``: every input and formula of the peak, and the runtime overhead. */
  function formulaValues(m, w) {
    const peak = peakFormula(w);
    const v = evaluate(G.ORDER[peak], symbolValues(m, w));
    Object.assign(v, { M_tensors: v[peak], C: w.cuda_context, rho: w.allocator_reserve });
    return evaluate(["runtime_overhead"], v);
  }

  function resolveWorkload(m, w) {
    if (w.seq === null) {
      const seq = rt.$min(int(T.default_seq), m.max_context);
      return withChanges(w, { seq: seq });
    }
    return w;
  }

  /** ``gpumem.estimate.estimate``: components, phase, phases and totals. */
  function estimate(m, w) {
    w = resolveWorkload(m, w);
    const values = formulaValues(m, w);
    const phases = {};
    for (const p of G.PEAKS[peakFormula(w)]) phases[p] = toInt(values[G.PHASES[p][0]]);
    const phase = argmax(Object.keys(phases), phases);
    const comps = {};
    for (const slot of G.PHASES[phase][1]) {
      const term = argmax(slot, values);
      if (values[term] > 0) comps[G.COMPONENTS[term]] = toInt(values[term]);
    }
    const overhead = toInt(values.runtime_overhead);
    if (w.cuda_context) comps.cuda_context = w.cuda_context;
    if (overhead > w.cuda_context) comps.allocator_reserve = overhead - w.cuda_context;
    const tensors = toInt(values.M_tensors);
    return {
      model: m,
      workload: w,
      components: comps,
      phase: phase,
      phases: w.mode === "training" ? phases : {},
      tensor_bytes: tensors,
      total_bytes: tensors + overhead,
      kv_cache_layers: kvCacheLayers(values),
      pipeline_stage: pipelineStage(values),
    };
  }

  /** ``gpumem.estimate._pipeline_stage``: the heaviest stage, or nothing without pipelining. */
  function pipelineStage(values) {
    if (values.N_pp <= 1n) return {};
    const first = values.stage_first_parameters;
    const last = values.stage_last_parameters;
    return {
      heaviest: last >= first ? "last" : "first",
      layers: toInt(values.L_s),
      parameters: toInt(rt.$neg(rt.$floordiv(rt.$neg(values.P_s), 1n))),
    };
  }

  /** ``gpumem.estimate._kv_cache_layers``: the terms of ``kv_cache`` that hold anything. */
  function kvCacheLayers(values) {
    const out = {};
    if (!("kv_cache" in values)) return out;
    const full = values.c_kv > 0 ? "latent" : "full";
    for (const kind of ["full", "sliding", "chunked", "recurrent"]) {
      const x = values["kv_cache_" + kind];
      if (x > 0) out[kind === "full" ? full : kind] = rt.$ceil(x);
    }
    return out;
  }

  function ruleOfThumb(parameters, dtype, mode) {
    if (!T.modes.includes(mode)) throw unknownName("mode", String(mode), T.modes);
    const k_r = call("k_r", { m_t: flag(mode === "training") });
    const b_w = bytesPerValue(getFormat(dtype));
    return rt.$ceil(call("rule_of_thumb", { P: parameters, b_w: b_w, k_r: k_r }));
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
    const widest = int(T.node_size) < maxGpus ? int(T.node_size) : maxGpus;
    for (let t = 1n; t <= widest; t++) if (m.n_heads % t === 0n) tps.push(t);
    if (base.mode === "training") {
      for (let n = 1n; n <= maxGpus; n *= 2n) yield { dp: n, zero: n > 1n ? 3n : base.zero };
      return;
    }
    for (const tp of tps) yield { tp: tp };
    const last = tps[tps.length - 1];
    for (let pp = 2n; pp <= m.n_layers; pp++) {
      if (last * pp > maxGpus) return;
      yield { tp: last, pp: pp };
    }
  }

  function gpusNeeded(m, gpu, base, maxGpus) {
    for (const layout of layouts(m, base, maxGpus === undefined ? 4096n : maxGpus)) {
      const result = fitOf(estimate(m, withChanges(base, layout)), gpu);
      if (result.fits) return result;
    }
    return null;
  }

  /** ``_largest``: the largest x in [low, high] that fits (fits is monotone), doubling from
   * low until it no longer fits, then bisecting; high may be Infinity. */
  function largest(fits, low, high) {
    if (!fits(low)) return null;
    let step = 1n;
    while (low + step <= high && fits(low + step)) {
      low = low + step;
      step = step * 2n;
    }
    const reach = low + step - 1n;
    high = reach < high ? reach : high;
    while (low < high) {
      const mid = (low + high + 1n) / 2n;
      if (fits(mid)) low = mid;
      else high = mid - 1n;
    }
    return low;
  }

  function maxBatch(m, gpu, base, limit) {
    const fits = (b) => fitOf(estimate(m, withChanges(base, { batch: b })), gpu).fits;
    return largest(fits, 1n, limit === undefined ? Infinity : limit);
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

  /** ``gpumem.speed.decode_ceiling``: tokens/s per sequence, bandwidth over the bytes read
   * at each step (active weights and the KV cache). */
  function decodeTokensPerSecond(e, gpu) {
    const values = formulaValues(e.model, e.workload);
    return call("decode_tokens_per_second", {
      P_a: values.P_a,
      b_w: values.b_w,
      BW: gpu.bandwidth_bytes_per_s,
      kv_cache: values.kv_cache,
    });
  }

  /** ``gpumem.units.to_unit``: bytes in units of ``size`` bytes (10n ** 9n for GB). */
  function toUnit(bytes, size) {
    return rt.$div(bytes, size);
  }

  /** ``gpumem.estimate.gpu_count``. */
  function gpuCount(w) {
    return call("gpu_count", { N_dp: w.dp, N_tp: w.tp, N_pp: w.pp });
  }

  // --- JSON as the command line writes it (gpumem.report) ----------------------------------
  function estimateJson(e) {
    return {
      total_bytes: e.total_bytes,
      tensor_bytes: e.tensor_bytes,
      components: e.components,
      kv_cache_layers: e.kv_cache_layers,
      pipeline_stage: e.pipeline_stage,
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
    error: (message, hint) => new GpumemError(message, hint),
    text: text,
    invalidValue: invalidValue,
    unknownName: unknownName,
    call: call,
    evaluate: evaluate,
    symbolValues: symbolValues,
    toInt: toInt,
    bytesPerValue: bytesPerValue,
    repr: repr,
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
    gpuCount: gpuCount,
    estimateJson: estimateJson,
    fitJson: fitJson,
    toJson: toJson,
    toUnit: toUnit,
    pyNumber: pyNumber,
  };
});
