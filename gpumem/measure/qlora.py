"""QLoRA's base: a model's linear layers quantized to NF4 by bitsandbytes, as transformers'
``from_pretrained`` with ``BitsAndBytesConfig(load_in_4bit=True)`` quantizes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import torch
from torch._subclasses.fake_tensor import FakeTensor
from transformers import BitsAndBytesConfig
from transformers.quantizers import AutoHfQuantizer

#: The QLoRA recipe's quantization: NF4 in blocks of 64, the absmax quantized again
#: (double quantization), computing in BF16.
CONFIG = dict(
    load_in_4bit=True,
    bnb_4bit_quant_type="nf4",
    bnb_4bit_use_double_quant=True,
    bnb_4bit_compute_dtype=torch.bfloat16,
)


def quantize(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` (BF16 weights) with its linear layers in NF4, the LM head left out.

    The steps are transformers' own for a checkpoint quantized at load time: the bitsandbytes
    quantizer replaces the linear layers it converts with empty ``Linear4bit`` modules, then
    each weight becomes a ``Params4bit`` quantized by moving it to its device; biases stay in
    the model's dtype.
    """
    import bitsandbytes as bnb

    with _fake_params4bit():
        return _quantize(model, bnb)


def _quantize(model: torch.nn.Module, bnb: Any) -> torch.nn.Module:
    quantizer = AutoHfQuantizer.from_config(BitsAndBytesConfig(**CONFIG), pre_quantized=False)
    linears = {
        name: (module.weight, module.bias)
        for name, module in model.named_modules()
        if type(module) is torch.nn.Linear
    }
    device = next(model.parameters()).device
    quantizer.preprocess_model(model, dtype=torch.bfloat16, device_map={"": device.type})
    for name, module in model.named_modules():
        if isinstance(module, bnb.nn.Linear4bit):
            weight, bias = linears[name]
            param = bnb.nn.Params4bit(weight.data, requires_grad=False, **module.weight.__dict__)
            module.weight = bnb.nn.Params4bit._quantize(param, device)  # what .to(device) does
            module.bias = bias
    model.hf_quantizer = quantizer
    quantizer.postprocess_model(model)
    return model


def quant_state_tensors(param: torch.Tensor) -> list[torch.Tensor]:
    """The tensors a ``Params4bit`` keeps beside its packed data: the blocks' absmax (8-bit
    when double-quantized), the NF4 code, and for double quantization the offset and the
    second level's FP32 absmax and code. Empty for other parameters."""
    state = getattr(param, "quant_state", None)
    if state is None:
        return []
    tensors = [state.absmax, state.code, state.offset]
    if state.nested:
        tensors += [state.state2.absmax, state.state2.code]
    return [t for t in tensors if isinstance(t, torch.Tensor)]


def stored_bytes(model: torch.nn.Module) -> dict[str, Any]:
    """Bytes the model's parameters and buffers hold, quantization state included, each
    storage counted once: ``total`` and, by the parameters' dtype, their storage bytes."""
    storages: dict[int, int] = {}
    by_dtype: dict[str, int] = {}
    tensors = [*model.parameters(), *model.buffers()]
    for param in model.parameters():
        tensors += quant_state_tensors(param)
    for t in tensors:
        st = t.untyped_storage()
        if id(st) not in storages:
            storages[id(st)] = st.nbytes()
            key = str(t.dtype).removeprefix("torch.")
            by_dtype[key] = by_dtype.get(key, 0) + st.nbytes()
    return {"total": sum(storages.values()), "by_dtype": by_dtype}


@contextmanager
def _fake_params4bit() -> Iterator[None]:
    """Let ``Params4bit`` wrap fake tensors.

    ``Params4bit`` makes itself a subclass of its data, which a fake tensor refuses; for fake
    data it becomes, as ``torch.nn.Parameter`` does for tensor subclasses, the data itself
    marked as a parameter, carrying the same attributes. Real data is left to bitsandbytes.
    Under fake tensors the double quantization's 8-bit code (256 FP32 values, built from
    Python numbers bitsandbytes reads back) is a fake tensor of its size.
    """
    import bitsandbytes as bnb

    codes = bnb.functional.name2qmap
    if isinstance(torch.empty(0), FakeTensor):
        codes = {**codes, "dynamic": torch.empty(256, dtype=torch.float32)}

    real_new = bnb.nn.Params4bit.__new__

    def new(cls: type, data: torch.Tensor | None = None, requires_grad: bool = False, **kw: Any):
        if not isinstance(data, FakeTensor):
            return real_new(cls, data, requires_grad, **kw)
        param = torch.nn.Parameter(data, requires_grad)
        param.blocksize = kw.get("blocksize") or 64
        param.compress_statistics = kw.get("compress_statistics", True)
        param.quant_type = kw.get("quant_type", "fp4")
        param.quant_state = kw.get("quant_state")
        param.quant_storage = kw.get("quant_storage", torch.uint8)
        param.bnb_quantized = kw.get("bnb_quantized", False)
        param.module = kw.get("module")
        return param

    with (
        mock.patch.object(bnb.nn.Params4bit, "__new__", new),
        mock.patch.object(bnb.functional, "name2qmap", codes),
    ):
        yield
