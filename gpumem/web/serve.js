/* The calculator's serving figures: gpumem.serve.serve step for step, on the formulas
 * generated from the symbolic model (formulas.js) through the engine's evaluation
 * (engine.js), with vLLM's defaults and modelled terms exported by gpumem.calcdata
 * (data.serving: every engine row). It holds no formula: the budget, blocks, tokens and concurrency are
 * generated formulas; the defaults, vLLM's KV-cache groups and its search for the longest
 * request are the control flow of gpumem.serve.
 *
 * Numbers keep Python's types, as in engine.js: an int is a BigInt, a float a Number.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory;
  else root.gpumemServe = factory;
})(typeof self !== "undefined" ? self : this, function (fx, data, engine) {
  "use strict";
  const rt = fx.runtime;
  const S = data.serving;
  const int = (x) => BigInt(x);
  /** A number of engine row ``id`` with its Python type: an int as a BigInt. */
  const number = (id, key) => (S.floats[id].includes(key) ? S.engines[id][key] : int(S.engines[id][key]));
  const PREFILL = ["engine_deltanet_workspace", "engine_mlp_width", "engine_prefill_workspace"];
  /** serve.py's _GRAPH_SIZES: the formulas of the CUDA-graph batch sizes. */
  const GRAPH_SIZES = ["cudagraph_ceiling", "cudagraph_max_size", "cudagraph_off_grid", "cudagraph_seqs_off_grid", "cudagraph_decode_sizes", "cudagraph_decode_sizes_rounded"];
  const ENCODER = ["encoder_image_tokens", "encoder_video_tokens", "encoder_item_tokens", "encoder_items", "encoder_patches", "encoder_pixels", "encoder_outputs", "encoder_workspace"];
  const BUDGET = ["weights", "engine_load_extra", ...PREFILL, ...ENCODER, "fused_moe_workspace", "sampler_logits", "engine_sampler_run", "engine_v2_sampler_run", "engine_runner_sampler", "engine_stage_intermediate", "engine_runner_buffers", "engine_compile_transient", "engine_profile_peak", "mtp_parameters", "mtp_weights", "serve_budget"];
  /** ``_NO_ENCODER``: the encoder inputs of a model whose encoder vLLM does not profile. */
  const NO_ENCODER = { X_i: 0n, X_v: 0n, p_v: 1n, m_v: 1n, t_pv: 1n, C_v: 0n, d_e: 0n, f_v: 0n, n_hv: 1n, n_li: 0n, n_lv: 0n };

  /** Whether gpumem profiles the vision encoder of ``m`` (a processor of its family and a
   * vision tower): the models ``language_model_only`` applies to. */
  const profilesEncoder = (m) => Boolean(S.encoder_profile.families[m.family] && m.vision_tower);

  /** ``_encoder`` at vLLM's default limits (the calculator sets none), or none with
   * ``languageModelOnly``: the vision tower's sizes and its processor's largest image and
   * video, for a model whose encoder gpumem profiles; the others refuse the switch. */
  function encoder(m, languageModelOnly, maxModelLen) {
    if (typeof languageModelOnly !== "boolean") {
      throw engine.invalidValue("language_model_only", languageModelOnly, engine.text("True or False"));
    }
    const P = S.encoder_profile;
    const processor = P.families[m.family];
    const t = m.vision_tower;
    if (!profilesEncoder(m)) {
      if (languageModelOnly) {
        throw engine.invalidValue(
          "language_model_only",
          true,
          engine.text("a vision-language model of the Qwen3.5 generation, whose vision encoder gpumem profiles; {model} is not one", { model: m.name }),
        );
      }
      return Object.assign({}, NO_ENCODER, { s_mx: maxModelLen });
    }
    const limit = languageModelOnly ? 0n : int(P.default_limit_per_prompt);
    return {
      X_i: int(processor.image_max_pixels),
      X_v: int(processor.video_max_pixels),
      p_v: int(t.patch_size),
      m_v: int(t.spatial_merge_size),
      t_pv: int(t.temporal_patch_size),
      C_v: int(t.in_channels),
      d_e: int(t.hidden_size),
      f_v: int(t.intermediate_size),
      n_hv: int(t.num_heads),
      n_li: limit,
      n_lv: limit,
      s_mx: maxModelLen,
    };
  }

  /** ``_language_model``: ``m`` as vLLM loads it when no modality is enabled, without its
   * vision tower. */
  function languageModel(m) {
    const vision = m.vision_parameters || 0n;
    if (!vision) return m;
    const active = (m.active_parameters || m.parameters) - vision;
    return Object.freeze(
      Object.assign({}, m, {
        parameters: m.parameters - vision,
        active_parameters: active,
        vision_parameters: 0n,
        inputs: Object.assign({}, m.inputs, { P: m.parameters - vision, P_a: active, P_v: 0n }),
      }),
    );
  }
  const CACHE = ["kv_page", "kv_blocks", "blocks_per_request", "kv_tokens", "max_concurrency"];

  const SPECULATIVE_KEYS = ["method", "num_speculative_tokens"];
  const SPECULATIVE_METHODS = ["mtp"];

  /** ``_speculative``: the symbols of vLLM's --speculative-config (null: none): n_sd draft
   * tokens a step and L_m MTP layers loaded as the drafter; method mtp only, on a model whose
   * config has MTP layers; without num_speculative_tokens as many as the module has layers. */
  function speculative(m, config, pp) {
    if (config === null) return { n_sd: 0n, L_m: 0n };
    if (typeof config !== "object" || Array.isArray(config)) {
      throw engine.invalidValue(
        "speculative_config",
        config,
        engine.text('a mapping such as {{"method": "mtp", "num_speculative_tokens": 3}}'),
      );
    }
    for (const key of Object.keys(config)) {
      if (!SPECULATIVE_KEYS.includes(key)) {
        throw engine.invalidValue(
          "speculative_config",
          key,
          engine.text("one of the keys {keys}", { keys: SPECULATIVE_KEYS.join(", ") }),
        );
      }
    }
    const method = Object.hasOwn(config, "method") ? config.method : null;
    if (!SPECULATIVE_METHODS.includes(method)) {
      throw engine.invalidValue(
        "speculative_config.method",
        method,
        engine.text(
          "{methods}: the checkpoint's multi-token-prediction module as the drafter (gpumem does not follow other drafters)",
          { methods: SPECULATIVE_METHODS.join(", ") },
        ),
      );
    }
    const layers = m.mtp_layers || 0n;
    if (!layers) {
      throw engine.invalidValue(
        "speculative_config.method",
        method,
        engine.text(
          "a method {model} has a drafter for: its config has no multi-token-prediction layers (mtp_num_hidden_layers, num_nextn_predict_layers)",
          { model: m.name },
        ),
      );
    }
    if (pp !== 1n) {
      throw engine.invalidValue(
        "pp",
        pp,
        engine.text("1 with speculative decoding (gpumem does not follow a drafter over stages)"),
      );
    }
    const tokens = Object.hasOwn(config, "num_speculative_tokens") ? config.num_speculative_tokens : layers;
    return { n_sd: positive("speculative_config.num_speculative_tokens", tokens), L_m: layers };
  }

  /** ``_groups``: vLLM's KV-cache groups: one of every layer when all attend alike, else
   * groups of g layers for each kind (full, sliding window, chunked, recurrent), g the smallest kind's
   * count (the largest's if it is under 1.5 times the smallest); the drafter's MTP layers join
   * the full (or latent) ones. */
  function groups(m, pp, drafter) {
    const x = m.inputs;
    // ModelSpec.layer_types (MLA counts as full)
    const counts = {
      full: m.n_layers - x.L_n - x.L_w - x.L_c - x.L_r + drafter,
      sliding: x.L_w,
      chunked: x.L_c,
      recurrent: x.L_r,
    };
    const present = Object.entries(counts).filter(([, count]) => count);
    const sizes = present.map(([, count]) => count);
    const small = sizes.reduce((a, b) => (b < a ? b : a));
    const large = sizes.reduce((a, b) => (b > a ? b : a));
    const size = present.length === 1 || Number(large) < 1.5 * Number(small) ? large : small;
    const per = Object.fromEntries(present.map(([kind, count]) => [kind, rt.$ceil_div(count, size)]));
    return {
      L_g: rt.$ceil_div(size, pp),
      n_G: Object.values(per).reduce((a, b) => a + b, 0n),
      n_gw: per.sliding || 0n,
      n_gc: per.chunked || 0n,
      n_gr: per.recurrent || 0n,
    };
  }

  function positive(name, value) {
    if (typeof value !== "bigint" || value < 1n) {
      throw engine.invalidValue(name, value, engine.text("a positive integer"));
    }
    return value;
  }

  /** ``engine_for``: the row of a vLLM release: ``vllm`` from 0.20, ``vllm-0.17`` from 0.17,
   * ``vllm-0.13`` from 0.13, ``vllm-0.8`` before. */
  function engineFor(version) {
    const [major, minor] = version.match(/\d+/g).slice(0, 2).map(BigInt);
    const from = (a, b) => major > a || (major === a && minor >= b);
    if (from(0n, 20n)) return "vllm";
    return from(0n, 17n) ? "vllm-0.17" : from(0n, 13n) ? "vllm-0.13" : "vllm-0.8";
  }

  /** ``_release``: the vLLM release ``name`` writes, as numbers; null for anything else. */
  function release(name) {
    const parts = /^(\d+)\.(\d+)(?:\.(\d+))?(?:(?:rc|\.dev|\+)\S*)?$/.exec(String(name).trim());
    return parts ? parts.slice(1).map((part) => BigInt(part || 0)) : null;
  }

  /** Python's tuple comparison ``a >= b`` of two releases. */
  function atLeast(a, b) {
    const index = a.findIndex((part, i) => part !== b[i]);
    return index < 0 || a[index] > b[index];
  }

  /** ``engine_named``: the row named by ``name``: a row id or a vLLM release from the oldest
   * one a row follows, whose generation's row it picks. */
  function engineNamed(name) {
    const rows = Object.keys(S.engines);
    if (rows.includes(name)) return name;
    const parts = release(name);
    if (parts && atLeast(parts, S.oldest.split(".").map(BigInt))) return engineFor(parts.join("."));
    throw engine.invalidValue(
      "engine",
      name,
      engine.text("{rows} or a vLLM release from {oldest}, such as 0.19.1", {
        rows: rows.join(", "),
        oldest: S.oldest,
      }),
    );
  }

  /** ``_runner_rule``: the row's model_runner rules and the release they are read at (the
   * release engineId names, the row's row_release for a row id); nulls for a row whose
   * releases run the first runner only. */
  function runnerRule(E, engineId) {
    const rules = E.model_runner;
    if (!rules) return { rules: null, at: null };
    return { rules: rules, at: release(engineId) || release(rules.row_release) };
  }

  /** ``_at_least``: whether the release engineId names (a row id: the row's row_release) is
   * ``first`` or later; false for no ``first`` or a row that names no release. */
  function atLeastRelease(E, engineId, first) {
    const { at } = runnerRule(E, engineId);
    return Boolean(first) && at !== null && atLeast(at, release(first));
  }

  /** ``runner_for``: the model runner vLLM runs ``m`` with, "v2" or "v1", as the release
   * decides by default (listed architectures, every dense model, or every model; a hybrid
   * only where its architecture is listed), or as given ("v1", "v2"). */
  function runnerFor(m, engineId, given) {
    if (!["auto", "v1", "v2"].includes(given)) {
      throw engine.invalidValue("model_runner", given, engine.text("one of {names}", { names: "auto, v1, v2" }));
    }
    const { rules, at } = runnerRule(S.engines[engineNamed(engineId)], engineId);
    const defaults = rules ? rules.default_v2.filter((r) => atLeast(at, release(r.from))) : [];
    if (!defaults.length) {
      if (given === "v2") {
        throw engine.invalidValue(
          "model_runner",
          given,
          engine.text("v1 or auto for {engine}: gpumem follows vLLM's second model runner from 0.22.0", {
            engine: engineId,
          }),
        );
      }
      return "v1";
    }
    if (given !== "auto") return given;
    const rule = defaults[defaults.length - 1];
    const listed = rule.architectures.includes(rules.architectures[m.family]);
    const quantized = Boolean(rule.unquantized_only && m.quantization);
    let second;
    if (rule.every_model) second = true;
    else if (m.inputs.L_r) second = rule.hybrid === "listed" && listed;
    else second = (listed && !quantized) || Boolean(rule.every_dense_model && !m.inputs.n_e);
    return second ? "v2" : "v1";
  }

  /** ``_runner_values``: the runner's inputs into ``values`` (c_rb from the row's
   * buffers_counted_from, either runner; the second runner's c_v2, c_gs, its sampler's l_s,
   * c_sw from the row's sampler_warmup, a top-k/top-p buffer only in that pass off FlashInfer);
   * whether the runner estimates CUDA graphs. */
  function runnerValues(E, engineId, runner, values) {
    Object.assign(values, { c_v2: 0n, c_rb: 0n, c_gs: 0n, c_sw: 0n });
    const { rules, at } = runnerRule(E, engineId);
    if (rules) values.c_rb = atLeast(at, release(rules.buffers_counted_from)) ? 1n : 0n;
    if (runner === "v1") return true;
    const graphs = atLeast(at, release(rules.cudagraph_estimate_from));
    const fp32 = rules.sampler_fp32_bytes_per_logit.filter((r) => atLeast(at, release(r.from)));
    const warmup = rules.sampler_warmup;
    const secondPass = Boolean(warmup) && atLeast(at, release(warmup.from));
    Object.assign(values, {
      c_v2: 1n,
      c_gs: graphs ? 1n : 0n,
      l_s: int(fp32[fp32.length - 1].bytes),
      c_sw: secondPass ? 1n : 0n,
      // the Triton top-k/top-p buffer only in the second pass where FlashInfer does not run
      n_tk: secondPass && !values.c_fs ? values.n_tk : 0n,
    });
    return graphs;
  }

  /** ``COMPILE_CACHES``: a first start, which compiles inside vLLM's memory profile, or a
   * restart that loads the compiled model from the cache. */
  const COMPILE_CACHES = ["cold", "warm"];

  /** ``_compile_values``: the first compile's inputs into ``values`` (c_cc, k_tc); the start
   * assumed, "cold" by default on the second runner, null on the first (given: refused). */
  function compileValues(E, runner, given, values) {
    if (given !== null && !COMPILE_CACHES.includes(given)) {
      throw engine.invalidValue("compile_cache", given, engine.text("one of {names}", { names: COMPILE_CACHES.join(", ") }));
    }
    Object.assign(values, { c_cc: 0n, k_tc: 0n });
    if (runner === "v1") {
      if (given !== null) {
        throw engine.invalidValue(
          "compile_cache",
          given,
          engine.text(
            "nothing with vLLM's first model runner, whose fitted terms hold whatever compile state their launches had (--model-runner v2 for the second)",
          ),
        );
      }
      return null;
    }
    const start = given || "cold";
    const fitted = int(E.model_runner.compile_transient.bytes_per_hidden_unit);
    Object.assign(values, { c_cc: start === "cold" ? 1n : 0n, k_tc: fitted });
    return start;
  }

  /** ``_settings``: the launch's settings with vLLM's defaults filled in. */
  function settings(E, m, total, gpuName, o) {
    const batch = E.batch_defaults.find(
      (d) =>
        total >= int(d.min_device_bytes) &&
        !(d.unless_name_contains && gpuName.toLowerCase().includes(d.unless_name_contains)),
    );
    const length = o.max_model_len;
    if (length !== null && length !== "auto") {
      positive("max_model_len", length);
      if (length > m.max_context) {
        throw engine.invalidValue(
          "max_model_len",
          length,
          engine.text("at most the context window of {model}, {tokens:,} tokens", {
            model: m.name,
            tokens: m.max_context,
          }),
        );
      }
    }
    const given = (value, byDefault) => (value === null ? int(byDefault) : value);
    return {
      max_model_len: length === null || length === "auto" ? m.max_context : length,
      max_num_seqs: positive("max_num_seqs", given(o.max_num_seqs, batch.max_num_seqs)),
      max_num_batched_tokens: positive(
        "max_num_batched_tokens",
        given(o.max_num_batched_tokens, batch.max_num_batched_tokens),
      ),
    };
  }

  /** ``_recurrent_cache``: vLLM's recurrent state into ``values``: its temporal part e_t in
   * b_r bytes a value (the config's mamba_ssm_dtype where the release reads it, a family's
   * default, else the model's dtype) and c_pa, 1 in mamba_cache_mode 'align' (prefix caching,
   * asked for or by default from the row's prefix_caching_default_from); returns the mode,
   * null for a model without recurrent layers. */
  function recurrentCache(E, m, values, prefixCaching, engineId, capability) {
    if (prefixCaching !== null && typeof prefixCaching !== "boolean") {
      throw engine.invalidValue("enable_prefix_caching", prefixCaching, engine.text("True or False"));
    }
    const R = E.recurrent_cache;
    if (prefixCaching === null) {
      const first = R.prefix_caching_default_from;
      const parts = release(engineId);
      prefixCaching = first !== null && (parts === null || atLeast(parts, release(first)));
    }
    Object.assign(values, { e_t: 0n, b_r: values.b_a, c_pa: 0n, c_ck: 0n });
    if (!m.inputs.L_r) return null;
    // up to 0.27 'all' for these families; from 0.28.0 'align' for every hybrid
    const at = release(engineId) || runnerRule(E, engineId).at;
    const alignAll = R.align_for_every_family_from;
    const allMode = !(alignAll && at && atLeast(at, release(alignAll)));
    if (prefixCaching && allMode && R.all_mode_families.includes(m.family)) {
      throw engine.invalidValue(
        "enable_prefix_caching",
        prefixCaching,
        engine.text(
          "False for {model}: with prefix caching (vLLM's default for hybrid models from 0.26.0) vLLM keeps a block of a Mamba-2 model's state for every block of tokens ('all' mode), which gpumem does not follow",
          { model: m.name },
        ),
      );
    }
    const own = R.state_dtype_from_config ? m.recurrent_state_dtype : null;
    const state = own || (Object.hasOwn(R.family_state_dtypes, m.family) ? R.family_state_dtypes[m.family] : null);
    values.e_t = m.inputs.e_t;
    values.b_r = state ? engine.toInt(engine.bytesPerValue(engine.getFormat(state))) : values.b_a;
    values.c_pa = prefixCaching && R.align_mode ? 1n : 0n;
    const checkpoint = R.prefill_checkpoint;
    values.c_ck = checkpoint && checkpoint.families.includes(m.family) && at &&
      atLeast(at, release(checkpoint.from)) ? 1n : 0n;
    // gated DeltaNet layers whose prefill FlashInfer runs keep a checkpoint block too, and
    // their blocks align to its grid (the row's flashinfer_gdn_checkpoint, by the GPU)
    const gdn = R.flashinfer_gdn_checkpoint;
    if (values.c_pa && gdn && gdn.families.includes(m.family) && gdn.capabilities.includes(capability) &&
      at && atLeast(at, release(gdn.from))) {
      values.c_ck = 1n;
      const gcd = (a, b) => (b ? gcd(b, a % b) : a);
      const alignment = int(gdn.alignment);
      values.a_b = (values.a_b / gcd(values.a_b, alignment)) * alignment;
    }
    return values.c_pa ? "align" : "none";
  }

  /** ``_block_size``: tokens per attention block; for a hybrid model vLLM raises it until an
   * attention page holds a recurrent layer's state, and a smaller given one is refused. */
  function blockSize(m, values, given, byDefault) {
    if (!m.inputs.L_r) return positive("block_size", given === null ? int(byDefault) : given);
    const needed = engine.toInt(engine.evaluate(["recurrent_page", "hybrid_block_size"], values).hybrid_block_size);
    if (given === null) return rt.$max(int(byDefault), needed);
    if (positive("block_size", given) < needed) {
      throw engine.invalidValue(
        "block_size",
        given,
        engine.text(
          "at least {tokens} for {model}: an attention page must hold a recurrent layer's state",
          { tokens: needed, model: m.name },
        ),
      );
    }
    return given;
  }

  /** ``_longest_request``: vLLM's binary search for the longest request the cache holds. */
  function longestRequest(values) {
    const fits = (length) =>
      engine.evaluate(["blocks_per_request"], Object.assign({}, values, { s: length }))
        .blocks_per_request <= values.kv_blocks;
    let low = 0n;
    let high = values.s;
    while (low < high) {
      const middle = (low + high + 1n) / 2n;
      if (fits(middle)) low = middle;
      else high = middle - 1n;
    }
    return low;
  }

  /** ``_sampler_device``: rows of the Triton top-k/top-p kernel's cached buffer (min(SMs,
   * rows) programs, rounded up to a power of two, at most the GPU's SMs, the row's assumed
   * count where the catalog (data.gpus) has none; from 8 rows, in releases that have it) and
   * the cuBLAS workspace by compute capability, with the assumed count where the kernel runs
   * and the catalog has none (else null); a row without cublas_workspace holds them in its
   * fitted terms. */
  function samplerDevice(E, gpu, seqs) {
    if (!("cublas_workspace" in E)) return { n_tk: 0n, M_blas: 0n, c_fs: 0n, assumed: null };
    const blas = E.cublas_workspace;
    // device.multiprocessors, device.compute_capability: a GPU given by its memory alone
    // (gpumem.cli._budget, not in the catalog) has neither
    const known = Object.hasOwn(data.gpus, gpu.id) ? data.gpus[gpu.id] : gpu;
    const large = blas.large_capabilities.includes(known.compute_capability);
    const kernel = Boolean(E.sampler_topk_buffer) && seqs >= 8n;
    const assumed = kernel && !known.multiprocessors ? int(E.multiprocessors_assumed) : null;
    const units = int(known.multiprocessors || E.multiprocessors_assumed);
    const programs = rt.$min(units, seqs);
    // Python's 1 << (programs - 1).bit_length()
    const bits = programs > 1n ? (programs - 1n).toString(2).length : 0;
    const rows = kernel ? rt.$min(1n << BigInt(bits), units) : 0n;
    // where vLLM samples top-k/top-p with FlashInfer (the row's model_runner.sampler_warmup)
    const warmup = E.model_runner && E.model_runner.sampler_warmup;
    const flashinfer = Boolean(warmup) &&
      warmup.flashinfer_capabilities.includes(known.compute_capability) &&
      units >= int(warmup.flashinfer_min_multiprocessors);
    return {
      n_tk: rows,
      M_blas: int(large ? blas.large_bytes : blas.bytes),
      c_fs: flashinfer ? 1n : 0n,
      assumed: assumed,
    };
  }

  /** ``_marlin_group``: input columns that share one of the scales vLLM's Marlin kernels keep
   * for FP8 weights (the row's fp8_marlin), 0 where vLLM does not run them through Marlin: the
   * weight format (the dtype's, else the checkpoint's as shipped) among the row's
   * scale_groups, on the compute capabilities it lists (its block_capabilities_from's from
   * that release, the row's newest for a row id). */
  function marlinGroup(E, gpu, m, dtype, engineId) {
    const marlin = E.fp8_marlin;
    const shipped = m.quantization ? m.quantization.format : null;
    const form = dtype ? engine.getFormat(dtype).name : shipped;
    if (!marlin || !Object.hasOwn(marlin.scale_groups, form)) return 0n;
    let capabilities = marlin.capabilities;
    const later = marlin.block_capabilities_from;
    const parts = release(engineId);
    if (later && (parts === null || atLeast(parts, release(later.release)))) {
      capabilities = later.capabilities;
    }
    // a GPU given by its memory alone (gpumem.cli._budget) has no compute capability
    const known = Object.hasOwn(data.gpus, gpu.id) ? data.gpus[gpu.id] : gpu;
    return capabilities.includes(known.compute_capability) ? int(marlin.scale_groups[form]) : 0n;
  }

  /** ``_non_torch``: memory outside PyTorch that grows while vLLM profiles; on one GPU the
   * second runner's figure where the row has one; with tensor parallelism the row's figure
   * for how the GPUs reach each other (the catalog's peer_link), the row's ``unknown`` link's
   * where that is not known (then named in ``assumed``), and NVLink's on the compute
   * capabilities where FlashInfer's all-reduce fusion is on over PCIe too. */
  function nonTorch(E, gpu, tp, runner) {
    const figures = E.non_torch_bytes_tensor_parallel;
    if (tp === 1n || !figures) {
      const second = runner === "v2" && E.model_runner ? E.model_runner.non_torch : null;
      return { bytes: int(tp === 1n && second ? second.bytes : E.non_torch_bytes), assumed: null };
    }
    // a GPU given by its memory alone (gpumem.cli._budget) has no peer_link
    const known = Object.hasOwn(data.gpus, gpu.id) ? data.gpus[gpu.id] : gpu;
    let link = known.peer_link;
    if (link === "pcie" && figures.pcie_except_capabilities.includes(known.compute_capability)) {
      link = "nvlink";
    }
    const assumed = link ? null : figures.unknown;
    return { bytes: int(figures[link || assumed]), assumed: assumed };
  }

  /** ``_runs_flashinfer``: whether vLLM's attention backend is FlashInfer under the row's rule
   * (a quantized cache FlashAttention does not hold on the GPU, MLA aside). */
  function runsFlashinfer(graphs, capability, m, values) {
    return (
      Number(values.b_kv) < graphs.flashinfer_cache_bytes_below &&
      !graphs.flashinfer_except_capabilities.includes(capability) &&
      !m.inputs.c_kv
    );
  }

  /** ``_speculative_full``: compute capabilities where FlashInfer's FULL CUDA graphs hold
   * decodes with draft tokens at the release engineId names (flashinfer_speculative_full_from
   * adds some from a release). */
  function speculativeFull(E, graphs, engineId) {
    const added = (graphs.flashinfer_speculative_full_from || [])
      .filter((rule) => atLeastRelease(E, engineId, rule.from))
      .flatMap((rule) => rule.capabilities);
    return graphs.flashinfer_speculative_full_capabilities.concat(added);
  }

  /** ``_cudagraph_estimate``: what vLLM estimates its CUDA graphs to take (the row's
   * cudagraph_estimate), null for a row without one; the first piecewise capture holds the
   * forward pass's working set at the largest batch, the first FULL capture FlashAttention 3's
   * split accumulators where the row's GPUs run it (for MLA as wide as the latent), or
   * FlashInfer's workspaces
   * where the launch runs FlashInfer; from the row's max_num_seqs_size_from max_num_seqs is one
   * of the sizes. */
  function cudagraphEstimate(E, gpu, m, values, engineId) {
    const graphs = E.cudagraph_estimate;
    if (!graphs) return null;
    const known = Object.hasOwn(data.gpus, gpu.id) ? data.gpus[gpu.id] : gpu;
    const large = graphs.large_capabilities.includes(known.compute_capability);
    const splits = graphs.fa3_capabilities.includes(known.compute_capability);
    const flashinfer = runsFlashinfer(graphs, known.compute_capability, m, values);
    const fullDrafts = speculativeFull(E, graphs, engineId).includes(known.compute_capability);
    values = engine.evaluate(
      GRAPH_SIZES,
      Object.assign({}, values, {
        T_gm: int(large ? graphs.ceiling_large : graphs.ceiling),
        n_sp: int(splits ? graphs.fa3_splits : 0),
        M_fi: int(flashinfer ? graphs.flashinfer_workspace_bytes : 0),
        // the second runner's own figure where it estimates (c_gs, from 0.29)
        beta_g: int(values.c_gs ? graphs.bytes_per_layer_second_runner : graphs.bytes_per_layer),
        M_g0: int(graphs.first_capture_extra_bytes),
        c_sq: atLeastRelease(E, engineId, graphs.max_num_seqs_size_from) ? 1n : 0n,
        c_ud: atLeastRelease(E, engineId, graphs.uniform_decode_sizes_from) ? 1n : 0n,
        // FlashInfer's FULL graphs hold one-token decodes only but where its trtllm-gen kernels
        // run: piecewise graphs with drafts
        c_fg: flashinfer && values.n_sd && !fullDrafts ? 0n : 1n,
      }),
    );
    const largest = engine.evaluate(["cudagraph_capture_tokens"], values).cudagraph_capture_tokens;
    values.M_Pg = engine.evaluate(PREFILL, Object.assign({}, values, { B: 1n, s: largest }))
      .engine_prefill_workspace;
    const names = [
      "cudagraph_capture_tokens",
      "cudagraph_piecewise_graphs",
      "cudagraph_full_graphs",
      "cudagraph_full_accumulators",
      "cudagraph_piecewise_accumulators",
      "cudagraph_estimate",
    ];
    return engine.toInt(engine.evaluate(names, values).cudagraph_estimate);
  }

  /** ``_cache``: blocks, tokens, concurrency and the longest request (and the recurrent
   * groups' ``mode``). */
  function cache(m, values, maxModelLen, auto, mode) {
    values = engine.evaluate(CACHE, Object.assign({}, values, { s: m.max_context }));
    const longest = longestRequest(values);
    // vLLM's auto length is the longest request that fits; when none does, it cannot start
    const length = auto && longest ? rt.$min(longest, m.max_context) : maxModelLen;
    values = engine.evaluate(CACHE, Object.assign({}, values, { s: length }));
    return {
      model: m.name,
      available_kv_bytes: engine.toInt(values.kv_available),
      page_bytes: engine.toInt(values.kv_page),
      block_size: values.s_b,
      layers_per_group: values.L_g,
      groups: values.n_G,
      sliding_groups: values.n_gw,
      recurrent_groups: values.n_gr,
      mamba_cache_mode: mode,
      blocks: rt.$max(engine.toInt(values.kv_blocks), 0n),
      kv_tokens: rt.$max(engine.toInt(values.kv_tokens), 0n),
      max_model_len: length,
      max_concurrency: rt.$max(values.max_concurrency, 0.0),
      longest_request: longest,
      values: values,
    };
  }

  /** ``_symbols``: the model's values under a one-token inference workload. */
  function symbols(m, tp, pp, dtype, kvDtype, speculativeConfig) {
    let w = engine.workload({
      seq: 1n,
      tp: tp,
      pp: pp,
      attention: "flash",
      cuda_context: 0n,
      allocator_reserve: 0n,
    });
    // vLLM loads a checkpoint as it ships unless another weight format is asked for
    if (dtype) w = engine.withChanges(w, { dtype: dtype });
    else if (m.quantization) w = engine.withChanges(w, { weights_as_shipped: true });
    if (kvDtype) w = engine.withChanges(w, { kv_dtype: kvDtype });
    if (!m.inputs.k_c) {
      throw engine.invalidValue("model", m.name, engine.text("a decoder (a model with a KV cache)"));
    }
    if (m.inputs.L_r && m.inputs.L_r === m.n_layers - m.inputs.L_n) {
      throw engine.invalidValue(
        "model",
        m.name,
        engine.text("a model with attention layers (a purely recurrent model has no KV cache)"),
      );
    }
    const values = Object.assign(engine.symbolValues(m, w), speculative(m, speculativeConfig, pp));
    Object.assign(values, groups(m, pp, values.L_m));
    // a ModelOpt MIXED_PRECISION checkpoint (its spec lists what it left 'unresolved') names
    // none of the MTP module among its quantized layers
    values.c_pf = 1n; // one pipeline stage: the first and the last
    values.c_pl = 1n;
    values.c_mq = m.quantization && Object.hasOwn(m.quantization, "unresolved") ? 0n : 1n;
    // DeepSeek's MTP projection is whole on every GPU (serving.json's mtp_drafter)
    values.c_ep = S.mtp_drafter.whole_projection_families.includes(m.family) ? 1n : 0n;
    return values;
  }

  /** ``_pipeline_stages``: ``values`` for each of ``pp`` pipeline stages, in rank order (vLLM's
   * get_pp_indices split; the embedding on the first, the LM head on the last). */
  function pipelineStages(m, values, pp) {
    if (pp === 1n) return [values];
    const layers = values.L;
    const split = Array.from({ length: Number(pp) }, () => layers / pp);
    for (let rank = 2; rank < Number(layers % pp) + 2; rank++) split[split.length - rank] += 1n;
    const uniform = values.n_G === 1n && groups(m, 1n, 0n).L_g === layers;
    const names = ["P_q", "P_q2", "stage_first_parameters", "stage_last_parameters", "engine_stage_parameters"];
    return split.map((count, rank) => {
      const first = rank === 0 ? 1n : 0n;
      const last = rank === split.length - 1 ? 1n : 0n;
      const stage = engine.evaluate(names, Object.assign({}, values, { L_s: count, c_pf: first, c_pl: last }));
      stage.P_s = stage.engine_stage_parameters;
      stage.L_g = uniform ? count : values.L_g;
      return stage;
    });
  }

  /** ``_device_total``: what the device reports to vLLM: under WSL2 the card's whole memory,
   * else logged for some GPUs, else the catalog capacity less the driver's share. */
  function deviceTotal(E, gpu, wsl2) {
    if (typeof wsl2 !== "boolean") throw engine.invalidValue("wsl2", wsl2, engine.text("True or False"));
    if (wsl2) return gpu.memory_bytes;
    const logged = E.device_totals.find((t) => t.gpu === gpu.id);
    return logged ? int(logged.bytes) : gpu.memory_bytes - int(E.driver_reserved_bytes);
  }

  /** ``gpumem.serve.serve``: what vLLM prints when it starts ``m`` on ``gpu``; options as
   * the API's, ints as BigInt, null for vLLM's default. */
  function serve(m, gpu, options) {
    const o = Object.assign(
      {
        tp: 1n,
        pp: 1n,
        dtype: null,
        kv_dtype: null,
        gpu_memory_utilization: null,
        max_model_len: null,
        max_num_seqs: null,
        max_num_batched_tokens: null,
        block_size: null,
        kv_cache_memory: null,
        cudagraph_memory: null,
        engine_id: "vllm",
        enable_prefix_caching: null,
        language_model_only: false,
        speculative_config: null,
        model_runner: "auto",
        compile_cache: null,
        wsl2: false,
      },
      options,
    );
    const id = engineNamed(o.engine_id);
    const E = S.engines[id];
    const util = o.gpu_memory_utilization === null ? E.gpu_memory_utilization : o.gpu_memory_utilization;
    const real = typeof util === "number" || typeof util === "bigint";
    if (!real || !(util > 0 && util <= 1)) {
      throw engine.invalidValue("gpu_memory_utilization", util, engine.text("a number in (0, 1]"));
    }
    const total = deviceTotal(E, gpu, o.wsl2);
    const s = settings(E, m, total, gpu.name, o);
    const encoded = encoder(m, o.language_model_only, s.max_model_len);
    // with no modality vLLM builds no vision tower; gpumem counts this for the towers it profiles
    const loaded = encoded.d_e && !(encoded.n_li || encoded.n_lv) ? languageModel(m) : m;
    let values = symbols(loaded, o.tp, o.pp, o.dtype, o.kv_dtype, o.speculative_config);
    values.a_b = int(E.block_alignment);
    Object.assign(values, encoded);
    // the runner keeps an encoder cache and input embeddings where the model takes some modality
    values.c_mm = encoded.d_e && (encoded.n_li || encoded.n_lv) ? 1n : 0n;
    const known = Object.hasOwn(data.gpus, gpu.id) ? data.gpus[gpu.id] : gpu;
    const mode = recurrentCache(E, m, values, o.enable_prefix_caching, o.engine_id, known.compute_capability);
    const blocks = blockSize(m, values, o.block_size, E.block_size);
    const tokens = s.max_num_batched_tokens;
    Object.assign(values, {
      B: 1n,
      s: tokens,
      T_b: tokens,
      N_s: rt.$min(s.max_num_seqs, tokens),
      s_b: blocks,
      M_gpu: total,
      u: util,
      l_s: number(id, "sampler_fp32_bytes_per_logit"),
      c_h: int(E.sampler_hidden_states),
      c_moe: int(E.fused_moe_workspace),
      T_mc: int(E.fused_moe_chunk_tokens),
      c_al: int(E.loaded_weights),
      s_p: m.max_context,
      // the LM head in the model's dtype where the format's method leaves it unquantized
      c_hu: o.dtype && E.lm_head_unquantized_formats.includes(engine.getFormat(o.dtype).name) ? 1n : 0n,
      g_m: marlinGroup(E, gpu, loaded, o.dtype, o.engine_id),
      c_kt: int(E.kv_tokens_from_concurrency),
    });
    const sampler = samplerDevice(E, gpu, values.N_s);
    let assumed = sampler.assumed;
    delete sampler.assumed;
    Object.assign(values, sampler);
    const runner = runnerFor(m, o.engine_id, o.model_runner);
    const estimated = runnerValues(E, o.engine_id, runner, values);
    const start = compileValues(E, runner, o.compile_cache, values);
    if (!values.n_tk) assumed = null; // only where a top-k/top-p buffer is sized
    values.N_q = s.max_num_seqs;
    const given = o.cudagraph_memory;
    if (given !== null && (typeof given !== "bigint" || given < 0n)) {
      throw engine.invalidValue("cudagraph_memory", given, engine.text("a number of bytes, at least 0"));
    }
    if (o.kv_cache_memory !== null) {
      positive("kv_cache_memory", o.kv_cache_memory);
      if (given !== null) {
        throw engine.invalidValue(
          "cudagraph_memory",
          given,
          engine.text(
            "nothing with kv_cache_memory, which vLLM takes as the cache without a budget or a CUDA-graph estimate",
          ),
        );
      }
    }
    const link = nonTorch(E, gpu, o.tp, runner);
    values.M_nt = link.bytes;
    const subtracted = E.cudagraph_estimate && E.cudagraph_estimate.subtracted;
    const budget = (stage) => {
      // the second runner's profile_cudagraph_memory returns 0 before the row's cudagraph_estimate_from
      const estimate = estimated ? cudagraphEstimate(E, gpu, m, stage, o.engine_id) : 0n;
      stage = Object.assign({}, stage, {
        cudagraph_estimate: estimate,
        M_cg: given === null ? (subtracted ? estimate : 0n) : given,
      });
      stage = engine.evaluate(BUDGET, stage);
      if (o.kv_cache_memory === null) stage = engine.evaluate(["kv_available"], stage);
      // vLLM then only runs the profile pass: no budget, no CUDA-graph estimate
      else stage.kv_available = o.kv_cache_memory;
      return engine.evaluate(["kv_page", "kv_blocks"], stage);
    };
    // every worker keeps the fewest blocks over the pipeline stages
    values = pipelineStages(m, values, o.pp)
      .map(budget)
      .reduce((low, stage) => (stage.kv_blocks < low.kv_blocks ? stage : low));
    let reported = { estimate: values.cudagraph_estimate, graphs: values.M_cg, other: null };
    if (o.kv_cache_memory !== null) reported = { estimate: null, graphs: null, other: null };
    else if (start) reported.other = otherStart(m, values, s.max_model_len, o.max_model_len, mode);
    return Object.assign(cache(m, values, s.max_model_len, o.max_model_len === "auto", mode), {
      budget_bytes: engine.toInt(values.serve_budget),
      weights_bytes: engine.toInt(rt.$add(rt.$add(values.weights, values.engine_load_extra), values.mtp_weights)),
      profile_peak_bytes: engine.toInt(values.engine_profile_peak),
      non_torch_bytes: values.M_nt,
      cudagraph_estimate_bytes: reported.estimate,
      cudagraph_bytes: reported.graphs,
      assumed_multiprocessors: assumed,
      assumed_link: link.assumed,
      encoder_items: engine.toInt(values.encoder_items),
      encoder_item_tokens: values.encoder_items ? engine.toInt(values.encoder_item_tokens) : 0n,
      num_speculative_tokens: values.n_sd,
      drafter_weights_bytes: engine.toInt(values.mtp_weights),
      model_runner: runner,
      runner_buffers_bytes: engine.toInt(values.engine_runner_buffers),
      compile_cache: start,
      compile_transient_bytes: engine.toInt(values.engine_compile_transient),
      other_start_kv_tokens: reported.other,
    });
  }

  /** ``_other_start``: the KV-cache tokens of the other start (c_cc flipped). */
  function otherStart(m, values, length, given, mode) {
    const flipped = Object.assign({}, values, { c_cc: 1n - values.c_cc });
    const names = ["engine_compile_transient", "engine_profile_peak", "kv_available"];
    return cache(m, engine.evaluate(names, flipped), length, given === "auto", mode).kv_tokens;
  }

  /** ``Serving.fits``: one request of max_model_len tokens fits (else vLLM does not start). */
  const fits = (r) => r.longest_request >= r.max_model_len;

  /** ``Serving.concurrency``: requests of ``length`` tokens the cache holds at once. */
  function concurrency(r, length) {
    const names = ["blocks_per_request", "max_concurrency"];
    return engine.evaluate(names, Object.assign({}, r.values, { s: length })).max_concurrency;
  }

  /** ``gpumem.report.serve_json``: the startup figures as plain data. */
  function serveJson(r) {
    const out = Object.assign({}, r, { fits: fits(r), units: "bytes" });
    delete out.values;
    return out;
  }

  return {
    serve: serve,
    engineNamed: engineNamed,
    fits: fits,
    concurrency: concurrency,
    serveJson: serveJson,
    profilesEncoder: profilesEncoder,
  };
});
