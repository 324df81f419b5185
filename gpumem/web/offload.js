/* The calculator's llama.cpp planner: gpumem.offload.plan step for step, on the formulas
 * generated from the symbolic model (formulas.js) and the planner's conventions exported by
 * gpumem.calcdata (data.offload). It holds no formula: the layer order (the output layer
 * counted in -ngl), the split between GPUs, the routed experts kept on the CPU, the search for
 * a placement and the flags are the planner's control flow; every byte count and speed is a
 * generated formula.
 *
 * Numbers keep Python's types, as in engine.js: an int is a BigInt, a float a Number.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory;
  else root.gpumemOffload = factory;
})(typeof self !== "undefined" ? self : this, function (fx, data, engine) {
  "use strict";
  const rt = fx.runtime;
  const O = data.offload;
  const call = engine.call;
  const text = engine.text;
  const int = (x) => BigInt(x);
  const KV_TYPES = Object.keys(O.kv_types);
  const UNQUANTIZED = ["f32", "f16", "bf16"];

  /** Python's ``sum``: 0, then each value added in order (an int stays an int). */
  function sum(values) {
    let total = 0n;
    for (const v of values) total = rt.$add(total, v);
    return total;
  }

  /** Python's ``round`` of a float: the nearest int, ties to even. */
  function roundEven(x) {
    const floor = Math.floor(x);
    const rest = x - floor;
    const up = rest > 0.5 || (rest === 0.5 && floor % 2 !== 0);
    return BigInt(up ? floor + 1 : floor);
  }

  const at = (list, indices) => indices.map((i) => list[Number(i)]);

  // --- weights ---------------------------------------------------------------------------
  /** ``weights_from_spec``: bytes per slot from the shapes at ``dtype``'s bytes per value. */
  function weightsFromSpec(m, dtype) {
    const b = engine.bytesPerValue(engine.getFormat(dtype));
    const x = m.inputs;
    const L = m.n_layers;
    const h = m.hidden_size;
    const perExpert = x.m_g * h * x.f_e;
    const moeLayers = x.n_e ? L - m.n_dense_layers : 0n;
    const experts = x.n_e * perExpert;
    // a vision tower is left out: llama.cpp loads it from its --mmproj file
    const body = m.parameters - (m.vision_parameters || 0n) - x.P_e - h - moeLayers * experts;
    const quotient = rt.$floordiv(body, L);
    const remainder = body - quotient * L;
    const layerP = [];
    const expertP = [];
    for (let i = 0n; i < L; i++) {
      layerP.push(quotient + (i < remainder ? 1n : 0n));
      expertP.push(i >= L - moeLayers ? experts : 0n);
    }
    const outP = x.V * h + h;
    const size = (p) => rt.$ceil(rt.$mul(p, b));
    return {
      input_bytes: size(x.V * h),
      layer_bytes: layerP.map(size),
      expert_bytes: expertP.map(size),
      output_bytes: size(outP),
      layer_params: layerP,
      expert_params: expertP,
      output_params: outP,
      exact: false,
    };
  }

  // --- devices ---------------------------------------------------------------------------
  /** ``working_set_bytes``: Metal's default working set on unified memory, else all. */
  function workingSetBytes(gpu) {
    return gpu.unified_memory ? gpu.gpu_working_set_bytes : gpu.memory_bytes;
  }

  /** ``layer_devices``: the device of each of the L + 1 slots (a GPU index, or -1 for the
   * CPU), the cumulative split in single precision as llama.cpp computes it. */
  function layerDevices(nLayers, ngl, split) {
    let total = 0;
    const cumulative = [];
    for (const weight of split) {
      total = Math.fround(total + Number(weight));
      cumulative.push(total);
    }
    const shares = cumulative.map((c) => Math.fround(c / total));
    const start = rt.$max(nLayers + 1n - ngl, 0n);
    const active = split.length ? rt.$min(ngl, nLayers + 1n) : 0n;
    const out = [];
    for (let il = 0n; il <= nLayers; il++) {
      if (il < start || il - start >= active) {
        out.push(-1);
        continue;
      }
      const x = Math.fround(Math.fround(Number(il - start)) / Number(active));
      out.push(Math.min(shares.filter((c) => c <= x).length, split.length - 1));
    }
    return out;
  }

  /** ``_pattern``: which of ``n`` layers are the ``count`` of one kind: llama.cpp's pattern
   * (all but the last layer of each group of ``every``) where a group size gives the count,
   * else spread evenly. */
  function pattern(count, n) {
    for (let every = 2n; every <= n; every++) {
      const flags = [];
      for (let i = 0n; i < n; i++) flags.push(i % every < every - 1n);
      if (int(flags.filter(Boolean).length) === count) return flags;
    }
    const out = [];
    for (let i = 0n; i < n; i++) out.push(((i + 1n) * count) / n > (i * count) / n);
    return out;
  }

  /** ``layer_kinds``: each layer's cache as llama.cpp keeps it (full, sliding, chunked,
   * recurrent or none). */
  function layerKinds(m) {
    const x = m.inputs;
    const kinds = Array(Number(m.n_layers)).fill("full");
    const counts = [
      ["sliding", O.sliding_families.includes(m.family) ? x.L_w : 0n],
      ["chunked", O.chunked_families.includes(m.family) ? x.L_c : 0n],
      ["recurrent", x.L_r],
      ["none", x.L_n],
    ];
    for (const [kind, count] of counts) {
      const free = [];
      kinds.forEach((k, i) => k === "full" && free.push(i));
      const flags = count ? pattern(count, int(free.length)) : [];
      flags.forEach((chosen, j) => (kinds[free[j]] = chosen ? kind : "full"));
    }
    return kinds;
  }

  /** ``_kv_bytes``: KV-cache bytes of layers of these kinds, and the most cells one of them
   * attends to. */
  function kvBytes(m, kinds, cells, eKv, bKv) {
    const n = { full: 0n, sliding: 0n, chunked: 0n, recurrent: 0n };
    for (const kind of kinds) if (kind in n) n[kind] += 1n;
    const same = { B: 1n, s: cells.full, b_kv: bKv, N_pp: 1n, e_kv: eKv };
    let total = call("kv_cache_full", { L: n.full, L_w: 0n, L_c: 0n, L_r: 0n, L_n: 0n, ...same });
    total = rt.$add(total, call("kv_cache_sliding", { L_w: n.sliding, w: cells.sliding, ...same }));
    total = rt.$add(total, call("kv_cache_chunked", { L_c: n.chunked, w_c: cells.chunked, ...same }));
    const state = {
      B: 1n,
      b_kv: int(O.recurrent_state_bytes),
      k_c: 1n,
      L_r: n.recurrent,
      N_pp: 1n,
      N_tp: 1n,
      e_r: m.inputs.e_r,
      e_t: 0n, // llama.cpp keeps the whole state in F32, the kernel - 1 past positions
      b_r: 0n,
      c_r: 0n,
    };
    total = rt.$add(total, call("kv_cache_recurrent", state));
    let attended = null;
    for (const kind of Object.keys(cells)) {
      if (n[kind] && (attended === null || cells[kind] > attended)) attended = cells[kind];
    }
    return [rt.$ceil(total), attended === null ? 0n : attended];
  }

  function kvPerTokenLayer(m) {
    const x = m.inputs;
    if (x.c_kv) return call("kv_values_mla", { c_kv: x.c_kv, d_r: x.d_r });
    return call("kv_values_gqa", { n_kv: x.n_kv, d_h: x.d_h, N_tp: 1n });
  }

  function kvTypeBytes(kvDtype) {
    const [size, block] = O.kv_types[kvDtype];
    return rt.$div(int(size), int(block));
  }

  function checkCount(name, value, low, high) {
    if (typeof value !== "bigint" || value < low || value > high) {
      throw engine.invalidValue(
        name,
        value,
        text("an integer from {low} to {high}", { low: low, high: high }),
      );
    }
    return value;
  }

  const totalBytes = (d) => d.weights_bytes + d.kv_bytes + d.compute_bytes + d.reserve_bytes;
  const deviceFits = (d) => d.capacity_bytes === null || totalBytes(d) <= d.capacity_bytes;
  const allFit = (devices) => devices.every(deviceFits);

  // --- planning --------------------------------------------------------------------------
  /** ``_evaluate``: what each GPU, then the CPU, holds and reads for one placement. */
  function evaluate(S, ctx, ngl, nCpuMoe, split) {
    const m = S.spec;
    const w = S.weights;
    const x = m.inputs;
    const L = m.n_layers;
    const slots = layerDevices(L, ngl, split);
    const expertsAt = slots.slice(0, Number(L)).map((d, i) => (BigInt(i) < nCpuMoe ? -1 : d));
    const eKv = kvPerTokenLayer(m);
    const bKv = kvTypeBytes(S.kv_dtype);
    const nU = rt.$min(rt.$min(ctx, S.batch), S.ubatch);
    const cells = {
      full: call("llamacpp_cells", { s: ctx }),
      sliding: call("llamacpp_window_cells", { s: ctx, w: m.sliding_window, n_u: nU }),
      chunked: call("llamacpp_window_cells", { s: ctx, w: m.attention_chunk, n_u: nU }),
    };
    if (S.swa_full) cells.sliding = cells.chunked = cells.full;
    const share = x.n_e ? rt.$div(x.k_e, x.n_e) : 0.0;
    const unified = S.gpus.some((g) => g.unified_memory);
    const out = [];
    for (const d of [...S.gpus.keys(), -1]) {
      const layers = [];
      const experts = [];
      for (let i = 0; i < Number(L); i++) {
        if (slots[i] === d) layers.push(BigInt(i));
        if (expertsAt[i] === d) experts.push(BigInt(i));
      }
      const hasOutput = slots[Number(L)] === d;
      let weights = rt.$add(sum(at(w.layer_bytes, layers)), sum(at(w.expert_bytes, experts)));
      weights = rt.$add(weights, hasOutput ? w.output_bytes : 0n);
      weights = rt.$add(weights, d === -1 ? w.input_bytes : 0n);
      const [kv, attended] = kvBytes(m, at(S.kinds, layers), cells, eKv, bKv);
      const busy = layers.length > 0 || hasOutput || (d === -1 && experts.length > 0);
      const compute = busy
        ? rt.$ceil(
            call("llamacpp_compute_buffer", {
              h: x.h,
              n_h: x.n_h,
              V: x.V,
              s: attended,
              n_u: nU,
              o_L: hasOutput ? 1n : 0n,
              a_fa: S.flash_attn ? 1n : 0n,
              n_e: x.n_e,
              k_e: x.k_e,
              a_sh: x.n_s > 0n ? 1n : 0n,
              a_st: x.h <= 2n * x.f_e ? 1n : 0n,
              a_kp: O.kept_state_families.includes(m.family) ? 1n : 0n,
            }),
          )
        : 0n;
      let read = rt.$add(sum(at(w.layer_bytes, layers)), hasOutput ? w.output_bytes : 0n);
      read = rt.$add(read, roundEven(rt.$mul(share, sum(at(w.expert_bytes, experts)))));
      let name, bw, capacity, reserve;
      if (d >= 0) {
        const gpu = S.gpus[d];
        name = gpu.id;
        bw = Number(gpu.bandwidth_bytes_per_s);
        capacity = workingSetBytes(gpu);
        reserve = gpu.unified_memory ? 0n : S.cuda_reserve;
      } else {
        name = "cpu";
        reserve = 0n;
        bw = unified ? Number(S.gpus[0].bandwidth_bytes_per_s) : S.ram_bandwidth;
        capacity = S.ram;
        if (unified) capacity = S.gpus[0].memory_bytes - sum(out.map(totalBytes));
      }
      let seconds = 0.0; // a device that reads nothing takes no time
      // a GPU known only by its memory (--vram) has no bandwidth: no ceiling
      if (rt.$add(read, kv)) seconds = bw ? call("device_token_seconds", { BW: bw, W_rd: read, M_Kd: kv }) : null;
      out.push({
        name: name,
        layers: layers,
        output: hasOutput,
        expert_layers: experts,
        weights_bytes: weights,
        kv_bytes: kv,
        compute_bytes: compute,
        reserve_bytes: reserve,
        capacity_bytes: capacity,
        bandwidth: bw,
        read_bytes: read,
        token_seconds: seconds,
      });
    }
    return out;
  }

  /** ``_decode``: one token's reads on every device, one after the other (null when a device
   * that reads has no known bandwidth). */
  function decode(used) {
    const seconds = used.map((d) => d.token_seconds);
    if (seconds.includes(null)) return null;
    return call("offload_decode_ceiling", { t_tok: sum(seconds) });
  }

  /** ``_largest``: the largest x in [low, high] with ok(x) (monotone), or low - 1. */
  function largest(low, high, ok) {
    if (high < low || !ok(low)) return low - 1n;
    while (low < high) {
      const mid = (low + high + 1n) / 2n;
      if (ok(mid)) low = mid;
      else high = mid - 1n;
    }
    return low;
  }

  /** ``_search``: everything on the GPUs, then the routed experts of the first layers to
   * the CPU (the fewest that fit), then fewer offloaded layers (the most that fit). */
  function search(S, ctx, split) {
    const L = S.spec.n_layers;
    const moeLayers = [];
    S.weights.expert_bytes.forEach((bytes, i) => bytes && moeLayers.push(BigInt(i)));
    const fit = (ngl, ncm) => allFit(evaluate(S, ctx, ngl, ncm, split).slice(0, -1));
    if (moeLayers.length) {
      const last = moeLayers[moeLayers.length - 1] + 1n;
      const n = largest(0n, last, (k) => !fit(L + 1n, k)) + 1n;
      if (n <= last) return [L + 1n, n];
      return [rt.$max(largest(0n, L + 1n, (g) => fit(g, last)), 0n), last];
    }
    return [rt.$max(largest(0n, L + 1n, (g) => fit(g, 0n)), 0n), 0n];
  }

  /** Python's repr of a tuple of ints. */
  const tupleRepr = (xs) => `(${xs.join(", ")}${xs.length === 1 ? "," : ""})`;

  /** ``gpumem.offload.plan`` for a model of the calculator (engine.getModel) on ``gpus``
   * (ids or engine.getGpu objects); options as the API's, ints as BigInt, null for none. */
  function plan(m, gpus, options) {
    const o = Object.assign(
      {
        ram: null,
        ctx: null,
        kv_dtype: "f16",
        batch: int(O.default_batch),
        ubatch: int(O.default_ubatch),
        flash_attn: true,
        dtype: null,
        ngl: null,
        n_cpu_moe: null,
        ram_bandwidth: null,
        swa_full: false,
      },
      options,
    );
    const weights = weightsFromSpec(m, o.dtype || O.default_weights);
    const devices = gpus.map((g) => (typeof g === "string" ? engine.getGpu(g) : g));
    if (!devices.length) throw engine.invalidValue("gpus", "[]", text("one GPU or more"));
    if (devices.length > 1 && devices.some((g) => g.unified_memory)) {
      const ids = devices.map((g) => g.id).join(", ");
      throw engine.invalidValue("gpus", ids, text("one unified-memory device alone"));
    }
    if (!KV_TYPES.includes(o.kv_dtype)) {
      throw engine.unknownName("kv_dtype", String(o.kv_dtype), KV_TYPES);
    }
    if (!UNQUANTIZED.includes(o.kv_dtype) && !o.flash_attn) {
      throw engine.invalidValue(
        "kv_dtype",
        o.kv_dtype,
        text("f32, f16 or bf16 without flash attention"),
      );
    }
    const unified = devices[0].unified_memory;
    if (unified && o.ram !== null) {
      throw engine.invalidValue(
        "ram",
        o.ram,
        text("nothing with unified memory (the GPU and CPU share one pool)"),
      );
    }
    const ctx = checkCount("ctx", o.ctx === null ? int(O.default_ctx) : o.ctx, 1n, int(O.max_context));
    const batch = checkCount("batch", o.batch, 1n, 2n ** 31n - 1n);
    const ubatch = checkCount("ubatch", o.ubatch, 1n, batch);
    const ram = o.ram === null ? null : checkCount("ram", o.ram, 0n, 2n ** 62n);
    const split = devices.map((g) => checkCount("split", workingSetBytes(g) / 2n ** 20n, 0n, 2n ** 40n));
    if (!split.some((s) => s)) {
      throw engine.invalidValue(
        "split",
        { shown: tupleRepr(split) },
        text("one weight per GPU, not all zero"),
      );
    }
    const S = {
      spec: m,
      weights: weights,
      gpus: devices,
      ram: ram,
      ram_bandwidth:
        o.ram_bandwidth === null
          ? call("channel_bandwidth", {
              n_ch: int(O.ram_channels),
              w_ch: int(O.ram_channel_bits),
              r_mt: O.ram_transfers,
            })
          : Number(o.ram_bandwidth),
      pcie_bandwidth: O.pcie_bytes_per_s,
      kv_dtype: o.kv_dtype,
      flash_attn: Boolean(o.flash_attn),
      batch: batch,
      ubatch: ubatch,
      cuda_reserve: int(data.tables.default_cuda_context),
      swa_full: Boolean(o.swa_full),
      kinds: layerKinds(m),
    };
    const L = m.n_layers;
    let ngl = o.ngl;
    let nCpuMoe = o.n_cpu_moe;
    if (ngl === null || nCpuMoe === null) {
      const [chosenNgl, chosenNcm] = search(S, ctx, split);
      if (ngl === null) ngl = chosenNgl;
      if (nCpuMoe === null) nCpuMoe = chosenNcm;
    }
    ngl = checkCount("ngl", ngl, 0n, L + 1n);
    nCpuMoe = checkCount("n_cpu_moe", nCpuMoe, 0n, L);
    const used = evaluate(S, ctx, ngl, nCpuMoe, split);
    const maxCtx = largest(1n, m.max_context, (c) => allFit(evaluate(S, c, ngl, nCpuMoe, split)));
    return {
      model: m.name,
      ctx: ctx,
      ngl: ngl,
      n_cpu_moe: nCpuMoe,
      split: split,
      kv_dtype: o.kv_dtype,
      flash_attn: S.flash_attn,
      batch: batch,
      ubatch: ubatch,
      devices: used,
      decode_ceiling: decode(used),
      prefill_ceiling: prefill(S, used),
      max_ctx: rt.$max(maxCtx, 0n),
      unified: unified,
      exact: weights.exact,
      swa_full: S.swa_full,
      vision_parameters: m.vision_parameters || 0n,
    };
  }

  /** ``_prefill``: each GPU's share of the compute at its dense peak, the parameters in
   * system memory computed on the first GPU after their bytes cross the link. */
  function prefill(S, used) {
    const w = S.weights;
    const x = S.spec.inputs;
    const share = x.n_e ? rt.$div(x.k_e, x.n_e) : 0.0;
    const cpu = used[used.length - 1];
    let seconds = 0.0;
    for (let i = 0; i < S.gpus.length; i++) {
      const gpu = S.gpus[i];
      if (gpu.dense_peak_tflops === null) return null;
      const held = i === 0 ? [used[i], cpu] : [used[i]];
      const params = sum(
        held.map((u) =>
          rt.$add(
            rt.$add(
              sum(at(w.layer_params, u.layers)),
              rt.$mul(share, sum(at(w.expert_params, u.expert_layers))),
            ),
            u.output ? w.output_params : 0n,
          ),
        ),
      );
      seconds = rt.$add(
        seconds,
        call("prefill_compute_seconds", {
          T_pk: gpu.dense_peak_tflops * 1e12,
          n_u: S.ubatch,
          P_ad: params,
        }),
      );
    }
    const moved = S.gpus[0].unified_memory ? 0n : cpu.weights_bytes - w.input_bytes;
    const transfer = call("prefill_transfer_seconds", { W_x: moved, BW_x: S.pcie_bandwidth });
    return call("prefill_ceiling", { n_u: S.ubatch, t_c: seconds, t_x: transfer });
  }

  /** ``Placement.fits``: every device within its capacity. */
  const fits = (p) => allFit(p.devices);

  /** ``Placement.flags``: the llama.cpp options that realise the placement. */
  function flags(p) {
    const out = ["-ngl", String(p.ngl), "-c", String(p.ctx), "-b", String(p.batch)];
    out.push("-ub", String(p.ubatch), "-ctk", p.kv_dtype, "-ctv", p.kv_dtype);
    out.push("-fa", p.flash_attn ? "on" : "off");
    if (p.n_cpu_moe) out.push("--n-cpu-moe", String(p.n_cpu_moe));
    if (p.split.length > 1) out.push("-ts", p.split.join(","));
    if (p.swa_full) out.push("--swa-full");
    return out;
  }

  /** ``Placement.override_tensor``: the -ot equivalent of --n-cpu-moe ("" without). */
  function overrideTensor(p) {
    if (!p.n_cpu_moe) return "";
    const layers = Array.from({ length: Number(p.n_cpu_moe) }, (_x, i) => i).join("|");
    return `blk\\.(${layers})\\.ffn_(up|down|gate|gate_up)_(ch|)exps=CPU`;
  }

  /** ``gpumem.report.offload_json``: the placement as plain data. */
  function placementJson(p) {
    const devices = p.devices.map((d) => Object.assign({}, d, { total_bytes: totalBytes(d) }));
    return Object.assign({}, p, {
      devices: devices,
      fits: fits(p),
      flags: flags(p),
      override_tensor: overrideTensor(p),
    });
  }

  return {
    KV_TYPES: KV_TYPES,
    plan: plan,
    fits: fits,
    totalBytes: totalBytes,
    deviceFits: deviceFits,
    flags: flags,
    overrideTensor: overrideTensor,
    placementJson: placementJson,
    workingSetBytes: workingSetBytes,
  };
});
