"""Running a model with llama.cpp on GPUs and the CPU: where each layer, expert and KV slice
lives, the bytes on every device, the flags that realise the placement, and speed ceilings.

The placement follows llama.cpp's ``llama_model::load_tensors`` (``src/llama-model.cpp``):
the input layer (token embedding) always stays on the CPU; ``-ngl N`` offloads the *last*
``N`` of the ``L + 1`` slots (the ``L`` repeating layers, then the output layer), so ``-ngl 1``
offloads the output layer alone and ``-ngl L+1`` everything; the offloaded slots are split
between GPUs at the cumulative, normalised ``-ts`` fractions (``std::upper_bound`` on
``(il - i_gpu_start) / act_gpu_layers``, in single precision). ``--n-cpu-moe N`` keeps the
routed-expert tensors of layers ``0 … N-1`` in system memory (``common/arg.cpp``, pattern
``blk\\.i\\.ffn_(up|down|gate|gate_up)_(ch|)exps``). The KV cache of a layer lives where the
layer is (``offload_kqv``, the default). A model's tied embedding is loaded a second time as
the output layer, as llama.cpp does.

Weight bytes come from a GGUF file's tensor infos when ``model`` is a ``.gguf`` path (exact),
else from the model's shapes at the average bytes per value of a GGUF format (``q4_k_m``).
Every number is a formula of :mod:`gpumem.symbolic`, evaluated by its generated code.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Sequence

from ._generated import formulas as fx
from ._record import Record
from .errors import GpumemError, InvalidValueError, Text, UnknownNameError, as_int, shown
from .hardware import GPU, get_gpu
from .modelspec import MAX_CONTEXT, ModelSpec
from .precision import bytes_per_value
from .workload import DEFAULT_CUDA_CONTEXT

#: Types llama.cpp accepts for ``-ctk`` / ``-ctv`` (``common/arg.cpp``, ``kv_cache_types``).
KV_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
#: llama.cpp's defaults: ``-c 4096``, ``-b 2048``, ``-ub 512`` (``common/common.h``).
DEFAULT_CTX, DEFAULT_BATCH, DEFAULT_UBATCH = 4096, 2048, 512
DEFAULT_WEIGHTS = "q4_k_m"
#: DDR5-5600 in two 64-bit channels (a typical desktop): 2 × 64 bit × 5600 MT/s.
RAM_CHANNELS, RAM_CHANNEL_BITS, RAM_TRANSFERS = 2, 64, 5600e6
#: PCIe 4.0 ×16: 16 GT/s per lane, 16 lanes, 128b/130b encoding, one direction.
PCIE_BYTES_PER_S = 16e9 * 16 * 128 / 130 / 8


def default_ram_bandwidth() -> float:
    """Peak bandwidth (bytes/s) assumed for system memory: DDR5-5600, two channels."""
    return fx.channel_bandwidth(n_ch=RAM_CHANNELS, w_ch=RAM_CHANNEL_BITS, r_mt=RAM_TRANSFERS)


class Weights(Record):
    """Weight bytes and parameters of a model in llama.cpp's slots."""

    input_bytes: int  # token embedding: always on the CPU
    layer_bytes: tuple[int, ...]  # per repeating layer, routed experts left out
    expert_bytes: tuple[int, ...]  # per repeating layer, routed-expert tensors
    output_bytes: int  # output norm + LM head (the embedding again when tied)
    layer_params: tuple[int, ...]
    expert_params: tuple[int, ...]
    output_params: int
    exact: bool  # read from a GGUF file


class DeviceUse(Record):
    """What one device holds and reads."""

    name: str  # GPU id, or "cpu"
    layers: tuple[int, ...]  # repeating layers (and KV slices) on it
    output: bool  # holds the output layer
    expert_layers: tuple[int, ...]  # layers whose routed experts are on it
    weights_bytes: int
    kv_bytes: int
    compute_bytes: int
    reserve_bytes: int
    capacity_bytes: int | None  # None: not checked (system memory without --ram)
    bandwidth: float
    read_bytes: int  # weight bytes read per generated token
    token_seconds: float | None  # None: the device's bandwidth is not known

    @property
    def total_bytes(self) -> int:
        """Weights + KV cache + compute buffer + reserve."""
        return self.weights_bytes + self.kv_bytes + self.compute_bytes + self.reserve_bytes

    @property
    def fits(self) -> bool:
        """Whether the total is within the capacity (always, when none is given)."""
        return self.capacity_bytes is None or self.total_bytes <= self.capacity_bytes


class Placement(Record):
    """A placement, its bytes per device, llama.cpp's flags and the speed ceilings."""

    model: str
    ctx: int
    ngl: int
    n_cpu_moe: int
    split: tuple[int, ...]  # -ts weights, one per GPU
    kv_dtype: str
    flash_attn: bool
    batch: int
    ubatch: int
    devices: tuple[DeviceUse, ...]  # the GPUs in order, then the CPU
    decode_ceiling: float | None  # tokens/s; None when a device's bandwidth is not known
    prefill_ceiling: float | None  # tokens/s; None without a published GPU peak
    max_ctx: int  # largest context that fits with this placement (0: none)
    unified: bool
    exact: bool
    swa_full: bool = False  # windowed layers cache the whole context (--swa-full)
    vision_parameters: int = 0  # the model's vision tower, left out (llama.cpp's --mmproj file)

    @property
    def fits(self) -> bool:
        """Every device within its capacity."""
        return all(d.fits for d in self.devices)

    @property
    def flags(self) -> list[str]:
        """The llama.cpp command-line options that realise the placement."""
        out = ["-ngl", str(self.ngl), "-c", str(self.ctx), "-b", str(self.batch)]
        out += ["-ub", str(self.ubatch), "-ctk", self.kv_dtype, "-ctv", self.kv_dtype]
        out += ["-fa", "on" if self.flash_attn else "off"]
        if self.n_cpu_moe:
            out += ["--n-cpu-moe", str(self.n_cpu_moe)]
        if len(self.split) > 1:
            out += ["-ts", ",".join(map(str, self.split))]
        if self.swa_full:
            out += ["--swa-full"]
        return out

    @property
    def override_tensor(self) -> str:
        """The ``-ot`` equivalent of ``--n-cpu-moe`` ("" when no experts stay on the CPU)."""
        if not self.n_cpu_moe:
            return ""
        layers = "|".join(str(i) for i in range(self.n_cpu_moe))
        return rf"blk\.({layers})\.ffn_(up|down|gate|gate_up)_(ch|)exps=CPU"


# --- weights ---------------------------------------------------------------------------------


def weights_from_spec(spec: ModelSpec, dtype: str = DEFAULT_WEIGHTS) -> Weights:
    """Bytes per slot: a GGUF file's own (exact, read with its header); else from the model's
    shapes at ``dtype``'s average bytes per value.

    Per MoE layer the routed experts hold ``n_e · (3 or 2) · h · f_e`` parameters; the rest of
    the non-embedding parameters is spread evenly over the layers. A vision tower the
    checkpoint holds is left out: llama.cpp loads it from a separate projector file
    (``--mmproj``), not from the language model's GGUF file.
    """
    slots = spec.extra.get("llamacpp_slots")
    if slots:
        return Weights(**slots, exact=True)
    b = bytes_per_value(dtype)
    L, h, V = spec.n_layers, spec.hidden_size, spec.vocab_size
    per_expert = (3 if spec.gated_mlp else 2) * h * spec.moe_intermediate_size
    moe_layers = L - spec.n_dense_layers if spec.n_experts else 0
    experts = spec.n_experts * per_expert
    body = spec.parameters - vision_parameters(spec) - spec.embedding_parameters - h
    body -= moe_layers * experts
    layer_p = [body // L + (1 if i < body % L else 0) for i in range(L)]
    expert_p = [experts if i >= L - moe_layers else 0 for i in range(L)]
    out_p = V * h + h

    def size(p: int) -> int:
        return math.ceil(p * b)

    return Weights(
        size(V * h),
        tuple(map(size, layer_p)),
        tuple(map(size, expert_p)),
        size(out_p),
        tuple(layer_p),
        tuple(expert_p),
        out_p,
        False,
    )


def vision_parameters(spec: ModelSpec) -> int:
    """Parameters of the vision tower ``spec`` counts (0 for a GGUF file's language model)."""
    return int(spec.extra.get("vision_parameters", 0))


# --- devices ---------------------------------------------------------------------------------


def working_set_bytes(gpu: GPU) -> int:
    """Memory the GPU may use: Metal's default working set on unified memory, else all."""
    return gpu.gpu_working_set_bytes if gpu.unified_memory else gpu.memory_bytes


def _f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def layer_devices(n_layers: int, ngl: int, split: Sequence[float]) -> list[int]:
    """Device of each of the ``n_layers + 1`` slots (layers, then output): a GPU index, or
    ``-1`` for the CPU — llama.cpp's ``get_layer_buft_list``, in single precision."""
    total, cumulative = 0.0, []
    for weight in split:
        total = _f32(total + weight)
        cumulative.append(total)
    cumulative = [_f32(c / total) for c in cumulative]
    start = max(n_layers + 1 - ngl, 0)
    active = min(ngl, n_layers + 1) if split else 0
    out = []
    for il in range(n_layers + 1):
        if il < start or il - start >= active:
            out.append(-1)
            continue
        x = _f32(_f32(il - start) / active)
        out.append(min(sum(1 for c in cumulative if c <= x), len(split) - 1))
    return out


#: Families whose windowed layers llama.cpp keeps windowed (an interleaved SWA cache); it
#: ignores Mistral's window and disables Phi-3's (src/models/phi3.cpp), whose caches hold the
#: whole context. Llama 4's chunked layers use the same cache, the chunk as window.
SLIDING_FAMILIES = ("gemma2", "gemma3", "gemma3_text", "gpt_oss")
CHUNKED_FAMILIES = ("llama4", "llama4_text")
#: Families whose graph marks the last layer's output as a graph output (``res->t_h_nextn`` in
#: src/models/openai-moe.cpp), which ggml's allocator never frees: the logits go above it.
#: DeepSeek-V2/V3 and Kimi (src/models/deepseek2.cpp) keep the final norm's output, which is
#: also the LM head's input (``t_embd``), so nothing more stays live. Qwen3-Next
#: (src/models/qwen3next.cpp) keeps its final norm's output beside the rows the LM head reads;
#: where ggml places them is not traced (no GGUF of its shapes is written), so it is not counted.
KEPT_STATE_FAMILIES = ("gpt_oss",)
#: Bytes per value of a recurrent layer's state: llama.cpp keeps it in F32 whatever -ctk/-ctv
#: (recurrent_type_k/v = GGML_TYPE_F32 in llama_model::create_memory).
RECURRENT_STATE_BYTES = 4


def _pattern(count: int, n_layers: int) -> list[bool]:
    """Which layers of ``n_layers`` are the ``count`` of one kind: llama.cpp's pattern (all but
    the last layer of each group, ``llama_hparams::set_swa_pattern``) where a group size gives
    the count, else spread evenly."""
    from .gguf import sliding_layer

    for every in range(2, n_layers + 1):
        flags = [sliding_layer(i, every) for i in range(n_layers)]
        if sum(flags) == count:
            return flags
    return [(i + 1) * count // n_layers > i * count // n_layers for i in range(n_layers)]


def layer_kinds(spec: ModelSpec) -> tuple[str, ...]:
    """The cache of each layer as llama.cpp keeps it: ``full`` (every cell of the context),
    ``sliding`` or ``chunked`` (the window plus a micro-batch), ``recurrent`` (a fixed F32
    state) or ``none`` (a layer without attention or state)."""
    L = spec.n_layers
    kinds = ["full"] * L
    counts = (
        ("sliding", spec.n_sliding_layers if spec.family in SLIDING_FAMILIES else 0),
        ("chunked", spec.n_chunked_layers if spec.family in CHUNKED_FAMILIES else 0),
        ("recurrent", spec.n_recurrent_layers),
        ("none", spec.n_mlp_layers),
    )
    flagged = spec.extra.get("recurrent_layers")  # a GGUF file names its DeltaNet layers
    if flagged is not None:
        for i in flagged:
            kinds[i] = "recurrent"
        counts = tuple((kind, count) for kind, count in counts if kind != "recurrent")
    for kind, count in counts:
        free = [i for i in range(L) if kinds[i] == "full"]
        for i, chosen in zip(free, _pattern(count, len(free)) if count else [], strict=False):
            kinds[i] = kind if chosen else "full"
    return tuple(kinds)


def _kv_per_token_layer(spec: ModelSpec) -> int:
    if spec.kv_lora_rank:
        return fx.kv_values_mla(c_kv=spec.kv_lora_rank, d_r=spec.qk_rope_head_dim)
    return fx.kv_values_gqa(n_kv=spec.n_kv_heads, d_h=spec.head_dim, N_tp=1)


def _kv_type_bytes(kv_dtype: str) -> float:
    from .gguf import ggml_type

    kind = ggml_type(kv_dtype)
    return kind.size / kind.block


def _check_count(name: str, value: object, low: int, high: int) -> int:
    number = as_int(value)
    if number is None or not low <= number <= high:
        raise InvalidValueError(
            name, shown(value), Text("an integer from {low} to {high}", low=low, high=high)
        )
    return number


# --- planning --------------------------------------------------------------------------------


def _resolve(model: ModelSpec | str | os.PathLike[str], dtype: str | None):
    """The spec and the weights of ``model`` (a spec, catalog id, config path or ``.gguf``
    file, read by :func:`gpumem.catalog.load_model`)."""
    if not isinstance(model, ModelSpec):
        from .catalog import load_model

        model = load_model(os.fspath(model))
    if model.extra.get("llamacpp_slots") and dtype is not None:
        raise InvalidValueError(
            "dtype", dtype, Text("nothing for a GGUF file (its tensors give their types)")
        )
    return model, weights_from_spec(model, dtype or DEFAULT_WEIGHTS)


class _Setup(Record):
    spec: ModelSpec
    weights: Weights
    gpus: tuple[GPU, ...]
    ram: int | None
    ram_bandwidth: float
    pcie_bandwidth: float
    kv_dtype: str
    flash_attn: bool
    batch: int
    ubatch: int
    cuda_reserve: int
    swa_full: bool
    kinds: tuple[str, ...]  # each layer's cache (layer_kinds)


def _evaluate(
    setup: _Setup, ctx: int, ngl: int, n_cpu_moe: int, split: tuple[int, ...]
) -> tuple[DeviceUse, ...]:
    spec, w = setup.spec, setup.weights
    L = spec.n_layers
    slots = layer_devices(L, ngl, split)
    experts_at = [-1 if i < n_cpu_moe else slots[i] for i in range(L)]
    kinds, e_kv, b_kv = setup.kinds, _kv_per_token_layer(spec), _kv_type_bytes(setup.kv_dtype)
    n_u = min(ctx, setup.batch, setup.ubatch)
    cells = {
        "full": fx.llamacpp_cells(s=ctx),
        "sliding": fx.llamacpp_window_cells(s=ctx, w=spec.sliding_window, n_u=n_u),
        "chunked": fx.llamacpp_window_cells(s=ctx, w=spec.attention_chunk, n_u=n_u),
    }
    if setup.swa_full:
        cells["sliding"] = cells["chunked"] = cells["full"]
    share = spec.n_experts_active / spec.n_experts if spec.n_experts else 0.0
    unified = any(g.unified_memory for g in setup.gpus)
    out = []
    for d in [*range(len(setup.gpus)), -1]:
        layers = tuple(i for i in range(L) if slots[i] == d)
        experts = tuple(i for i in range(L) if experts_at[i] == d)
        has_output = slots[L] == d
        weights = sum(w.layer_bytes[i] for i in layers) + sum(w.expert_bytes[i] for i in experts)
        weights += w.output_bytes if has_output else 0
        weights += w.input_bytes if d == -1 else 0
        kv, s_d = _kv_bytes(spec, [kinds[i] for i in layers], cells, e_kv, b_kv)
        busy = bool(layers or has_output or (d == -1 and experts))
        compute = (
            math.ceil(
                fx.llamacpp_compute_buffer(
                    h=spec.hidden_size,
                    n_h=spec.n_heads,
                    V=spec.vocab_size,
                    s=s_d,
                    n_u=n_u,
                    o_L=int(has_output),
                    a_fa=int(setup.flash_attn),
                    n_e=spec.n_experts,
                    k_e=spec.n_experts_active,
                    a_sh=int(spec.n_shared_experts > 0),
                    a_st=int(spec.hidden_size <= 2 * spec.moe_intermediate_size),
                    a_kp=int(spec.family in KEPT_STATE_FAMILIES),
                )
            )
            if busy
            else 0
        )
        read = sum(w.layer_bytes[i] for i in layers) + (w.output_bytes if has_output else 0)
        read += round(share * sum(w.expert_bytes[i] for i in experts))
        if d >= 0:
            gpu = setup.gpus[d]
            name, bw = gpu.id, float(gpu.bandwidth_bytes_per_s)
            capacity = working_set_bytes(gpu)
            reserve = 0 if gpu.unified_memory else setup.cuda_reserve
        else:
            name, reserve = "cpu", 0
            bw = float(setup.gpus[0].bandwidth_bytes_per_s) if unified else setup.ram_bandwidth
            capacity = setup.ram
            if unified:  # one pool: what the GPU does not hold
                pool = setup.gpus[0].memory_bytes
                capacity = pool - sum(u.total_bytes for u in out)
        seconds: float | None = 0.0  # a device that reads nothing takes no time
        if read + kv:  # a GPU known only by its memory (--vram) has no bandwidth: no ceiling
            seconds = fx.device_token_seconds(BW=bw, W_rd=read, M_Kd=kv) if bw else None
        out.append(
            DeviceUse(
                name,
                layers,
                has_output,
                experts,
                weights,
                kv,
                compute,
                reserve,
                capacity,
                bw,
                read,
                seconds,
            )  # fmt: skip
        )
    return tuple(out)


def _kv_bytes(
    spec: ModelSpec, kinds: list[str], cells: dict[str, int], e_kv: int, b_kv: float
) -> tuple[int, int]:
    """KV-cache bytes of layers of these kinds, and the most cells one of them attends to."""
    n = {kind: kinds.count(kind) for kind in ("full", "sliding", "chunked", "recurrent")}
    same = {"B": 1, "s": cells["full"], "b_kv": b_kv, "N_pp": 1, "e_kv": e_kv}
    total = (
        fx.kv_cache_full(L=n["full"], L_w=0, L_c=0, L_r=0, L_n=0, **same)
        + fx.kv_cache_sliding(L_w=n["sliding"], w=cells["sliding"], **same)
        + fx.kv_cache_chunked(L_c=n["chunked"], w_c=cells["chunked"], **same)
        + fx.kv_cache_recurrent(
            B=1,
            b_kv=RECURRENT_STATE_BYTES,
            k_c=1,
            L_r=n["recurrent"],
            N_pp=1,
            N_tp=1,
            e_r=spec.recurrent_state,
            e_t=0,  # llama.cpp keeps the whole state in F32, the kernel - 1 past positions
            b_r=0,
            c_r=0,
        )  # fmt: skip
    )
    attended = max((cells[kind] for kind in cells if n[kind]), default=0)
    return math.ceil(total), attended


def _fits(devices: tuple[DeviceUse, ...]) -> bool:
    return all(d.fits for d in devices)


def _largest(low: int, high: int, ok) -> int:
    """The largest ``x`` in ``[low, high]`` with ``ok(x)`` (monotone), or ``low - 1``."""
    if high < low or not ok(low):
        return low - 1
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if ok(mid) else (low, mid - 1)
    return low


def _search(setup: _Setup, ctx: int, split: tuple[int, ...]) -> tuple[int, int]:
    """llama.cpp-style choice: all layers on the GPUs, then routed experts of the first
    layers to the CPU (the fewest that fit), then fewer offloaded layers (the most that fit).
    Only the GPUs are held to their memory here; whether system memory holds the rest is
    reported by the placement."""
    L = setup.spec.n_layers
    moe_layers = [i for i in range(L) if setup.weights.expert_bytes[i]]
    if not setup.gpus:
        return 0, 0

    def fit(ngl: int, ncm: int) -> bool:  # the GPUs; system memory is reported, not chosen
        return _fits(_evaluate(setup, ctx, ngl, ncm, split)[:-1])

    if moe_layers:
        last = moe_layers[-1] + 1
        n = _largest(0, last, lambda k: not fit(L + 1, k)) + 1
        if n <= last:
            return L + 1, n
        ngl = _largest(0, L + 1, lambda g: fit(g, last))
        return max(ngl, 0), last
    return max(_largest(0, L + 1, lambda g: fit(g, 0)), 0), 0


def plan(
    model: ModelSpec | str | os.PathLike[str],
    gpus: Sequence[GPU | str],
    *,
    ram: int | None = None,
    ctx: int | None = None,
    kv_dtype: str = "f16",
    batch: int = DEFAULT_BATCH,
    ubatch: int = DEFAULT_UBATCH,
    flash_attn: bool = True,
    dtype: str | None = None,
    ngl: int | None = None,
    n_cpu_moe: int | None = None,
    split: Sequence[int] | None = None,
    ram_bandwidth: float | None = None,
    pcie_bandwidth: float = PCIE_BYTES_PER_S,
    swa_full: bool = False,
) -> Placement:
    """Place ``model`` on ``gpus`` and the CPU as llama.cpp would, for a context of ``ctx``.

    Without ``ngl`` / ``n_cpu_moe`` the placement is chosen: everything on the GPUs if it
    fits, else the routed experts of the first layers in system memory (MoE), else the most
    layers that fit. ``split`` (``-ts``) defaults to each GPU's usable memory in MiB.
    ``ram`` is the system memory for weights and KV cache left on the CPU (not checked when
    ``None``; refused with unified memory, which is one pool). Windowed layers (Gemma 2/3,
    gpt-oss; Llama 4's chunks) cache their window plus one micro-batch, as llama.cpp's
    command line does, or the whole context with ``swa_full`` (``--swa-full``).

    Raises
    ------
    GpumemError
        An unknown model, GPU or KV type, a bad count, or ``ram`` with unified memory.
    """
    spec, weights = _resolve(model, dtype)
    devices = tuple(g if isinstance(g, GPU) else get_gpu(g) for g in gpus)
    if not devices:
        raise InvalidValueError("gpus", "[]", Text("one GPU or more"))
    if len(devices) > 1 and any(g.unified_memory for g in devices):
        raise InvalidValueError(
            "gpus", ", ".join(g.id for g in devices), Text("one unified-memory device alone")
        )
    if kv_dtype not in KV_TYPES:
        raise UnknownNameError("kv_dtype", shown(kv_dtype), KV_TYPES)
    if kv_dtype not in ("f32", "f16", "bf16") and not flash_attn:
        raise InvalidValueError(
            "kv_dtype", kv_dtype, Text("f32, f16 or bf16 without flash attention")
        )
    unified = devices[0].unified_memory
    if unified and ram is not None:
        raise InvalidValueError(
            "ram", ram, Text("nothing with unified memory (the GPU and CPU share one pool)")
        )
    # llama.cpp runs past the trained context with a warning; the search for the largest
    # context stops at the trained one
    ctx = _check_count("ctx", DEFAULT_CTX if ctx is None else ctx, 1, MAX_CONTEXT)
    batch = _check_count("batch", batch, 1, 2**31 - 1)
    ubatch = _check_count("ubatch", ubatch, 1, batch)
    if ram is not None:
        ram = _check_count("ram", ram, 0, 2**62)
    if split is None:
        split = tuple(working_set_bytes(g) // 2**20 for g in devices)
    split = tuple(_check_count("split", s, 0, 2**40) for s in split)
    if len(split) != len(devices) or not any(split):
        raise InvalidValueError("split", shown(split), Text("one weight per GPU, not all zero"))
    setup = _Setup(
        spec,
        weights,
        devices,
        ram,
        default_ram_bandwidth() if ram_bandwidth is None else float(ram_bandwidth),
        float(pcie_bandwidth),
        kv_dtype,
        bool(flash_attn),
        batch,
        ubatch,
        DEFAULT_CUDA_CONTEXT,
        bool(swa_full),
        layer_kinds(spec),
    )
    L = spec.n_layers
    if ngl is None or n_cpu_moe is None:
        chosen_ngl, chosen_ncm = _search(setup, ctx, split)
        ngl = chosen_ngl if ngl is None else ngl
        n_cpu_moe = chosen_ncm if n_cpu_moe is None else n_cpu_moe
    ngl = _check_count("ngl", ngl, 0, L + 1)
    n_cpu_moe = _check_count("n_cpu_moe", n_cpu_moe, 0, L)
    used = _evaluate(setup, ctx, ngl, n_cpu_moe, split)
    max_ctx = _largest(
        1, spec.max_context, lambda c: _fits(_evaluate(setup, c, ngl, n_cpu_moe, split))
    )
    return Placement(
        spec.name,
        ctx,
        ngl,
        n_cpu_moe,
        split,
        kv_dtype,
        bool(flash_attn),
        batch,
        ubatch,
        used,
        _decode(used),
        _prefill(setup, used),
        max(max_ctx, 0),
        unified,
        weights.exact,
        bool(swa_full),
        vision_parameters(spec),
    )


#: gpumem's names of 16- and 32-bit formats, as llama.cpp's -ctk/-ctv spell them.
_KV_NAMES = {"fp16": "f16", "fp32": "f32"}


def plan_options(settings: dict[str, object]) -> dict[str, object]:
    """:func:`plan`'s options for a workload's settings (``gpumem fit`` on a GGUF file):
    ``seq`` is the context (``-c``), ``kv_dtype`` the cache type (``-ctk/-ctv``), ``attention``
    flash or not (``-fa``); llama.cpp runs a GGUF file for inference, one sequence, with its
    tensors' own formats, so any other setting is refused by name.

    Raises
    ------
    GpumemError
        Training, or a setting that has no meaning for llama.cpp's run of a GGUF file.
    """
    out: dict[str, object] = {}
    for name, value in settings.items():
        if name == "mode" and value == "training":
            raise GpumemError(
                Text(
                    "a GGUF file holds weights for inference with llama.cpp; training needs "
                    "the model's config.json"
                )
            )
        if name == "seq":
            out["ctx"] = value
        elif name == "kv_dtype":
            out["kv_dtype"] = _KV_NAMES.get(str(value), value)
        elif name == "attention":
            if value not in ("flash", "eager"):
                raise InvalidValueError(
                    name, value, Text("flash or eager: llama.cpp's -fa on or off")
                )
            out["flash_attn"] = value == "flash"
        elif not (name == "mode" or (name == "batch" and value == 1)):
            raise InvalidValueError(
                name,
                value,
                Text(
                    "nothing for a GGUF file, which llama.cpp runs for one sequence with its "
                    "tensors' own formats (see 'gpumem offload')"
                ),
            )
    return out


def _decode(used: tuple[DeviceUse, ...]) -> float | None:
    """Decode ceiling: one token's reads on every device, one after the other (None when a
    device that reads has no known bandwidth)."""
    seconds = [d.token_seconds for d in used]
    if None in seconds:
        return None
    return fx.offload_decode_ceiling(t_tok=sum(seconds))


def _prefill(setup: _Setup, used: tuple[DeviceUse, ...]) -> float | None:
    """Prompt-processing ceiling: each GPU's share of the compute at its dense peak, the
    parameters in system memory computed on the first GPU (batches of 32 tokens or more)
    after their bytes cross the link (not with unified memory)."""
    from .speed import dense_peak_tflops

    w, spec = setup.weights, setup.spec
    share = spec.n_experts_active / spec.n_experts if spec.n_experts else 0.0
    cpu = used[-1]
    seconds = 0.0
    for i, (gpu, d) in enumerate(zip(setup.gpus, used, strict=False)):
        if gpu.fp16_tflops is None and gpu.bf16_tflops is None:
            return None
        held = [d] + ([cpu] if i == 0 else [])
        params = sum(
            sum(w.layer_params[j] for j in u.layers)
            + share * sum(w.expert_params[j] for j in u.expert_layers)
            + (w.output_params if u.output else 0)
            for u in held
        )
        seconds += fx.prefill_compute_seconds(
            T_pk=dense_peak_tflops(gpu) * 1e12, n_u=setup.ubatch, P_ad=params
        )
    moved = 0 if setup.gpus[0].unified_memory else cpu.weights_bytes - w.input_bytes
    transfer = fx.prefill_transfer_seconds(W_x=moved, BW_x=setup.pcie_bandwidth)
    return fx.prefill_ceiling(n_u=setup.ubatch, t_c=seconds, t_x=transfer)
