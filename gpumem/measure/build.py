"""Build a randomly initialised Hugging Face model from a ``config.json`` dict."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

import torch
import transformers
from torch._subclasses.fake_tensor import FakeTensorMode
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoModelForMaskedLM,
)

#: Attention implementation every model is built with, except those of :data:`EAGER_ONLY`.
ATTN_IMPLEMENTATION = "sdpa"

#: Model types transformers 5.23 refuses to build with sdpa (``_supports_sdpa`` is false:
#: Gemma 2 caps its attention logits, which sdpa cannot); they are built with ``eager``.
EAGER_ONLY = frozenset({"gemma2"})

#: Config keys of attention-probability dropout. PyTorch's CPU flash-attention kernel does not
#: take dropout, so sdpa would fall back to the math kernel and store the (b, h, s, s)
#: probabilities, which CUDA kernels do not; training runs set these to 0.
ATTENTION_DROPOUT_KEYS = ("attn_pdrop", "attention_probs_dropout_prob", "attention_dropout")

DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16}


def is_encoder(config: dict[str, Any]) -> bool:
    """Whether the config describes an encoder-only (BERT-like) model."""
    return config.get("model_type") in {"bert", "roberta", "distilbert", "deberta-v2"}


def attn_implementation(config: dict[str, Any]) -> str:
    """The attention implementation a model of ``config`` is built with."""
    return "eager" if config.get("model_type") in EAGER_ONLY else ATTN_IMPLEMENTATION


def attention_dropout_overrides(config: dict[str, Any]) -> dict[str, float]:
    """Overrides disabling attention-probability dropout (see :data:`ATTENTION_DROPOUT_KEYS`)."""
    return {k: 0.0 for k in ATTENTION_DROPOUT_KEYS if config.get(k)}


def build_model(
    config: dict[str, Any],
    dtype: str,
    overrides: dict[str, Any] | None = None,
    device: str = "cpu",
) -> torch.nn.Module:
    """Instantiate the architecture of ``config`` with random weights of ``dtype``.

    Decoders are built with ``AutoModelForCausalLM``, or with ``AutoModelForImageTextToText``
    where the config has a vision tower (Qwen3.5), so that the weights are those the checkpoint
    holds (text alone runs through it); encoders with ``AutoModelForMaskedLM``, their
    pre-training head, so that training has a loss over a vocabulary-sized output as for
    decoders. Call inside :func:`fake_mode` to get fake (storage-less) tensors.

    Parameters
    ----------
    config
        Hugging Face ``config.json`` contents (must contain ``model_type``).
    dtype
        ``"fp32"`` or ``"bf16"``.
    overrides
        Config entries to replace.
    device
        Device the weights are created on.
    """
    cfg = dict(config)
    cfg.pop("torch_dtype", None)
    cfg.pop("dtype", None)
    cfg.update(overrides or {})
    hf_config = AutoConfig.for_model(**cfg)
    if is_encoder(config):
        auto = AutoModelForMaskedLM
    elif "vision_config" in config:
        auto = AutoModelForImageTextToText
    else:
        auto = AutoModelForCausalLM
    with torch.device(device):
        return auto.from_config(
            hf_config, dtype=DTYPES[dtype], attn_implementation=attn_implementation(config)
        )


def _unpacked(position_ids: torch.Tensor) -> None:
    """What ``find_packed_sequence_indices`` returns for ordinary (unpacked) sequences."""
    return None


@contextmanager
def fake_mode(enabled: bool = True) -> Iterator[FakeTensorMode | None]:
    """Run tensors as fakes: shapes, dtypes and storage sizes, but no data.

    On fake tensors transformers believes it is being traced and skips the data-dependent
    check for packed sequences, so it would build an explicit attention mask (and expand
    grouped K/V heads) that real runs never build. Inside this context the check returns
    what it returns for the unpacked inputs used here.
    """
    if not enabled:
        yield None
        return
    with ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(transformers.masking_utils, "find_packed_sequence_indices", _unpacked)
        )
        yield stack.enter_context(FakeTensorMode(allow_non_fake_inputs=False))
