"""Measure the scenario grid for catalog models and assemble ``measurements.json``."""

from __future__ import annotations

import datetime
import gc
import importlib.metadata
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
import transformers

from . import cuda, fsdp, qlora
from .build import (
    ATTN_IMPLEMENTATION,
    attention_dropout_overrides,
    attn_implementation,
    build_model,
    fake_mode,
    is_encoder,
)
from .run import measure
from .scenarios import (
    Scenario,
    default_grid,
    fsdp2_fitted_grid,
    fsdp2_grid,
    held_out_grid,
    inference_grid,
    lora_grid,
    lora_shapes_grid,
    qlora_grid,
    recurrent_grid,
)

DATA = Path(__file__).resolve().parent.parent / "data"
MODELS_DIR = DATA / "models"
DEFAULT_OUT = DATA / "measurements.json"
CONVENTIONS = [
    "Bytes are live tensor storage bytes; CPU records exclude allocator rounding, caching and"
    " the CUDA context.",
    "Decoders are AutoModelForCausalLM, encoders AutoModelForMaskedLM; weights random.",
    "Mixture-of-experts layers use transformers' default experts implementation (grouped_mm).",
    "Training: labels = input_ids, use_cache=False, train mode with the config's hidden dropout"
    " but attention-probability dropout set to 0 (see config_overrides); the model outputs are"
    " dropped before backward, keeping the loss; the second step is measured (AdamW moments"
    " exist); gradients are set to None after the step.",
    "Gradient checkpointing: activation_checkpointing_enable() (non-reentrant torch checkpoint).",
    "Categories are MemTracker's: tensors created in backward count as temporaries until they"
    " become gradients; those created in the optimizer step as optimizer_state, so the step's"
    " temporaries are the optimizer phase's peak_bytes minus its start_bytes.",
    "AMP: fp32 weights, torch.autocast(bfloat16); parameter_copy_bytes counts the bf16 weight"
    " copies autocast makes, per phase.",
    "Models whose record names an attn_implementation (Gemma 2: eager) were built with it.",
    "Scenarios that name an attention ran sdpa's math kernel (torch._fused_sdp_choice on"
    " each call; on the CPU no fused kernel takes value heads narrower than query heads)."
    " The others ran a fused kernel.",
    "Inference: eval mode, no_grad, DynamicCache; the kv_cache category is split off"
    " activations; generate = prefill with logits_to_keep=1, then one-token greedy steps.",
    "FSDP2 (world > 0): FSDPMemTracker's categories on rank 0 of a fake process group;"
    " fully_shard on each block (reshard_after_forward as given), then on the root (FSDP's"
    " default: not resharded after forward); param_dtype: MixedPrecisionPolicy(param_dtype,"
    " reduce_dtype=float32) on FP32 weights.",
    "QLoRA (dtype nf4): the BF16 model's linear layers but the LM head replaced by"
    " transformers' bitsandbytes quantizer (BitsAndBytesConfig: NF4, blocks of 64, double"
    " quantization, BF16 compute) and each weight quantized as Params4bit.to does; on fake"
    " tensors a Params4bit is its data marked as a parameter; the quantization state"
    " (absmax, codes, offset) counts as parameters; stored_weight_bytes: the base's"
    " parameters, buffers and quantization state. bitsandbytes' fused 4-bit matmul is one"
    " operator to the tracker: a weight it dequantizes inside the forward kernel is not seen"
    " (the backward's dequantized weight is).",
    "Linear-attention layers (gated DeltaNet) ran transformers' PyTorch fallbacks"
    " (torch_chunk_gated_delta_rule, torch_recurrent_gated_delta_rule, causal_conv1d_fn and"
    " causal_conv1d_update: flash-linear-attention and causal-conv1d not installed); kv_cache"
    " counts their cache layers' conv_states and recurrent_states.",
    "Models whose config has a vision_config (Qwen3.5) were built with"
    " AutoModelForImageTextToText, their vision tower included as the checkpoint holds it,"
    " and run on text alone.",
    "layer_activation_bytes: median over blocks of the activation bytes a block adds during its"
    " forward; head_activation_bytes: added after the last block (norm, LM head, loss).",
]
#: Scenario grids: the default grid's records are the set the memory model's coefficients were
#: counted and fitted on; the held-out grid's shapes were never used to choose a coefficient.
GRIDS = {
    "default": default_grid,
    "held-out": held_out_grid,
    "lora": lora_grid,
    "inference": inference_grid,
    "lora-shapes": lora_shapes_grid,
    "fsdp2": fsdp2_grid,
    "fsdp2-fitted": fsdp2_fitted_grid,
    "qlora": qlora_grid,
    "recurrent": recurrent_grid,
}
SPLITS = {
    "default": "fitted",
    "held-out": "held_out",
    "lora": "held_out",
    "inference": "held_out",
    "lora-shapes": "held_out",
    "fsdp2": "held_out",
    "fsdp2-fitted": "fitted",
    "qlora": "held_out",
    "recurrent": "held_out",
}
DEFAULT_MODELS = (
    "gpt2",
    "bert-base-uncased",
    "qwen2.5-0.5b",
    "llama-2-7b",
    "mistral-7b-v0.1",
    "olmoe-1b-7b",
    "mixtral-8x7b",
)


def load_config(model_id: str) -> dict[str, Any]:
    """The Hugging Face config of catalog model ``model_id``."""
    return json.loads((MODELS_DIR / f"{model_id}.json").read_text())["config"]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure_model(
    model_id: str, device: str = "cpu", grid: str = "default"
) -> list[dict[str, Any]]:
    """Records for every scenario of ``grid`` (a key of :data:`GRIDS`) on ``model_id``.

    On ``cpu`` tensors are fake; on ``cuda`` they are real. A scenario that fails (out of
    memory, an operator that rejects the dtype) is recorded with an ``error``.
    """
    config = load_config(model_id)
    text = config.get("text_config", config)  # a multimodal config's language model
    max_seq = text.get("max_position_embeddings") or text["n_positions"]
    scenarios = GRIDS[grid](decoder=not is_encoder(config), max_seq=max_seq)
    if any(sc.world for sc in scenarios):
        return _measure_sharded(model_id, config, scenarios, SPLITS[grid])
    records = []
    for dtype in ("fp32", "bf16", "nf4"):
        for train in (False, True):
            todo = [
                sc
                for sc in scenarios
                if (sc.mode == "train") == train and ("fp32" if sc.amp else sc.dtype) == dtype
            ]
            if todo:
                records += _measure_group(
                    model_id, config, dtype, train, todo, device, SPLITS[grid]
                )
    return records


def _measure_group(
    model_id: str,
    config: dict[str, Any],
    dtype: str,
    train: bool,
    scenarios: list[Scenario],
    device: str,
    split: str,
) -> list[dict[str, Any]]:
    """Build the model once and measure ``scenarios`` on it, recording their ``split``."""
    overrides = attention_dropout_overrides(config) if train else {}
    records = []
    with fake_mode(device == "cpu"):
        try:
            model = _build(config, dtype, overrides, device)
        except torch.cuda.OutOfMemoryError:
            model = None
        for sc in scenarios:
            start = time.perf_counter()
            record: dict[str, Any] = {
                "model": model_id,
                "scenario": sc.as_dict(),
                "split": split,
            }
            if overrides:
                record["config_overrides"] = overrides
            if attn_implementation(config) != ATTN_IMPLEMENTATION:
                record["attn_implementation"] = attn_implementation(config)
            if model is not None and dtype == "nf4":
                record["stored_weight_bytes"] = qlora.stored_bytes(model)["total"]
            try:
                if model is None:
                    raise torch.cuda.OutOfMemoryError
                record.update(measure(model, sc))
                if "attention" in record:  # the kernel sdpa ran, where not the fused one
                    record["scenario"]["attention"] = record.pop("attention")
                result = f"peak {record['peak_bytes'] / 2**30:.2f} GiB"
            except torch.cuda.OutOfMemoryError:
                record["error"] = result = "out of memory"
                torch.cuda.empty_cache()
            except RuntimeError as err:  # e.g. grouped_mm experts take bf16 weights only
                record["error"] = result = f"{type(err).__name__}: {str(err).splitlines()[0]}"
            _log(f"{model_id}: {sc.label()}: {result} ({time.perf_counter() - start:.1f} s)")
            records.append(record)
        del model
    if device == "cuda":  # the modules' reference cycles hold the weights until collected
        gc.collect()
        torch.cuda.empty_cache()
    return records


def _build(
    config: dict[str, Any], dtype: str, overrides: dict[str, Any], device: str
) -> torch.nn.Module:
    """The model of ``config`` in ``dtype``; ``nf4``: BF16 with its linear layers in NF4."""
    if dtype == "nf4":
        return qlora.quantize(build_model(config, "bf16", overrides, device))
    return build_model(config, dtype, overrides, device)


def _measure_sharded(
    model_id: str, config: dict[str, Any], scenarios: list[Scenario], split: str
) -> list[dict[str, Any]]:
    """FSDP2 ``scenarios``, each on a freshly built and sharded model, recording their ``split``."""
    records = []
    for sc in scenarios:
        start = time.perf_counter()
        record = {"model": model_id, "scenario": sc.as_dict(), "split": split}
        record.update(fsdp.measure_sharded(config, sc))
        peak = record["peak_bytes"] / 2**30
        _log(f"{model_id}: {sc.label()}: peak {peak:.2f} GiB ({time.perf_counter() - start:.1f} s)")
        records.append(record)
    return records


def provenance(device: str) -> dict[str, Any]:
    """Top-level description of how the records were obtained."""
    info: dict[str, Any] = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "attn_implementation": ATTN_IMPLEMENTATION,
        "date": datetime.date.today().isoformat(),
        "conventions": CONVENTIONS,
    }
    for package in ("peft", "bitsandbytes"):
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    if device == "cpu":
        info["method"] = "MemTracker under FakeTensorMode on CPU"
    else:
        info["method"] = "MemTracker and CUDA caching-allocator statistics, real tensors"
        info["device_name"] = torch.cuda.get_device_name()
    return info


def run(
    models: list[str], out: Path, device: str = "cpu", grid: str = "default", append: bool = False
) -> dict[str, Any]:
    """Measure ``models`` on ``grid`` and write the result to ``out``.

    With ``append`` the records are added to those ``out`` already holds (same provenance).
    """
    doc = json.loads(out.read_text()) if append else {"provenance": {}, "records": []}
    if device == "cuda":
        doc["provenance"]["cuda_context_bytes"] = cuda.context_bytes()
    for model_id in models:
        doc["records"] += measure_model(model_id, device, grid)
    new = provenance(device)
    conventions = doc["provenance"].get("conventions", [])
    doc["provenance"] = new | doc["provenance"]
    if append:
        doc["provenance"][f"{grid.replace('-', '_')}_date"] = new["date"]
    doc["provenance"]["conventions"] = conventions + [
        line for line in new["conventions"] if line not in conventions
    ]
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return doc
