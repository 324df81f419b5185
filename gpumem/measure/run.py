"""Run one :class:`~gpumem.measure.scenarios.Scenario` on a model and record its memory."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from unittest import mock

import torch
from torch._subclasses.fake_tensor import FakeTensor, unset_fake_temporarily
from torch.distributed._tools.mem_tracker import _ModState
from torch.nn.attention import SDPBackend
from transformers import DynamicCache

from .build import DTYPES, is_encoder
from .cuda import allocator_peaks
from .scenarios import Scenario
from .tracker import PhaseTracker


def _storage_bytes(tensors: list[torch.Tensor]) -> int:
    """Bytes of the distinct storages behind ``tensors``."""
    seen: dict[int, int] = {}
    for t in tensors:
        st = t.untyped_storage()
        seen[id(st)] = st.nbytes()
    return sum(seen.values())


def _cache_tensors(layer: object) -> list[torch.Tensor]:
    """What one cache layer holds: keys and values, and a linear-attention layer's
    convolution windows and recurrent states (``LinearAttentionLayer``, cache_utils.py)."""
    tensors = [getattr(layer, "keys", None), getattr(layer, "values", None)]
    for states in ("conv_states", "recurrent_states"):
        tensors += getattr(layer, states, {}).values()
    return [t for t in tensors if t is not None]


def _cache_bytes(cache: DynamicCache) -> int:
    return _storage_bytes([t for layer in cache.layers for t in _cache_tensors(layer)])


def _input_ids(model: torch.nn.Module, batch: int, seq: int) -> torch.Tensor:
    device = next(model.parameters()).device
    vocab = model.config.get_text_config().vocab_size
    return torch.randint(0, vocab, (batch, seq), device=device)


def _layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The stack of transformer blocks (the ModuleList with one entry per hidden layer)."""
    n = model.config.num_hidden_layers
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n:
            return module
    raise LookupError("no ModuleList with one entry per layer")


def _activations(snapshot: dict[torch.device, dict[str, int]]) -> int:
    return sum(dev_snap.get("Activation", 0) for dev_snap in snapshot.values())


def _forward_activations(
    tracker: PhaseTracker, model: torch.nn.Module, end_of_forward: int
) -> dict[str, int]:
    """Activation bytes kept for backward: per block (median) and after the last block.

    ``layer`` is what one block adds to live activations during its forward; ``head`` is what
    the final norm, the output projection and the loss add (``end_of_forward`` minus the
    activations live when the last block returns).
    """
    deltas = []
    for layer in _layers(model):
        snaps = tracker.memory_tracking[layer].snapshots
        post = _activations(snaps[_ModState.POST_FW][0])
        deltas.append(post - _activations(snaps[_ModState.PRE_FW][0]))
    return {"layer": int(statistics.median(deltas)), "head": end_of_forward - post}


def _record(tracker: PhaseTracker, cuda: dict[str, int], **extra: Any) -> dict[str, Any]:
    if cuda:
        extra["cuda"] = cuda
    return {
        "peak_bytes": tracker.peak["total"],
        "peak_breakdown": tracker.peak,
        "phases": {
            name: {
                "start_bytes": tracker.phase_start[name]["total"],
                "peak_bytes": tracker.phase_peak[name]["total"],
                "end_bytes": tracker.phase_end[name]["total"],
                "peak_breakdown": tracker.phase_peak[name],
            }
            for name in tracker.phase_peak
        },
        **extra,
    }


def measure_weights(model: torch.nn.Module) -> dict[str, Any]:
    """Bytes of parameters and buffers."""
    tracker = PhaseTracker()
    tracker.track_external(model)
    with tracker, tracker.phase("weights"):
        pass
    return _record(tracker, {})


@torch.no_grad()
def measure_inference(model: torch.nn.Module, sc: Scenario) -> dict[str, Any]:
    """Prefill (and for ``generate``, ``new_tokens`` greedy decoding steps) with a KV cache."""
    model.eval()
    ids = _input_ids(model, sc.batch, sc.seq)
    encoder = is_encoder(model.config.to_dict())
    cache = None if encoder else DynamicCache(config=model.config)
    kwargs: dict[str, Any] = {} if encoder else {"past_key_values": cache, "use_cache": True}
    if sc.logits == "last":
        kwargs["logits_to_keep"] = 1
    tracker = PhaseTracker(None if encoder else lambda: _cache_bytes(cache))
    tracker.track_external(model, ids)
    with allocator_peaks(ids.device) as cuda, tracker:
        with tracker.phase("prefill"):
            out = model(input_ids=ids, **kwargs)
            logits_bytes = _storage_bytes([out.logits])
            token = out.logits[:, -1:].argmax(-1)
            del out
        if sc.new_tokens:
            with tracker.phase("decode"):
                for _ in range(sc.new_tokens):
                    tracker.reset_mod_stats()  # module stats allow one call per root module
                    out = model(input_ids=token, past_key_values=cache, use_cache=True)
                    token = out.logits[:, -1:].argmax(-1)
                    del out
    extra: dict[str, Any] = {"logits_bytes": logits_bytes}
    if cache is not None:
        extra["kv_cache_bytes"] = _cache_bytes(cache)
    return _record(tracker, cuda, **extra)


def _optimizer(model: torch.nn.Module, impl: str) -> torch.optim.Optimizer:
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(trainable, lr=1e-5, foreach=impl == "foreach", fused=impl == "fused")


def _with_lora(model: torch.nn.Module, sc: Scenario) -> torch.nn.Module:
    """``model`` with peft LoRA adapters of ``sc``: the base frozen, the adapters in FP32
    (peft's default ``autocast_adapter_dtype``) or, with ``sc.adapter_dtype``, in the base's
    dtype; no dropout."""
    from peft import LoraConfig, LoraModel, get_peft_model
    from peft.tuners.tuners_utils import BaseTunerLayer

    targets = sc.lora_targets or "all-linear"
    config = LoraConfig(
        r=sc.lora_rank,
        target_modules=targets if targets == "all-linear" else targets.split(","),
        lora_dropout=0.0,
    )
    # peft moves each new adapter to its base layer's device and dtype before casting it to
    # FP32; a fake parameter cannot be swapped, so the adapters stay as created: FP32, on the
    # device they were made on (the base's: made there on real tensors too), which is where
    # peft leaves them.
    # Without that move, adapters kept in the base's dtype are made in it: the default dtype
    # while peft creates them.
    with (
        torch.device(next(model.parameters()).device),
        mock.patch.object(BaseTunerLayer, "_move_adapter_to_device_of_base_layer"),
        mock.patch.object(LoraModel, "_replace_module", _put),
        _default_dtype(DTYPES[sc.adapter_dtype or "fp32"]),
    ):
        return get_peft_model(model, config, autocast_adapter_dtype=sc.adapter_dtype is None)


@contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _put(
    self: object, parent: torch.nn.Module, name: str, new: torch.nn.Module, old: object
) -> None:
    """peft's ``_replace_module`` without its move to the base layer's device."""
    setattr(parent, name, new)


def measure_train(model: torch.nn.Module, sc: Scenario) -> dict[str, Any]:
    """One training step in steady state: the second step, after AdamW created its moments.

    The loss is the model's own (``labels=input_ids``); the model outputs are dropped before
    backward, keeping only the loss, as a training loop does.
    """
    base = model
    if sc.lora_rank:
        model = _with_lora(model, sc)
    model.train()
    if sc.grad_checkpointing:
        base.activation_checkpointing_enable()
    ids = _input_ids(base, sc.batch, sc.seq)
    opt = _optimizer(model, sc.optimizer or "foreach")
    autocast = torch.autocast(ids.device.type, dtype=torch.bfloat16) if sc.amp else nullcontext()

    def forward() -> torch.Tensor:
        with autocast:
            return model(input_ids=ids, labels=ids, use_cache=False).loss

    try:
        forward().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        tracker = PhaseTracker()
        tracker.track_external(model, opt, ids)
        with allocator_peaks(ids.device) as cuda, tracker:
            with tracker.phase("forward"):
                loss = forward()
            end_of_forward = tracker.current()
            with tracker.phase("backward"):
                loss.backward()
                del loss
            with tracker.phase("optimizer"):
                opt.step()
                opt.zero_grad(set_to_none=True)
        kept = _forward_activations(tracker, base, end_of_forward["activations"])
    finally:
        model.zero_grad(set_to_none=True)
        if sc.grad_checkpointing:
            base.activation_checkpointing_disable()
        del opt
        if sc.lora_rank:
            model.unload()  # the base without its adapters, for the next scenario
    return _record(
        tracker,
        cuda,
        end_of_forward=end_of_forward,
        layer_activation_bytes=kept["layer"],
        head_activation_bytes=kept["head"],
        parameter_copy_bytes=tracker.parameter_copy_bytes,
    )


def _stand_in(tensor: torch.Tensor, positions: tuple[int, ...]) -> torch.Tensor:
    """A real zero tensor like the fake ``tensor`` (dtype, device, sizes), its dimensions
    ``positions`` (the positions of a query, key or value; the queries and keys of a mask) cut
    to at most two, which sdpa's choice of kernel does not look at."""
    sizes = [*tensor.shape]
    for dim in positions:
        sizes[dim] = min(sizes[dim], 2)
    return torch.zeros(sizes, dtype=tensor.dtype, device=tensor.device)


def sdpa_kernel(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> str:
    """The kernel ``torch.nn.functional.scaled_dot_product_attention`` runs for these
    arguments, as PyTorch chooses it (``torch._fused_sdp_choice``): ``"math"``,
    ``"flash_attention"``, ``"efficient_attention"``, …

    Fake tensors get the meta device's answer (always the math kernel), so their choice is
    asked on real stand-ins with the same batch, heads, head widths, dtype and device. Under
    autocast the choice is asked on the copies autocast makes (sdpa is on its lower-precision
    list on the CPU and CUDA alike): transformers passes FP32 queries and keys after the rotary
    embedding beside BF16 values, a mix no fused kernel takes, but sdpa receives BF16.
    """
    tensors = [_autocast(t) for t in (query, key, value)]
    if isinstance(query, FakeTensor):
        with unset_fake_temporarily():
            stand_ins = [_stand_in(t, (-2,)) for t in tensors]
            mask = None if attn_mask is None else _stand_in(attn_mask, (-2, -1))
            choice = torch._fused_sdp_choice(
                *stand_ins, mask, dropout_p, is_causal, scale=scale, enable_gqa=enable_gqa
            )
    else:
        choice = torch._fused_sdp_choice(
            *tensors, attn_mask, dropout_p, is_causal, scale=scale, enable_gqa=enable_gqa
        )
    return SDPBackend(choice).name.lower()


def _autocast(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` as autocast hands it to a lower-precision operator (itself outside autocast)."""
    device = tensor.device.type
    if tensor.is_floating_point() and torch.is_autocast_enabled(device):
        return tensor.to(torch.get_autocast_dtype(device))
    return tensor


@contextmanager
def _sdpa_kernels() -> Iterator[set[str]]:
    """The set of kernels every ``scaled_dot_product_attention`` call runs inside the block
    (transformers looks the function up on ``torch.nn.functional`` at each call)."""
    kernels: set[str] = set()
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def spy(*args: Any, **kwargs: Any) -> torch.Tensor:
        kernels.add(sdpa_kernel(*args, **kwargs))
        return sdpa(*args, **kwargs)

    with mock.patch.object(torch.nn.functional, "scaled_dot_product_attention", spy):
        yield kernels


def measure(model: torch.nn.Module, sc: Scenario) -> dict[str, Any]:
    """Measure ``sc`` on ``model`` (whose weights must already have dtype ``sc.dtype``).

    Where sdpa ran its math kernel (no fused kernel took the shapes: on the CPU, value heads
    narrower than the query heads), the record says ``"attention": "math"``.
    """
    if sc.mode == "weights":
        return measure_weights(model)
    with _sdpa_kernels() as kernels:
        record = measure_train(model, sc) if sc.mode == "train" else measure_inference(model, sc)
    if "math" in kernels:
        record["attention"] = "math"
    return record
