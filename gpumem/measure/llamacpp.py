"""What llama.cpp itself reports when it loads GGUF files with the shapes of catalog models.

For each model and weight type of :data:`MODELS`, a GGUF file with the model's real tensor
names and shapes (as llama.cpp's ``src/models/*.cpp`` create them) and random bytes as weights
is written with llama.cpp's own ``gguf`` package. Each setting of :data:`SETTINGS` loads it with
llama-cpp-python on the CPU (``n_gpu_layers=0``) in a process of its own, and the lines
llama.cpp prints — model buffers, the KV cache with its cells, layers and K/V sizes, the
compute and output buffers — are kept verbatim with the numbers parsed from them, beside
``llama_model_size`` (the weights' exact bytes). ``python -m gpumem.measure.llamacpp``
(``nox -s llamacpp``; needs ``gpumem[llamacpp]``, which builds llama.cpp from source)
rewrites ``gpumem/data/llamacpp_measurements.json``.

Which records a formula may be fitted on and which are held out is fixed here, by model and
context (:func:`held_out`), before any formula is fitted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..catalog import load_model
from ..gguf import (
    ARCHITECTURES,
    TEXT_FAMILY,
    full_attention_interval,
    ggml_type,
    layout,
    storage,
    tensor_bytes,
)
from ..modelspec import ModelSpec

OUT = Path(__file__).parents[1] / "data" / "llamacpp_measurements.json"

#: catalog model -> weight types written (rows must be whole blocks: Qwen2.5-0.5B's 896-wide
#: rows are not whole 256-value K-quant blocks).
MODELS: dict[str, tuple[str, ...]] = {
    "qwen2.5-0.5b": ("f16", "q8_0", "q4_0"),
    "llama-3.2-1b": ("f16", "q8_0", "q4_K"),
    "olmoe-1b-7b": ("q4_0",),
    "qwen1.5-moe-a2.7b": ("q4_0",),
    "gemma-3-4b": ("q8_0",),
    "gpt-oss-20b": ("q8_0",),
    "qwen3.6-27b": ("q8_0", "q4_0"),
    "qwen3.6-35b-a3b": ("q4_0", "q8_0"),
    "qwen3-next-80b-a3b": ("q4_0",),
}
#: Models written with fewer layers than published (their other shapes as published), small
#: enough to load on a CPU yet with both kinds of layer: Gemma 3's five windowed layers and one
#: full-attention layer, gpt-oss's alternating pair.
SHAPES: dict[str, dict[str, int]] = {
    "gemma-3-4b": {"n_layers": 6, "n_sliding_layers": 5},
    "gpt-oss-20b": {"n_layers": 2, "n_sliding_layers": 1},
    # three gated DeltaNet layers and the full-attention layer that closes each group of four
    "qwen3.6-27b": {"n_layers": 4, "n_recurrent_layers": 3},
    "qwen3.6-35b-a3b": {"n_layers": 4, "n_recurrent_layers": 3},
    "qwen3-next-80b-a3b": {"n_layers": 4, "n_recurrent_layers": 3},
}
CONTEXTS = (512, 4096, 16384)
#: (n_ctx, n_batch, n_ubatch, K/V cache type, flash attention) loaded for every file: each
#: context with the defaults, then variations at 4096 tokens for the first weight type only.
BASE = tuple((ctx, 512, 512, "f16", False) for ctx in CONTEXTS)
VARIANTS = (
    (4096, 512, 512, "f16", True),
    (4096, 512, 512, "q8_0", True),  # a quantized V cache needs flash attention
    (4096, 2048, 2048, "f16", False),
    (4096, 512, 128, "f16", False),
)
#: With a sliding window, also the cache llama.cpp's library allocates by default (--swa-full).
SWA_FULL = ((4096, 512, 512, "f16", False, True),)
#: Loads added later for the mixtures of experts, for the first weight type, at contexts no
#: earlier load had (held out, as those contexts are, since before they were recorded).
ADDED: dict[str, tuple[tuple[int, int, int, str, bool, bool], ...]] = {
    "gpt-oss-20b": (
        (1024, 512, 512, "f16", False, False),
        (2048, 512, 512, "f16", False, False),
        (2048, 512, 512, "f16", True, False),
        (8192, 512, 512, "q8_0", True, False),
        (1024, 1024, 1024, "f16", False, False),
    ),
    "olmoe-1b-7b": ((1024, 512, 512, "f16", False, False), (2048, 512, 512, "f16", True, False)),
    "qwen1.5-moe-a2.7b": ((2048, 512, 512, "f16", False, False),),
    # held out before the allocator of these hybrids was traced at their first setting
    "qwen3.6-35b-a3b": (
        (1024, 1024, 256, "f16", False, False),
        (2048, 512, 512, "f16", True, False),
        (8192, 1024, 1024, "f16", False, False),
    ),
    "qwen3-next-80b-a3b": (
        (1024, 1024, 256, "f16", False, False),
        (2048, 512, 512, "f16", True, False),
        (8192, 1024, 1024, "f16", False, False),
    ),
}
HELD_OUT_MODELS = (
    "olmoe-1b-7b",
    "gemma-3-4b",
    "gpt-oss-20b",
    "qwen3.6-27b",
    "qwen3.6-35b-a3b",
    "qwen3-next-80b-a3b",
)
HELD_OUT_CONTEXTS = (16384, 1024, 2048, 8192)


def held_out(model: str, n_ctx: int) -> bool:
    """Whether a record is kept out of any fitting (chosen before the first fit)."""
    return model in HELD_OUT_MODELS or n_ctx in HELD_OUT_CONTEXTS


def spec_of(model: str) -> ModelSpec:
    """The catalog model with the shapes its files are written with."""
    return load_model(model).with_(**SHAPES.get(model, {}))


def settings(model: str, weights: str) -> list[dict[str, Any]]:
    """The loads of one file."""
    grid = [(*row, False) for row in BASE + (VARIANTS if weights == MODELS[model][0] else ())]
    grid += list(SWA_FULL) if spec_of(model).sliding_window else []
    grid += list(ADDED.get(model, ())) if weights == MODELS[model][0] else []
    keys = ("n_ctx", "n_batch", "n_ubatch", "kv_type", "flash_attn", "swa_full")
    return [dict(zip(keys, row, strict=True)) for row in grid]


# --- GGUF files with a catalog model's shapes ----------------------------------------------


def write_gguf(spec: ModelSpec, weights: str, path: Path, seed: int = 0) -> int:
    """Write ``spec`` as a GGUF file of random bytes; returns its tensors' bytes."""
    import gguf
    import numpy as np

    family = TEXT_FAMILY.get(spec.family, spec.family)
    arch = {family: arch for arch, family in ARCHITECTURES.items()}[family]
    w = gguf.GGUFWriter(os.fspath(path), arch)
    w.add_name(spec.name)
    w.add_tokenizer_model("none")
    w.add_vocab_size(spec.vocab_size)
    w.add_context_length(spec.max_context)
    w.add_embedding_length(spec.hidden_size)
    w.add_block_count(spec.n_layers)
    w.add_feed_forward_length(
        spec.moe_intermediate_size if spec.family == "olmoe" else spec.intermediate_size
    )
    w.add_head_count(spec.n_heads)
    w.add_head_count_kv(spec.n_kv_heads)
    w.add_key_length(spec.head_dim)
    w.add_value_length(spec.head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    if spec.sliding_window:
        w.add_sliding_window(spec.sliding_window)
    delta = spec.extra.get("linear_attention")
    if delta:  # gated DeltaNet layers, llama.cpp's keys (one head size for keys and values)
        w.add_ssm_conv_kernel(delta["conv_kernel"])
        w.add_ssm_state_size(delta["key_head_dim"])
        w.add_ssm_group_count(delta["key_heads"])
        w.add_ssm_time_step_rank(delta["value_heads"])
        w.add_ssm_inner_size(delta["value_heads"] * delta["value_head_dim"])
        w.add_full_attention_interval(
            full_attention_interval(spec.n_layers, spec.n_recurrent_layers)
        )
        # the rotary sizes change no buffer: Qwen3.5's, 64 dimensions in sections 11, 11, 10
        w.add_rope_dimension_count(64)
        w.add_rope_dimension_sections([11, 11, 10, 0])
    if spec.is_moe:
        w.add_expert_count(spec.n_experts)
        w.add_expert_used_count(spec.n_experts_active)
        w.add_expert_feed_forward_length(spec.moe_intermediate_size)
        if spec.n_shared_experts:
            w.add_expert_shared_feed_forward_length(spec.shared_intermediate_size)
    tensors = []
    for name, shape in layout(spec):
        kind = ggml_type(storage(name, weights))
        nbytes = tensor_bytes(kind, shape)
        rows = (*shape[1:][::-1], shape[0] // kind.block * kind.size)  # numpy order, in bytes
        raw = gguf.GGMLQuantizationType[kind.name.upper()]
        w.add_tensor_info(name, rows, np.dtype(np.uint8), nbytes, raw_dtype=raw)
        tensors.append((rows, nbytes))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    rng = np.random.default_rng(seed)
    for rows, nbytes in tensors:
        w.write_tensor_data(np.frombuffer(rng.bytes(nbytes), dtype=np.uint8).reshape(rows))
    w.close()
    return sum(n for _, n in tensors)


# --- Loading in llama.cpp and reading what it prints --------------------------------------

_LOADER = """
import json, sys, llama_cpp
s = json.loads(sys.argv[1])
kv = getattr(llama_cpp, "GGML_TYPE_" + s["kv_type"].upper())
llm = llama_cpp.Llama(
    s["path"], n_ctx=s["n_ctx"], n_batch=s["n_batch"], n_ubatch=s["n_ubatch"], n_gpu_layers=0,
    type_k=kv, type_v=kv, flash_attn=s["flash_attn"], swa_full=s["swa_full"],
    n_threads=2, verbose=True,
)
print(json.dumps({
    "model_size": llama_cpp.llama_model_size(llm._model.model),
    "n_params": llama_cpp.llama_model_n_params(llm._model.model),
    "n_ctx_loaded": llama_cpp.llama_n_ctx(llm.ctx),
}))
"""

#: The lines kept from llama.cpp's log, by what they report.
LINES = {
    "model_buffer": re.compile(r"(\S+) model buffer size = +([\d.]+) MiB"),
    "kv_cache": re.compile(
        r"llama_kv_cache: size = +([\d.]+) MiB \( *(\d+) cells, +(\d+) layers, +(\d+)/(\d+) seqs\),"
        r" K \((\w+)\): +([\d.]+) MiB, V \((\w+)\): +([\d.]+) MiB"
    ),
    "recurrent_state": re.compile(
        r"llama_memory_recurrent: size = +([\d.]+) MiB \( *(\d+) cells, +(\d+) layers, +(\d+)"
        r" seqs +(\d+) rs_seq\), R \((\w+)\): +([\d.]+) MiB, S \((\w+)\): +([\d.]+) MiB"
    ),
    "compute_buffer": re.compile(r"(\S+) compute buffer size = +([\d.]+) MiB"),
    "output_buffer": re.compile(r"(\S+) +output buffer size = +([\d.]+) MiB"),
    "compute_buffer_exact": re.compile(r"(\S+) compute buffer size is +([\d.]+) MiB"),
    "graph": re.compile(r"graph: nodes = (\d+), splits = (\d+)"),
}


def parse(log: str) -> dict[str, Any]:
    """The numbers of llama.cpp's memory lines, and the lines themselves."""
    found: dict[str, Any] = {"lines": []}
    for line in log.splitlines():
        for what, pattern in LINES.items():
            m = pattern.search(line)
            if not m:
                continue
            found["lines"].append(line.strip())
            if what == "kv_cache":
                size, cells, layers, seqs, _, k_type, k_mib, v_type, v_mib = m.groups()
                # an interleaved sliding-window cache prints its full-attention part, then the
                # windowed one (src/llama-kv-cache-iswa.cpp)
                found["kv_cache_swa" if "kv_cache" in found else "kv_cache"] = {
                    "mib": float(size),
                    "cells": int(cells),
                    "layers": int(layers),
                    "seqs": int(seqs),
                    "k_type": k_type,
                    "k_mib": float(k_mib),
                    "v_type": v_type,
                    "v_mib": float(v_mib),
                }
            elif what == "recurrent_state":  # the gated DeltaNet layers' states (R, S)
                size, cells, layers, seqs, rs_seq, r_type, r_mib, s_type, s_mib = m.groups()
                found["recurrent_state"] = {
                    "mib": float(size),
                    "cells": int(cells),
                    "layers": int(layers),
                    "seqs": int(seqs),
                    "rs_seq": int(rs_seq),
                    "r_type": r_type,
                    "r_mib": float(r_mib),
                    "s_type": s_type,
                    "s_mib": float(s_mib),
                }
            elif what == "graph":
                found["graph"] = {"nodes": int(m[1]), "splits": int(m[2])}
            else:
                found.setdefault(what, {})[m[1]] = float(m[2])
    return found


def load(path: Path, setting: dict[str, Any]) -> dict[str, Any]:
    """Load ``path`` with ``setting`` in a new process; what llama.cpp reported."""
    arg = json.dumps({"path": os.fspath(path), **setting})
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LOADER, arg], capture_output=True, text=True, timeout=600
    )
    if done.returncode:
        raise RuntimeError(f"llama.cpp failed on {path.name} {setting}:\n{done.stderr[-3000:]}")
    record = parse(done.stderr)
    record.update(json.loads(done.stdout.strip().splitlines()[-1]))
    record["load_seconds"] = round(time.perf_counter() - start, 1)
    return record


def provenance() -> dict[str, Any]:
    """Versions and settings shared by every record."""
    import ctypes
    from importlib.metadata import version

    import llama_cpp

    base = ctypes.CDLL(os.fspath(Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"))
    base.ggml_commit.restype = base.ggml_version.restype = ctypes.c_char_p
    return {
        "llama_cpp_python": version("llama-cpp-python"),
        "llama_cpp_commit": "ggml-org/llama.cpp@" + base.ggml_commit().decode(),
        "ggml": base.ggml_version().decode(),
        "gguf": version("gguf"),
        "build": 'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install llama-cpp-python==0.3.36',
        "system_info": llama_cpp.llama_print_system_info().decode().strip(),
        "machine": platform.machine(),
        "command": "python -m gpumem.measure.llamacpp",
        "loader": "llama_cpp.Llama(path, n_ctx, n_batch, n_ubatch, n_gpu_layers=0, type_k=type_v"
        "=GGML_TYPE_<kv_type>, flash_attn, swa_full (False unless a record says True, as"
        " llama.cpp's command line), n_threads=2, verbose=True); use_mmap default (True)",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "conventions": [
            "Weights are random bytes in the real tensor shapes of the catalog model; vectors and"
            " routers in f32, every other matrix (embeddings and LM head included) in the"
            " file's weight type; tokenizer 'none' with the model's vocab_size.",
            "MiB figures are llama.cpp's printed values (2 decimals, 2^20 bytes); model_size is"
            " llama_model_size() in bytes.",
            "CPU_REPACK: on x86 with AVX2 llama.cpp's CPU backend copies Q4_0 and Q4_K matrices"
            " into an interleaved layout at load, a second buffer beside the mapped file.",
            "compute_buffer_exact is the figure llama.cpp prints with 4 decimals when the"
            " context is freed.",
            "held_out records (by model and context) were fixed before any formula was fitted.",
            "Records with a 'shape' were written with those fields of the catalog model changed"
            " (fewer layers; every other shape as published), small enough to load on a CPU.",
        ],
    }


def measure(workdir: Path, models: dict[str, tuple[str, ...]] = MODELS) -> list[dict[str, Any]]:
    """Write each file, load it with each setting, delete it; one record per load."""
    workdir.mkdir(parents=True, exist_ok=True)
    records = []
    for model, types in models.items():
        spec = spec_of(model)
        for weights in types:
            path = workdir / f"{model}-{weights}.gguf"
            nbytes = write_gguf(spec, weights, path)
            try:
                for setting in settings(model, weights):
                    print(f"{model} {weights} {setting}", file=sys.stderr, flush=True)
                    record = {"model": model, "weights": weights, **setting}
                    if model in SHAPES:
                        record["shape"] = SHAPES[model]
                    record["held_out"] = held_out(model, setting["n_ctx"])
                    record["tensor_bytes"] = nbytes
                    record["date"] = time.strftime("%Y-%m-%d", time.gmtime())
                    record.update(load(path, setting))
                    records.append(record)
            finally:
                path.unlink()
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpumem.measure.llamacpp")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--workdir", type=Path, default=Path("_build/llamacpp"))
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args(argv)
    records = measure(args.workdir, {m: MODELS[m] for m in args.models})
    if args.out.exists():  # the records of the models not measured again are kept
        kept = json.loads(args.out.read_text(encoding="utf-8"))["records"]
        records = [r for r in kept if r["model"] not in args.models] + records
    data = {"provenance": provenance(), "records": records}
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
