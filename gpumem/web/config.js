/* A pasted config.json read as gpumem.modelspec.from_config reads it: the same keys per
 * family (exported from the package), the same checks and bounds, the same parameter count
 * and the same error messages. Whole numbers are BigInt, as Python's ints; the JSON is read
 * by a parser that keeps 4096 and 4096.0 apart, as Python's json does.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory;
  else root.gpumemConfig = factory;
})(typeof self !== "undefined" ? self : this, function (engine, data) {
  "use strict";
  const B = data.model_bounds;
  const MAX = {
    layers: BigInt(B.MAX_LAYERS),
    width: BigInt(B.MAX_WIDTH),
    vocab: BigInt(B.MAX_VOCAB),
    experts: BigInt(B.MAX_EXPERTS),
    context: BigInt(B.MAX_CONTEXT),
    parameters: BigInt(B.MAX_PARAMETERS),
  };

  // --- JSON with Python's types -----------------------------------------------------------
  /** ``json.loads``: objects, arrays, strings, booleans, null; an integer literal is a
   * BigInt, a number with a fraction or an exponent a float. */
  function parseJson(textIn) {
    const s = String(textIn);
    let i = 0;
    const fail = (what) => {
      throw new SyntaxError(`${what}: line ${s.slice(0, i).split("\n").length} column ${i - s.lastIndexOf("\n", i - 1)} (char ${i})`);
    };
    const space = () => {
      while (i < s.length && " \t\n\r".includes(s[i])) i++;
    };
    function value() {
      space();
      const c = s[i];
      if (c === "{") return object();
      if (c === "[") return array();
      if (c === '"') return string();
      const literal = /^(?:true|false|null|NaN|Infinity|-Infinity)/.exec(s.slice(i, i + 9));
      if (literal) {
        i += literal[0].length;
        const literals = { true: true, false: false, null: null, NaN: NaN, Infinity: Infinity };
        return literal[0] === "-Infinity" ? -Infinity : literals[literal[0]];
      }
      const number = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(s.slice(i));
      if (!number) fail("Expecting value");
      i += number[0].length;
      return number[1] || number[2] ? Number(number[0]) : BigInt(number[0]);
    }
    function string() {
      const match = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(s.slice(i));
      if (!match) fail("Unterminated string starting at");
      i += match[0].length;
      return JSON.parse(match[0]);
    }
    function array() {
      i++;
      const out = [];
      space();
      if (s[i] === "]") return i++, out;
      for (;;) {
        out.push(value());
        space();
        if (s[i] === ",") i++;
        else if (s[i] === "]") return i++, out;
        else fail("Expecting ',' delimiter");
      }
    }
    function object() {
      i++;
      const out = Object.create(null);
      space();
      if (s[i] === "}") return i++, out;
      for (;;) {
        space();
        if (s[i] !== '"') fail("Expecting property name enclosed in double quotes");
        const key = string();
        space();
        if (s[i] !== ":") fail("Expecting ':' delimiter");
        i++;
        out[key] = value();
        space();
        if (s[i] === ",") i++;
        else if (s[i] === "}") return i++, out;
        else fail("Expecting ',' delimiter");
      }
    }
    const result = value();
    space();
    if (i < s.length) fail("Extra data");
    return result;
  }

  // --- Python's repr, bounded as gpumem.errors.shown bounds it ---------------------------
  const LIMIT = 60;

  function reprStr(x) {
    const plain = engine.repr(x.slice(0, LIMIT));
    if (plain.length <= LIMIT) return plain;
    const i = Math.max(0, Math.floor((LIMIT - 3) / 2));
    const j = Math.max(0, LIMIT - 3 - i);
    const cut = engine.repr(x.slice(0, i) + x.slice(x.length - j));
    return cut.slice(0, i) + "..." + cut.slice(cut.length - j);
  }

  function shown(value, level) {
    level = level === undefined ? 3 : level;
    if (value === null) return "None";
    if (value === true) return "True";
    if (value === false) return "False";
    if (typeof value === "string") return reprStr(value);
    if (typeof value === "bigint" || typeof value === "number") {
      if (typeof value === "number" && !Number.isFinite(value)) {
        return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
      }
      return engine.pyNumber(value);
    }
    if (Array.isArray(value)) {
      if (!value.length) return "[]";
      if (level <= 0) return "[...]";
      const items = value.slice(0, 6).map((v) => shown(v, level - 1));
      if (value.length > 6) items.push("...");
      return "[" + items.join(", ") + "]";
    }
    const keys = Object.keys(value);
    if (!keys.length) return "{}";
    if (level <= 0) return "{...}";
    const items = keys
      .slice(0, 4)
      .map((k) => `${shown(k, level - 1)}: ${shown(value[k], level - 1)}`);
    if (keys.length > 4) items.push("...");
    return "{" + items.join(", ") + "}";
  }

  /** A value shown in an error (``{value!r}`` of a ``shown`` value prints it as made). */
  const asShown = (value) => ({ shown: shown(value) });

  function typeName(value) {
    if (value === null) return "NoneType";
    if (typeof value === "boolean") return "bool";
    if (typeof value === "bigint") return "int";
    if (typeof value === "number") return "float";
    if (typeof value === "string") return "str";
    return Array.isArray(value) ? "list" : "dict";
  }

  const isInt = (v) => typeof v === "bigint";
  const int = (v) => (typeof v === "number" && Number.isInteger(v) ? BigInt(v) : v);
  const isDict = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

  // --- from_config ---------------------------------------------------------------------------
  function configError(where, problem) {
    return engine.error(
      engine.text("{path}: {problem}", { path: where, problem: problem }),
    );
  }

  function reader(config, family, where) {
    const keys = Object.fromEntries(family.keys);
    const defaults = Object.fromEntries(family.defaults);
    const key = (name) => keys[name] || name;
    const error = (problem) => configError(where, problem);
    const has = (object, k) => Object.prototype.hasOwnProperty.call(object, k);
    const raw = (name, fallback) => {
      const k = key(name);
      if (has(config, k)) return config[k];
      return has(defaults, name) ? defaults[name] : fallback;
    };
    const given = (name) => {
      const value = has(config, key(name)) ? config[key(name)] : null;
      if (value !== null) return value;
      return has(defaults, name) ? int(defaults[name]) : null;
    };
    return {
      error: error,
      raw: raw,
      integer(name, fallback, minimum, maximum) {
        minimum = minimum === undefined ? 1n : minimum;
        maximum = maximum === undefined ? MAX.width : maximum;
        const k = key(name);
        const value = given(name);
        if (value === null) {
          if (fallback === null || fallback === undefined) {
            throw error(
              engine.text("missing key {key!r} (model_type {type!r})", {
                key: k,
                type: asShown(Object.hasOwn(config, "model_type") ? config.model_type : null),
              }),
            );
          }
          return fallback;
        }
        if (!isInt(value) || value < minimum || value > maximum) {
          throw error(
            engine.text(
              "key {key!r} is {value!r}; expected an integer from {minimum} to {maximum}",
              { key: k, value: asShown(value), minimum: minimum, maximum: maximum },
            ),
          );
        }
        return value;
      },
      flag(name, fallback) {
        const value = raw(name, null);
        if (value === null) return fallback;
        if (typeof value !== "boolean") {
          throw error(
            engine.text("key {key!r} is {value!r}; expected true or false", {
              key: key(name),
              value: asShown(value),
            }),
          );
        }
        return value;
      },
    };
  }

  function shape(read, family) {
    const h = read.integer("hidden_size");
    const layers = read.integer("num_hidden_layers", null, 1n, MAX.layers);
    const heads = read.integer("num_attention_heads");
    const kvHeads = read.integer("num_key_value_heads", heads, 1n, heads);
    if (heads % kvHeads) {
      throw read.error(
        engine.text("{heads} attention heads are not a multiple of {kv_heads} KV heads", {
          heads: heads,
          kv_heads: kvHeads,
        }),
      );
    }
    const s = {
      h: h,
      layers: layers,
      heads: heads,
      kv_heads: kvHeads,
      vocab: read.integer("vocab_size", null, 1n, MAX.vocab),
      max_context: read.integer("max_position_embeddings", null, 1n, MAX.context),
      tied: !family.encoder && read.flag("tie_word_embeddings", family.tie_default),
      inter: read.integer("intermediate_size", family.gated_mlp ? null : 4n * h),
      mlp_bias: family.mlp_bias && read.flag("mlp_bias", false),
      experts: 0n,
      experts_active: 0n,
      moe_inter: 0n,
      shared: 0n,
      shared_inter: 0n,
      moe_layers: 0n,
      kv_lora_rank: 0n,
      qk_rope: 0n,
      extra: {},
    };
    if (family.mla) readMla(read, s);
    else if (read.raw("head_dim", null) !== null) s.head_dim = read.integer("head_dim");
    else s.head_dim = evenSplit(read, h, heads);
    let bias = family.attention_bias;
    if (bias.startsWith("config")) {
      const on = read.flag("attention_bias", false);
      bias = on ? (bias === "config_qkv" ? "qkv" : "all") : "none";
    }
    s.attention_bias = bias;
    s.qk_norm = family.qk_norm;
    if (family.qk_norm === "config") s.qk_norm = read.flag("use_qk_norm", false) ? "head" : "";
    if (family.encoder) {
      s.type_vocab = read.integer("type_vocab_size", null, 0n, MAX.vocab);
      const kind = read.raw("position_embedding_type", "absolute");
      if (kind !== "absolute") {
        throw read.error(
          engine.text(
            "key 'position_embedding_type' is {kind!r}; only 'absolute' is supported",
            { kind: asShown(kind) },
          ),
        );
      }
    }
    if (family.moe) readMoe(read, family, s);
    [s.window, s.sliding_layers] = sliding(read, family, layers);
    [s.chunk, s.chunked_layers] = chunked(read, family, layers);
    s.recurrent_layers = 0n;
    s.recurrent_state = 0n;
    s.mlp_only = 0n;
    if (family.linear_attention) readLinearAttention(read, s);
    if (family.hybrid) readHybrid(read, s);
    // the multi-token-prediction module's layers, which vLLM loads as a speculative drafter
    for (const key of ["mtp_num_hidden_layers", "num_nextn_predict_layers"]) {
      const mtp = read.integer(key, 0n, 0n, MAX.layers);
      if (mtp) s.extra.mtp_layers = mtp;
    }
    return s;
  }

  /** ``_one_per_layer``: refuse a per-layer list of another length than the layers. */
  function onePerLayer(read, key, items, layers) {
    if (BigInt(items.length) !== layers) {
      throw read.error(
        engine.text("key {key!r} has {n} entries for {layers} layers", {
          key: key,
          n: BigInt(items.length),
          layers: layers,
        }),
      );
    }
  }

  /** ``_read_hybrid``: Nemotron-H's blocks (M Mamba-2, * attention, - MLP) and sizes. */
  function readHybrid(read, s) {
    const pattern = read.raw("hybrid_override_pattern", null);
    if (typeof pattern !== "string" || [...pattern].some((c) => !"M*-".includes(c))) {
      throw read.error(
        engine.text(
          "key 'hybrid_override_pattern' is {value!r}; expected a string of M, * and -",
          { value: asShown(pattern) },
        ),
      );
    }
    onePerLayer(read, "hybrid_override_pattern", [...pattern], s.layers);
    const sizes = ["mamba_num_heads", "mamba_head_dim", "n_groups", "ssm_state_size"];
    const [heads, headDim, groups, state] = sizes.map((k) => read.integer(k));
    const kernel = read.integer("conv_kernel", 4n);
    const inner = heads * headDim;
    const conv = inner + 2n * groups * state;
    const bias = read.flag("use_bias", false);
    const letters = (c) => BigInt([...pattern].filter((x) => x === c).length);
    s.recurrent_layers = letters("M");
    s.mlp_only = letters("-");
    s.extra.recurrent_temporal_state = heads * headDim * state;
    s.extra.recurrent_conv_channels = conv;
    s.recurrent_state = s.extra.recurrent_temporal_state + (kernel - 1n) * conv;
    s.linear =
      s.h * (inner + conv + heads) +
      (bias ? inner + conv + heads : 0n) +
      conv * kernel +
      (read.flag("use_conv_bias", true) ? conv : 0n) +
      3n * heads +
      inner +
      inner * s.h +
      (bias ? s.h : 0n);
  }

  /** ``_chunked``: Llama 4's chunk and how many of its layers attend within chunks. */
  function chunked(read, family, layers) {
    if (!family.chunked) return [0n, 0n];
    const chunk = read.integer("attention_chunk_size", 0n, 0n, MAX.context);
    if (chunk === 0n) return [0n, 0n];
    const kinds = layerTypes(read, layers, "chunked_attention");
    if (kinds !== null) return [chunk, kinds.chunked_attention];
    const rope = read.raw("no_rope_layers", []);
    if (!Array.isArray(rope) || !rope.every((i) => i === 0n || i === 1n)) {
      throw read.error(
        engine.text("key 'no_rope_layers' is {value!r}; expected a list of 0 and 1", {
          value: asShown(rope),
        }),
      );
    }
    if (rope.length) {
      onePerLayer(read, "no_rope_layers", rope, layers);
      return [chunk, BigInt(rope.filter((i) => i === 1n).length)];
    }
    const every = read.integer("no_rope_layer_interval", 4n, 1n, MAX.layers);
    return [chunk, layers - layers / every];
  }

  /** ``_layer_types``: how many layers of each kind ``layer_types`` lists (null if absent). */
  function layerTypes(read, layers, other) {
    const kinds = read.raw("layer_types", null);
    if (kinds === null) return null;
    if (!Array.isArray(kinds) || !kinds.every((k) => typeof k === "string")) {
      throw read.error(
        engine.text("key 'layer_types' is {value!r}; expected a list of strings", {
          value: asShown(kinds),
        }),
      );
    }
    onePerLayer(read, "layer_types", kinds, layers);
    const unknown = [...new Set(kinds.filter((k) => k !== other && k !== "full_attention"))];
    if (unknown.length) {
      throw read.error(
        engine.text("key 'layer_types' names {kinds}; expected {other!r} or 'full_attention'", {
          kinds: unknown.sort().join(", "),
          other: other,
        }),
      );
    }
    const counted = (kind) => BigInt(kinds.filter((k) => k === kind).length);
    return { [other]: counted(other), full_attention: counted("full_attention") };
  }

  /** ``_read_linear_attention``: Qwen3-Next's and Qwen3.5's gated DeltaNet layers. */
  function readLinearAttention(read, s) {
    const layers = s.layers;
    const kinds = layerTypes(read, layers, "linear_attention");
    let recurrent;
    if (kinds === null) {
      const every = read.integer("full_attention_interval", 4n, 1n, MAX.layers);
      recurrent = layers - layers / every;
    } else {
      recurrent = kinds.linear_attention;
    }
    const kHeads = read.integer("linear_num_key_heads");
    const vHeads = read.integer("linear_num_value_heads");
    const kDim = read.integer("linear_key_head_dim");
    const vDim = read.integer("linear_value_head_dim");
    const kernel = read.integer("linear_conv_kernel_dim", 4n);
    const keysWidth = kHeads * kDim;
    const values = vHeads * vDim;
    const conv = 2n * keysWidth + values;
    s.recurrent_layers = recurrent;
    s.output_gate = read.flag("attn_output_gate", true);
    const ssm = read.raw("mamba_ssm_dtype", null);
    // the format vLLM keeps the temporal state in (checked below)
    if (ssm !== null) s.extra.recurrent_state_dtype = data.ssm_dtypes[ssm];
    if (ssm !== null && !(typeof ssm === "string" && own(data.ssm_dtypes, ssm))) {
      throw read.error(
        engine.text(
          "key 'mamba_ssm_dtype' is {value!r}; expected 'float32', 'bfloat16' or 'float16'",
          { value: asShown(ssm) },
        ),
      );
    }
    s.extra.recurrent_temporal_state = vHeads * kDim * vDim;
    s.extra.recurrent_conv_channels = conv;
    // the shapes of the gated delta rule, whose chunked form works in them at prefill
    s.extra.recurrent_value_heads = vHeads;
    s.extra.recurrent_key_dim = kDim;
    s.extra.recurrent_value_dim = vDim;
    s.recurrent_state = s.extra.recurrent_temporal_state + (kernel - 1n) * conv;
    s.linear =
      s.h * (2n * keysWidth + 2n * values) +
      s.h * 2n * vHeads +
      conv * kernel +
      2n * vHeads +
      vDim +
      values * s.h;
  }

  function evenSplit(read, h, heads) {
    if (h % heads) {
      throw read.error(
        engine.text("hidden size {h} is not a multiple of {heads} heads and no head_dim", {
          h: h,
          heads: heads,
        }),
      );
    }
    return h / heads;
  }

  function readMla(read, s) {
    if (read.flag("attention_bias", false)) {
      throw read.error(
        engine.text("key 'attention_bias' is true; not supported with latent attention"),
      );
    }
    const nope = read.integer("qk_nope_head_dim");
    s.qk_rope = read.integer("qk_rope_head_dim");
    s.head_dim = nope + s.qk_rope;
    s.kv_lora_rank = read.integer("kv_lora_rank");
    s.extra = {
      q_lora_rank: read.integer("q_lora_rank", 0n, 0n),
      qk_nope_head_dim: nope,
      v_head_dim: read.integer("v_head_dim"),
    };
  }

  /** How many of 0, 1, …, last are multiples of every (none when last < 0). */
  const multiples = (every, last) => (last >= 0n ? last / every + 1n : 0n);

  function readMoe(read, family, s) {
    const layers = s.layers;
    let moe;
    if (family.moe === "deepseek") {
      s.experts = read.integer("n_routed_experts", null, 1n, MAX.experts);
      s.moe_inter = read.integer("moe_intermediate_size");
      s.shared = read.integer("n_shared_experts", 0n, 0n, MAX.experts);
      s.shared_inter = s.shared ? s.moe_inter : 0n;
      const firstDense = read.integer("first_k_dense_replace", 0n, 0n, MAX.layers);
      const every = read.integer("moe_layer_freq", 1n, 1n, MAX.layers);
      const first = firstDense < layers ? firstDense : layers;
      moe = multiples(every, layers - 1n) - multiples(every, first - 1n);
      s.extra.router_bias =
        family.router_bias || read.raw("topk_method", "greedy") === "noaux_tc";
    } else if (family.moe === "qwen") {
      s.experts = read.integer("num_experts", null, 1n, MAX.experts);
      s.moe_inter = read.integer("moe_intermediate_size");
      const every = read.integer("decoder_sparse_step", 1n, 1n, MAX.layers);
      const dense = read.raw("mlp_only_layers", []);
      if (!Array.isArray(dense) || !dense.every(isInt)) {
        throw read.error(
          engine.text("key 'mlp_only_layers' is {value!r}; expected a list of integers", {
            value: asShown(dense),
          }),
        );
      }
      const listed = new Set(
        dense.filter((i) => i >= 0n && i < layers && (i + 1n) % every === 0n).map(String),
      );
      moe = multiples(every, layers) - 1n - BigInt(listed.size);
    } else if (family.moe === "llama4") {
      s.experts = read.integer("num_experts", null, 1n, MAX.experts);
      s.moe_inter = read.integer("moe_intermediate_size");
      s.shared_inter = s.moe_inter;
      s.shared = 1n;
      moe = layers / read.integer("interleave_moe_layer_step", 1n, 1n, MAX.layers);
    } else {
      s.experts = read.integer("num_experts", null, 1n, MAX.experts);
      s.moe_inter = s.inter;
      moe = layers;
      s.extra.router_bias = family.router_bias;
    }
    if (family.shared_expert) {
      s.shared = 1n;
      s.shared_inter = read.integer("shared_expert_intermediate_size");
    }
    s.experts_active = read.integer("num_experts_per_tok", null, 1n, MAX.experts);
    if (s.experts_active > s.experts) {
      throw read.error(
        engine.text("num_experts_per_tok {active} exceeds the {experts} experts", {
          active: s.experts_active,
          experts: s.experts,
        }),
      );
    }
    s.moe_layers = moe;
  }

  function sliding(read, family, layers) {
    if (!family.sliding) return [0n, 0n];
    const window = read.integer("sliding_window", 0n, 0n, MAX.context);
    if (window === 0n) return [0n, 0n];
    if (family.sliding === "alternate") return [window, (layers + 1n) / 2n];
    if (family.sliding === "pattern") {
      const kinds = layerTypes(read, layers, "sliding_attention");
      if (kinds === null) {
        const every = read.integer("sliding_window_pattern", int(family.full_every), 1n, MAX.layers);
        return [window, layers - layers / every];
      }
      return [window, kinds.sliding_attention];
    }
    if (family.sliding === "qwen") {
      if (!read.flag("use_sliding_window", false)) return [0n, 0n];
      const first = read.integer("max_window_layers", layers, 0n, MAX.layers);
      return [window, layers - first > 0n ? layers - first : 0n];
    }
    return [window, layers];
  }

  function mlp(h, inter, gated, bias) {
    if (gated) return 3n * h * inter + (bias ? 2n * inter + h : 0n);
    return 2n * h * inter + (bias ? inter + h : 0n);
  }

  function attention(s, family) {
    const h = s.h;
    const heads = s.heads;
    if (family.mla) {
      const x = s.extra;
      const qOut = heads * s.head_dim;
      const rank = x.q_lora_rank;
      const q = rank ? h * rank + rank + rank * qOut : h * qOut;
      const kv =
        h * (s.kv_lora_rank + s.qk_rope) +
        s.kv_lora_rank +
        s.kv_lora_rank * heads * (x.qk_nope_head_dim + x.v_head_dim);
      return q + kv + heads * x.v_head_dim * h;
    }
    const qOut = heads * s.head_dim;
    const kvOut = s.kv_heads * s.head_dim;
    const gate = s.output_gate ? qOut : 0n;
    const weights = 2n * h * qOut + h * gate + 2n * h * kvOut;
    const bias = { none: 0n, qkv: qOut + 2n * kvOut, all: qOut + 2n * kvOut + h };
    const qkNorm = { "": 0n, head: 2n * s.head_dim, full: qOut + kvOut };
    const sinks = family.sinks ? heads : 0n;
    return weights + bias[s.attention_bias] + qkNorm[s.qk_norm] + sinks;
  }

  function count(s, family) {
    const h = s.h;
    const layers = s.layers;
    const norm = family.norm === "rms" ? h : 2n * h;
    let embedding = s.vocab * h * (s.tied || family.encoder ? 1n : 2n);
    if (family.learned_positions) embedding += s.max_context * h + (s.type_vocab || 0n) * h;
    let other = norm;
    if (family.encoder) other += h * h + h;
    const recurrent = s.recurrent_layers;
    const attention_ = (layers - recurrent - s.mlp_only) * attention(s, family);
    const attending = attention_ + recurrent * (s.linear || 0n);
    const mlps = family.hybrid ? s.mlp_only : layers;
    const plainBias = !family.gated_mlp && !family.hybrid;
    const dense = mlp(h, s.inter, family.gated_mlp, s.mlp_bias || plainBias);
    const moeLayers = s.moe_layers;
    let total = embedding + other + layers * BigInt(family.layer_norms) * norm + attending;
    total += (mlps - moeLayers) * dense;
    let active = total;
    if (moeLayers) {
      const expert = mlp(h, s.moe_inter, true, family.expert_bias);
      const shared = s.shared * mlp(h, s.shared_inter, true, false);
      let router = h * s.experts;
      if (family.shared_expert) router += h;
      if (s.extra.router_bias) router += s.experts;
      total += moeLayers * (s.experts * expert + shared + router);
      active = total - moeLayers * (s.experts - s.experts_active) * expert;
    }
    return [total, active, embedding];
  }

  /** ``_vit_layer``: one vision-transformer block (projections and MLP with biases, two
   * LayerNorms). */
  const vitLayer = (h, width) => 4n * (h * h + h) + 2n * h * width + width + h + 4n * h;

  /** ``_siglip_tower``: Gemma 3's SigLIP vision tower with the projection into the language
   * model (``text``). */
  function siglipTower(config, text, where) {
    const tower = jsonObject(config, "vision_config", where);
    const read = reader(tower, { keys: [], defaults: data.siglip_defaults }, where);
    if (read.flag("vision_use_head", false)) {
      throw read.error(engine.text("key 'vision_use_head' is true; not supported"));
    }
    const h = read.integer("hidden_size");
    const width = read.integer("intermediate_size");
    const layers = read.integer("num_hidden_layers", null, 1n, MAX.layers);
    const patch = read.integer("patch_size");
    const image = read.integer("image_size");
    const patches = (image / patch) ** 2n;
    const embed = read.integer("num_channels") * patch * patch * h + h + patches * h;
    const textWidth = reader(text, data.families.gemma3_text, where).integer("hidden_size");
    const projector = h * textWidth + h;
    return [embed + layers * vitLayer(h, width) + 2n * h + projector, 0n, 0n];
  }

  /** ``_qwen_tower``: Qwen3.5's vision tower (patch embedding over frames, learned positions,
   * blocks, the patch merger into the language model). */
  function qwenTower(config, text, where) {
    const tower = jsonObject(config, "vision_config", where);
    const read = reader(tower, { keys: [], defaults: data.qwen_vision_defaults }, where);
    const stacked = read.raw("deepstack_visual_indexes", []);
    if (!(Array.isArray(stacked) && stacked.length === 0)) {
      throw read.error(
        engine.text(
          "key 'deepstack_visual_indexes' is {value!r}; only an empty list is supported",
          { value: asShown(stacked) },
        ),
      );
    }
    const h = read.integer("hidden_size");
    const width = read.integer("intermediate_size");
    const layers = read.integer("depth", null, 1n, MAX.layers);
    const patch = read.integer("patch_size");
    const frames = read.integer("temporal_patch_size");
    let embed = read.integer("in_channels") * frames * patch * patch * h + h;
    embed += read.integer("num_position_embeddings", null, 1n, MAX.context) * h;
    const merged = h * read.integer("spatial_merge_size") ** 2n;
    const out = read.integer("out_hidden_size");
    const merger = 2n * h + merged * merged + merged + merged * out + out;
    const linear = layers * (4n * h * h + 2n * h * width) + merged * merged + merged * out;
    return [embed + layers * vitLayer(h, width) + merger, linear, layers];
  }

  const towers = { siglip: siglipTower, qwen: qwenTower };

  /** ``_qwen_tower_shape``: the sizes of Qwen3.5's vision tower its working set depends on. */
  function qwenTowerShape(config, where) {
    const tower = jsonObject(config, "vision_config", where);
    const read = reader(tower, { keys: [], defaults: data.qwen_vision_defaults }, where);
    const keys = ["hidden_size", "intermediate_size", "num_heads", "in_channels", "patch_size"];
    keys.push("temporal_patch_size", "spatial_merge_size");
    return Object.fromEntries(keys.map((key) => [key, read.integer(key)]));
  }

  /** ``_json_object``: config[key], which must be a JSON object. */
  function jsonObject(config, key, where) {
    const value = Object.prototype.hasOwnProperty.call(config, key) ? config[key] : null;
    if (!isDict(value)) {
      throw configError(
        where,
        engine.text("key {key!r} is {value!r}; expected a JSON object", {
          key: key,
          value: asShown(value),
        }),
      );
    }
    return value;
  }

  const own = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  /** ``_quantization``: what a config's quantization_config says of the weights as shipped,
   * before its patterns are placed. */
  function quantization(config, where) {
    if (!own(config, "quantization_config") || config.quantization_config === null) return null;
    const q = jsonObject(config, "quantization_config", where);
    const method = own(q, "quant_method") ? q.quant_method : null;
    if (typeof method !== "string") {
      throw configError(
        where,
        engine.text("key 'quant_method' is {value!r}; expected a string", {
          value: asShown(method),
        }),
      );
    }
    const shipped = data.shipped.formats;
    let key = "modules_to_not_convert";
    let patterns = own(q, key) ? q[key] : null;
    let [fmt, quantized] = own(shipped, method) ? shipped[method] : [null, []];
    const block = own(q, "weight_block_size") ? q.weight_block_size : [128n, 128n];
    const blocks128 =
      Array.isArray(block) &&
      block.length === 2 &&
      block.every((x) => (typeof x === "bigint" || typeof x === "number") && x == 128);
    const element = own(q, "fmt") ? q.fmt : "e4m3";
    if (method === "fp8" && !(blocks128 && element === "e4m3")) fmt = null;
    let layers = null;
    if (method === "modelopt") [fmt, quantized, key, patterns, layers] = modelopt(q, where);
    if (patterns === null) patterns = [];
    if (!Array.isArray(patterns) || !patterns.every((m) => typeof m === "string")) {
      throw configError(
        where,
        engine.text("key {key!r} is {value!r}; expected a list of strings", {
          key: key,
          value: asShown(patterns),
        }),
      );
    }
    const read = { method: method, format: fmt, quantized: quantized, patterns: patterns };
    return layers === null ? read : { ...read, layers: layers };
  }

  /** ``_modelopt``: a ModelOpt quantization_config's format, default modules and patterns. */
  function modelopt(q, where) {
    let key = "ignore";
    if (own(q, "quantization")) {
      q = jsonObject(q, "quantization", where);
      key = "exclude_modules";
    }
    const algorithm = own(q, "quant_algo") ? q.quant_algo : null;
    const formats = data.shipped.modelopt;
    let [fmt, quantized] = [null, []];
    if (typeof algorithm === "string" && own(formats, algorithm.toUpperCase())) {
      [fmt, quantized] = formats[algorithm.toUpperCase()];
    }
    let group = own(q, "group_size") ? q.group_size : data.shipped.nvfp4_group;
    let layers = null;
    if (typeof algorithm === "string" && algorithm.toUpperCase() === "MIXED_PRECISION") {
      [layers, group] = quantizedLayers(q, where);
      fmt = Object.keys(layers).length ? "mixed" : null;
    }
    const sixteen =
      (typeof group === "bigint" || typeof group === "number") && group == data.shipped.nvfp4_group;
    if ((fmt === "nvfp4" || fmt === "mixed") && !sixteen) fmt = null;
    return [fmt, quantized, key, own(q, key) ? q[key] : null, layers];
  }

  /** ``_quantized_layers``: a MIXED_PRECISION config's quant_algo by module, and its group. */
  function quantizedLayers(q, where) {
    const entries = own(q, "quantized_layers") ? q.quantized_layers : {};
    const object = (x) => typeof x === "object" && x !== null && !Array.isArray(x);
    if (
      !object(entries) ||
      !Object.values(entries).every((e) => object(e) && typeof e.quant_algo === "string")
    ) {
      throw configError(
        where,
        engine.text(
          "key 'quantized_layers' is {value!r}; expected a JSON object of objects with " +
            "a 'quant_algo' string",
          { value: asShown(entries) },
        ),
      );
    }
    const layers = {};
    for (const [name, e] of Object.entries(entries)) layers[name] = e.quant_algo.toUpperCase();
    const mixed = data.shipped.mixed;
    const nvfp4 = Object.values(entries).filter(
      (e) => mixed[e.quant_algo.toUpperCase()] === "nvfp4",
    );
    const first = nvfp4.length && own(nvfp4[0], "group_size") ? nvfp4[0].group_size : null;
    let group = null;
    if (nvfp4.length) group = own(q, "group_size") ? q.group_size : first;
    return [layers, group === null ? data.shipped.nvfp4_group : group];
  }

  /** ``_placed``: the modules shipped quantized and the patterns gpumem cannot place. */
  function placed(shipped, counts) {
    const parts = data.shipped.parts;
    const exact = shipped.method === "fp8";
    const match = exact ? same : matches;
    const covered = new Map(); // "module/part" -> Set of indices, or null: all
    const touching = new Map();
    const unplaced = [];
    const holders = [];
    for (const pattern of shipped.patterns) {
      const [index, form] = indexed(pattern);
      const hits = [];
      for (const module of Object.keys(parts)) {
        parts[module].forEach((names, i) => {
          if (names.some((name) => match(form, name))) hits.push([module, i]);
        });
      }
      if (pattern && !hits.length) {
        if (data.shipped.unquantized.some((n) => match(form, n)) || countsNothing(form)) continue;
        const inside = exact ? held(form) : null;
        if (inside !== null) {
          holders.push([pattern, inside]);
          continue;
        }
      }
      if (!pattern || !hits.length) {
        unplaced.push(pattern);
        continue;
      }
      for (const [module, i] of hits) {
        if (!touching.has(module)) touching.set(module, []);
        if (!touching.get(module).includes(pattern)) touching.get(module).push(pattern);
        const whole = index === null || !parts[module][i][0].includes("#");
        const k = module + "/" + i;
        const seen = covered.has(k) ? covered.get(k) : new Set();
        covered.set(k, whole || seen === null ? null : new Set([...seen, index]));
      }
    }
    const kept = new Set();
    for (const [module, patterns] of touching) {
      const n = own(counts, module) ? counts[module] : 0;
      const limit = module === "vision" ? n : counts.layers; // indices that exist
      const full = parts[module].every((_, i) => {
        const k = module + "/" + i;
        const s = covered.has(k) ? covered.get(k) : new Set();
        return s === null || [...s].filter((x) => x < limit).length >= n;
      });
      if (full) kept.add(module);
      else if (n) for (const p of patterns) if (!unplaced.includes(p)) unplaced.push(p);
    }
    for (const [p, inside] of holders) {
      if ([...inside].some((m) => own(counts, m) && counts[m] && !kept.has(m))) unplaced.push(p);
    }
    if (shipped.format === "mixed") {
      return { method: shipped.method, ...mixed(shipped.layers, kept, counts), unplaced: unplaced };
    }
    const quantized = shipped.quantized.filter((m) => !kept.has(m) && own(counts, m) && counts[m]);
    return {
      method: shipped.method,
      format: shipped.format,
      quantized: shipped.format ? quantized : [],
      unplaced: unplaced,
    };
  }

  /** ``_mixed``: a MIXED_PRECISION checkpoint's modules in each of its two formats, and the
   * modules it leaves without one format gpumem counts. */
  function mixed(layers, kept, counts) {
    const parts = data.shipped.parts;
    const experts = data.shipped.experts;
    const seen = new Map(); // "module/part" -> Map(layer index -> Set of formats)
    const named = new Map(); // module -> the entries naming it, "#" for the layer
    const unresolved = [];
    for (const [name, algorithm] of Object.entries(layers)) {
      const [index, form] = indexed(name);
      const fmt = own(data.shipped.mixed, algorithm) ? data.shipped.mixed[algorithm] : null;
      const under = experts.some((n) => vllmName(form).startsWith(vllmName(n) + "."));
      let hits = [];
      for (const module of Object.keys(parts)) {
        parts[module].forEach((names, i) => {
          if (names.some((n) => same(form, n))) hits.push([module, i]);
        });
      }
      if (experts.some((n) => same(form, n)) || under) {
        hits = parts.experts.map((_, i) => ["experts", i]);
      }
      if (!countsNothing(form) && (fmt === null || !hits.length)) unresolved.push(form);
      for (const [module, i] of hits) {
        const k = module + "/" + i;
        if (!seen.has(k)) seen.set(k, new Map());
        if (!seen.get(k).has(index)) seen.get(k).set(index, new Set());
        seen.get(k).get(index).add(fmt);
        if (!named.has(module)) named.set(module, []);
        named.get(module).push(form);
      }
    }
    const formats = new Map();
    for (const module of Object.keys(parts)) {
      const n = own(counts, module) ? counts[module] : 0;
      if (!n || kept.has(module)) continue;
      const states = new Set();
      parts[module].forEach((names, i) => {
        const found = seen.get(module + "/" + i) || new Map();
        for (const held of found.values()) for (const f of held) states.add(f);
        if (found.size < (names[0].includes("#") ? n : 1)) states.add(null);
      });
      if (states.size > 1) unresolved.push(...named.get(module));
      else if (!states.has(null)) formats.set(module, [...states][0]);
    }
    const used = [...formats.values()];
    const order = [...new Set(Object.values(data.shipped.mixed))].filter((f) => used.includes(f));
    order.push(null, null);
    const inFormat = (f) => [...formats].filter(([, g]) => g === f).map(([m]) => m);
    return {
      format: order[0],
      quantized: inFormat(order[0]),
      second_format: order[1],
      second_quantized: inFormat(order[1]),
      unresolved: [...new Set(unresolved)],
    };
  }

  /** ``_indexed``: the layer or block index a pattern names, and the pattern with ``#``. */
  function indexed(pattern) {
    const found = /(?:^|\.)(?:layers|blocks)\.([0-9]+)\./.exec(pattern);
    if (found === null) return [null, pattern];
    const start = found.index + found[0].length - found[1].length - 1;
    const end = start + found[1].length;
    return [Number(found[1]), pattern.slice(0, start) + "#" + pattern.slice(end)];
  }

  /** ``_vllm``: a module name as vLLM spells it. */
  function vllmName(name) {
    for (const [prefix, renamed] of Object.entries(data.shipped.vllm_prefixes)) {
      if (name.startsWith(prefix)) return renamed + name.slice(prefix.length);
    }
    return name;
  }

  /** ``_same``: whether an FP8 exclusion pattern names a module, both spelled as vLLM does. */
  function same(pattern, name) {
    return vllmName(pattern) === vllmName(name);
  }

  /** ``_counts_nothing``: whether a pattern names a module holding nothing gpumem counts. */
  function countsNothing(pattern) {
    const name = vllmName(pattern);
    return data.shipped.nothing_counted.some((n) => name === n || name.startsWith(n + "."));
  }

  /** ``_held``: the quantizable modules with a part inside the module a pattern names. */
  function held(pattern) {
    const inside = vllmName(pattern + ".");
    const parts = data.shipped.parts;
    const under = (n) => vllmName(n).startsWith(inside);
    const known = Object.values(parts).flat(2).concat(data.shipped.unquantized);
    if (!known.some(under)) return null;
    return new Set(Object.keys(parts).filter((m) => parts[m].some((names) => names.some(under))));
  }

  /** ``_matches``: whether an exclusion pattern covers a module name. */
  function matches(pattern, name) {
    if (name.includes(pattern)) return true;
    const body = [...pattern]
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
      .join("");
    const wildcard = new RegExp("^(?:" + body + ")$", "u");
    const names = name.split(".");
    for (let n = 1; n <= names.length; n++) {
      if (wildcard.test(names.slice(0, n).join("."))) return true;
    }
    return false;
  }

  /** ``_module_counts``: how many layers (or vision blocks) hold each quantizable module. */
  function moduleCounts(s, blocks, family) {
    const layers = Number(s.layers);
    const moe = Number(s.moe_layers);
    const recurrent = Number(s.recurrent_layers);
    const mlpOnly = Number(s.mlp_only);
    const deltaNet = family.linear_attention ? recurrent : 0;
    return {
      layers: layers,
      attention: layers - recurrent - mlpOnly,
      dense: mlpOnly || layers - moe,
      experts: moe,
      shared: s.shared > 0n ? moe : 0,
      recurrent_in: deltaNet,
      recurrent_gates: deltaNet,
      recurrent_out: deltaNet,
      lm_head: s.tied ? 0 : 1,
      vision: Number(blocks),
    };
  }

  /** ``_text_config``: the language model's config nested in a multimodal one. */
  function textConfig(config, where, modelType) {
    const text = jsonObject(config, "text_config", where);
    const inner = Object.prototype.hasOwnProperty.call(text, "model_type")
      ? text.model_type
      : modelType;
    if (inner !== modelType) {
      throw configError(
        where,
        engine.text(
          "text_config model_type {type!r} is not supported; supported: {supported}",
          { type: asShown(inner), supported: modelType },
        ),
      );
    }
    const merged = Object.assign(Object.create(null), text, { model_type: modelType });
    if (own(config, "tie_word_embeddings") && !own(text, "tie_word_embeddings")) {
      merged.tie_word_embeddings = config.tie_word_embeddings;
    }
    return merged;
  }

  /** ``from_config`` followed by ``gpumem.calcdata.model_entry``: the model as the
   * calculator knows it (fields and the memory model's inputs). */
  function fromConfig(config, name, source) {
    const where = source || name;
    if (!isDict(config)) {
      throw configError(
        where,
        engine.text("expected a JSON object, got {type}", { type: typeName(config) }),
      );
    }
    const modelType = Object.prototype.hasOwnProperty.call(config, "model_type")
      ? config.model_type
      : null;
    const known =
      typeof modelType === "string" &&
      Object.prototype.hasOwnProperty.call(data.families, modelType);
    if (!known) {
      const supported = Object.keys(data.families).sort().join(", ");
      const problem =
        modelType === null
          ? engine.text("no 'model_type' key; supported: {supported}", { supported: supported })
          : engine.text("model_type {type!r} is not supported; supported: {supported}", {
              type: asShown(modelType),
              supported: supported,
            });
      throw configError(where, problem);
    }
    let family = data.families[modelType];
    let shipped = quantization(config, where);
    let [vision, visionLinear, blocks] = [0n, 0n, 0n];
    let tower = null;
    if (family.text) {
      const text = textConfig(config, where, family.text);
      if (family.vision) [vision, visionLinear, blocks] = towers[family.vision](config, text, where);
      if (family.vision === "qwen") tower = qwenTowerShape(config, where);
      config = text;
      family = data.families[family.text];
    }
    const read = reader(config, family, where);
    const s = shape(read, family);
    if (shipped !== null) {
      if (family.hybrid && shipped.method === "modelopt") shipped.format = null;
      shipped = placed(shipped, moduleCounts(s, blocks, family));
    }
    let [total, active, embedding] = count(s, family);
    if (vision) {
      total += vision;
      active += vision;
    }
    if (total > MAX.parameters) {
      throw read.error(
        engine.text(
          "the configuration describes {n:.3g} parameters; at most {limit:.0e} are accepted",
          { n: Number(total), limit: Number(MAX.parameters) },
        ),
      );
    }
    const slidingLayers = s.sliding_layers;
    const moe = s.experts > 0n;
    const moeLayers = moe ? s.moe_layers : 0n;
    const quantized = shipped === null ? [] : shipped.quantized;
    const flag = (condition) => (condition ? 1n : 0n);
    // ``_shipped_flags``: q_a … q_v (suffix "2": of the second format) of the modules shipped
    const shippedFlags = (modules, suffix) =>
      Object.fromEntries(
        Object.entries(data.shipped.keys).map(([m, key]) => [
          "q_" + key + suffix,
          flag(modules.includes(m)),
        ]),
      );
    return {
      name: name,
      family: modelType,
      parameters: total,
      active_parameters: active,
      n_layers: s.layers,
      hidden_size: s.h,
      n_heads: s.heads,
      max_context: s.max_context,
      n_dense_layers: moe ? s.layers - s.moe_layers : 0n,
      sliding_window: slidingLayers ? s.window : 0n,
      attention_chunk: s.chunked_layers ? s.chunk : 0n,
      quantization: shipped,
      vision_parameters: vision,
      vision_tower: tower,
      recurrent_state_dtype: s.extra.recurrent_state_dtype || null,
      mtp_layers: s.extra.mtp_layers || 0n,
      inputs: {
        P: total,
        P_a: active,
        P_e: embedding,
        L: s.layers,
        h: s.h,
        n_h: s.heads,
        n_kv: s.kv_heads,
        d_h: s.head_dim,
        f_d: moe ? 0n : s.inter,
        f_e: s.moe_inter,
        n_s: s.shared,
        f_s: s.shared_inter,
        m_g: family.gated_mlp ? 3n : 2n,
        n_e: s.experts,
        k_e: s.experts_active,
        V: s.vocab,
        c_kv: s.kv_lora_rank,
        d_r: s.qk_rope,
        c_q: s.extra.q_lora_rank || 0n,
        d_v: s.extra.v_head_dim || 0n,
        k_c: family.encoder ? 0n : 1n,
        L_w: slidingLayers,
        w: (slidingLayers ? s.window : 0n) || 1n,
        L_c: s.chunked_layers,
        w_c: (s.chunked_layers ? s.chunk : 0n) || 1n,
        L_r: s.recurrent_layers,
        e_r: s.recurrent_state,
        e_t: s.extra.recurrent_temporal_state || 0n,
        c_r: s.extra.recurrent_conv_channels || 0n,
        n_g: s.extra.recurrent_value_heads || 0n,
        d_gk: s.extra.recurrent_key_dim || 0n,
        d_gv: s.extra.recurrent_value_dim || 0n,
        L_n: s.mlp_only,
        W_f: 0n,
        t_w: s.tied ? 1n : 0n,
        P_n: data.families[modelType].norm === "layer" ? 2n * s.h : s.h,
        L_e: moeLayers,
        L_d: s.mlp_only || s.layers - moeLayers,
        f_x: s.inter,
        g_q: flag(s.output_gate),
        ...shippedFlags(quantized, ""),
        ...shippedFlags(shipped === null ? [] : shipped.second_quantized || [], "2"),
        P_v: visionLinear,
      },
    };
  }

  /** The model of a pasted config.json: ``{model}`` (for the engine) or a GpumemError. */
  function readConfig(textIn, source) {
    let config;
    try {
      config = parseJson(textIn);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw configError(
        source,
        engine.text("not valid JSON: {error}", { error: error.message }),
      );
    }
    let name = "config";
    const saved = isDict(config) ? config._name_or_path : undefined;
    if (typeof saved === "string") {
      const last = saved.replace(/\\/g, "/").replace(/\/+$/, "").split("/").pop();
      if (last.length > 0 && last.length <= 200) name = last;
    }
    return fromConfig(config, name, source);
  }

  return { parseJson: parseJson, fromConfig: fromConfig, readConfig: readConfig, shown: shown };
});
