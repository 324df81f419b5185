"""gpumem.serve: vLLM's KV-cache accounting, by hand and against its published startup logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpumem._generated import formulas as fx
from gpumem.catalog import catalog_entry, load_model
from gpumem.errors import InvalidValueError, UnknownNameError
from gpumem.hardware import get_gpu
from gpumem.modelspec import ModelSpec, from_config
from gpumem.report import serve_text
from gpumem.serve import capacity, check_logs, engine, engine_for, runner_for, serve
from gpumem.vllm_logs import logs

GIB = 2**30


#: Models of the logs that the catalog lacks, from their config.json on Hugging Face:
#: parameters (rounded: only the KV cache is used), num_hidden_layers, hidden_size,
#: num_attention_heads, num_key_value_heads, intermediate_size, max_position_embeddings
#: (head_dim 128, vocabulary 151,936).
_CONFIGS = {
    "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8": (480 * 10**9, 62, 6144, 96, 8, 8192, 262144),
    # a Qwen2.5-14B: same fields, vocabulary 152,064 (the KV cache does not depend on it)
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B": (148 * 10**8, 48, 5120, 40, 8, 13824, 131072),
}
_FIELDS = ("parameters", "n_layers", "hidden_size", "n_heads", "n_kv_heads")
_FIELDS += ("intermediate_size", "max_context")
SPECS = {
    name: ModelSpec(
        name=name,
        family="qwen3",
        head_dim=128,
        vocab_size=151936,
        **dict(zip(_FIELDS, row, strict=True)),
    )
    for name, row in _CONFIGS.items()
}
CATALOG = {
    "meta-llama/Llama-3.1-8B-Instruct": "llama-3.1-8b",
    "Qwen/Qwen3-14B": "qwen3-14b",
    "Qwen/Qwen3-235B-A22B-FP8": "qwen3-235b-a22b",  # FP8 weights; the KV cache stays BF16
}


def _spec(row: dict) -> ModelSpec | None:
    if row["model"] in SPECS:
        return SPECS[row["model"]]
    if row["model"] in CATALOG:
        return load_model(CATALOG[row["model"]])
    return None


def _capacity(row: dict, max_model_len: int | None = None):
    logged, args = row["logged"], row["args"]
    return capacity(
        _spec(row),
        int(logged["available_kv_gib"] * GIB),
        tp=row["tensor_parallel_size"],
        pp=row.get("pipeline_parallel_size", 1),
        dtype=row.get("catalog_dtype"),
        kv_dtype="fp8_e4m3" if args["kv_cache_dtype"] in ("fp8", "fp8_e4m3") else None,
        max_model_len=max_model_len or args["max_model_len"],
        engine_id=engine_for(row.get("vllm_version")),  # the token count as that release prints it
    )


def _logged_tokens(row: dict) -> int | None:
    logged = row["logged"]
    if logged.get("kv_cache_tokens") is not None:
        return logged["kv_cache_tokens"]
    if logged.get("gpu_blocks") is not None:
        return logged["gpu_blocks"] * 16
    return logged.get("max_tokens_in_kv_cache")


ACCOUNTED = [
    row
    for row in logs()
    if _spec(row) and row["logged"].get("available_kv_gib") and _logged_tokens(row)
]
REFUSED = [row for row in logs() if _spec(row) and row["logged"].get("needed_kv_gib")]


# --- by hand ---------------------------------------------------------------------------------
def test_floor_division_is_exact() -> None:
    assert fx.kv_blocks(L_g=1, kv_available=49, kv_page=49) == 1
    assert fx.kv_blocks(L_g=1, kv_available=48, kv_page=49) == 0


def test_llama_ten_gib_by_hand() -> None:
    # a page is 16 tokens x 2 x 8 KV heads x 128 x 2 bytes = 64 KiB; a block, 32 pages = 2 MiB
    result = capacity("llama-3.1-8b", 10 * GIB, max_model_len=8192)
    assert result.page_bytes == 65536
    assert result.blocks == 5120
    assert result.kv_tokens == 81920
    assert result.max_concurrency == 10.0  # 5120 blocks / 512 blocks per request
    assert result.concurrency(81920) == 1.0
    assert result.kv_cache_memory(10) == 10 * GIB


def test_sliding_window_groups_by_hand() -> None:
    # Gemma-2-9B: 21 sliding-window + 21 full layers -> 2 groups of 21 layers sharing pools;
    # a page is 16 x 2 x 8 x 256 x 2 bytes = 128 KiB.
    result = capacity("gemma-2-9b", 10 * GIB, max_model_len=8192, max_num_batched_tokens=2048)
    assert (result.groups, result.sliding_groups, result.layers_per_group) == (2, 1, 21)
    assert result.blocks == 10 * GIB // (131072 * 21)  # 3900
    # per request: 512 blocks for the full group, ceil((4096 - 1 + 2048) / 16) + 1 = 385 sliding
    assert result.max_concurrency == pytest.approx(3900 / (512 + 385))
    # vLLM 0.20.1 and later print the tokens as concurrency x max_model_len: 3900 x 8192 / 897
    # = 35,617.4; before, blocks per group x block size
    assert result.kv_tokens == 35_617
    older = capacity(
        "gemma-2-9b", 10 * GIB, max_model_len=8192, max_num_batched_tokens=2048, engine_id="0.19.0"
    )
    assert older.kv_tokens == 3900 // 2 * 16


def test_mla_page_by_hand() -> None:
    # DeepSeek-V3 caches one 512 + 64 latent per token and layer, on every tensor-parallel rank
    result = capacity("deepseek-v3", 10 * GIB, tp=8, max_model_len=4096)
    assert result.page_bytes == 16 * 576 * 2
    assert result.blocks == 10 * GIB // (16 * 576 * 2 * 61)


def test_chunked_attention_groups_by_hand() -> None:
    # Llama 3.1 8B with 24 of its 32 layers made chunked (8,192-token chunks, as Llama 4): groups
    # of 8 (24 is not under 1.5 x 8), 3 chunked and 1 full; a page is 16 x 2 x 8 x 128 x 2 bytes
    spec = load_model("llama-3.1-8b").with_(attention_chunk=8192, n_chunked_layers=24)
    result = capacity(spec, 10 * GIB, max_model_len=131072, max_num_batched_tokens=8192)
    assert (result.groups, result.layers_per_group, result.page_bytes) == (4, 8, 65536)
    assert result.blocks == 10 * GIB // (65536 * 8)  # 20480
    # per request: 8192 blocks for the full group, 3 x (8192 + 8192) / 16 for the chunked ones
    assert result.max_concurrency == pytest.approx(20480 / (8192 + 3 * 1024))
    # printed as 20,480 / 11,264 x 131,072 = 238,312.7 tokens (vLLM 0.20.1 and later), or as
    # 20,480 // 4 x 16 by earlier releases
    assert result.kv_tokens == 238_312
    assert (
        capacity(
            spec, 10 * GIB, max_model_len=131072, max_num_batched_tokens=8192, engine_id="0.19.0"
        ).kv_tokens
        == 20480 // 4 * 16
    )


def test_qwen3_next_hybrid_groups_by_hand() -> None:
    # Qwen3-Next-80B-A3B at TP 2: 12 full-attention layers (2 KV heads of 256: one per GPU)
    # and 36 gated DeltaNet layers. A DeltaNet state per GPU: the convolution's 3 x (2 x 16 x
    # 128 + 32 x 128) / 2 values and 32 / 2 heads of 128 x 128, in BF16 (its config names no
    # mamba_ssm_dtype, so vLLM keeps the model's dtype):
    state = (3 * (2 * 16 * 128 + 32 * 128) // 2 + 16 * 128 * 128) * 2  # 548,864 bytes
    # an attention token is 2 x 1 x 256 x 2 = 1,024 bytes: the smallest multiple of 16 tokens
    # whose page holds the state is 16 x ceil(548,864 / 16,384) = 544, the state padded to it
    assert -(-state // (16 * 1024)) * 16 == 544
    # vLLM 0.25.0: prefix caching off by default for hybrid models
    result = capacity("qwen3-next-80b-a3b", int(44.59 * GIB), tp=2, engine_id="0.25.0")
    assert (result.block_size, result.page_bytes) == (544, 544 * 1024)
    assert result.mamba_cache_mode == "none"
    # groups of 12 (36 is not under 1.5 x 12): 1 of attention, 3 of DeltaNet layers
    assert (result.groups, result.recurrent_groups, result.layers_per_group) == (4, 3, 12)
    assert result.blocks == int(44.59 * GIB) // (557_056 * 12)  # 7,162
    # a request of 262,144 tokens: ceil(262,144 / 544) = 482 blocks, one state per DeltaNet group
    assert result.max_concurrency == pytest.approx(7162 / (482 + 3))  # 14.77
    # printed as 7,162 x 262,144 // 485 = 3,871,083 tokens (0.20.1 and later), or 7,162 // 4 x
    # 544 = 973,760 by earlier releases
    assert result.kv_tokens == 7162 * 262144 // 485 == 3_871_083
    older = capacity("qwen3-next-80b-a3b", int(44.59 * GIB), tp=2, engine_id="0.19.0")
    assert older.kv_tokens == 7162 // 4 * 544
    assert result.concurrency(1024) == pytest.approx(7162 / (2 + 3))
    # from 0.26.0 prefix caching is on for hybrid models too: mamba_cache_mode 'align' keeps
    # two blocks a request in each DeltaNet group, the block size unchanged
    aligned = capacity("qwen3-next-80b-a3b", int(44.59 * GIB), tp=2, engine_id="0.26.0")
    assert (aligned.block_size, aligned.blocks, aligned.mamba_cache_mode) == (544, 7162, "align")
    assert aligned.kv_tokens == 7162 * 262144 // (482 + 2 * 3) == 3_847_285
    assert capacity("qwen3-next-80b-a3b", int(44.59 * GIB), tp=2).kv_tokens == 3_847_285
    off = capacity("qwen3-next-80b-a3b", int(44.59 * GIB), tp=2, enable_prefix_caching=False)
    assert off.kv_tokens == 3_871_083
    # asked for before 0.26.0, as club-3090's composes do
    on = capacity(
        "qwen3-next-80b-a3b", int(44.59 * GIB), tp=2, engine_id="0.24.0", enable_prefix_caching=True
    )
    assert on.kv_tokens == 3_847_285


def test_qwen35_state_in_fp32_by_hand() -> None:
    # Qwen3.6-27B at TP 2 with an fp8 cache: a DeltaNet state per GPU is 48 / 2 value heads of
    # a 128 x 128 state in the config's mamba_ssm_dtype (float32) and the convolution's 3 x
    # (2 x 16 x 128 + 48 x 128) / 2 inputs in BF16; an attention token 2 x 2 x 256 x 1 bytes
    state = 24 * 128 * 128 * 4 + 3 * 10240 // 2 * 2  # 1,603,584 bytes
    block = 16 * -(-state // (16 * 1024))  # 16 x ceil(97.9) = 1,568 tokens
    result = capacity("qwen3.6-27b", 10 * GIB, tp=2, kv_dtype="fp8_e4m3", engine_id="0.24.0")
    assert (result.block_size, result.page_bytes) == (block, 1568 * 1024) == (1568, 1_605_632)
    # groups of 16: 1 of attention, 3 of DeltaNet layers
    assert result.blocks == 10 * GIB // (1_605_632 * 16) == 417
    assert result.max_concurrency == pytest.approx(417 / (-(-262144 // 1568) + 3))
    # the releases before Qwen3.5 was read (vllm-0.13) keep the state in the model's dtype
    older = capacity("qwen3.6-27b", 10 * GIB, tp=2, kv_dtype="fp8_e4m3", engine_id="vllm-0.13")
    assert older.block_size == 16 * -(-(24 * 128 * 128 * 2 + 3 * 5120 * 2) // (16 * 1024))


def test_nemotron_h_hybrid_groups_by_hand() -> None:
    # Nemotron-Nano-9B-v2: 4 attention blocks (8 KV heads of 128: 4,096 bytes a token) and 27
    # Mamba-2 blocks of 128 heads x 80 x 128 SSM values and a 3 x 12,288 convolution window;
    # vLLM 0.19 keeps the SSM state in float16 when the config names no mamba_ssm_cache_dtype
    path = Path(__file__).parent / "configs" / "nemotron-nano-9b-v2.json"
    spec = from_config(json.loads(path.read_text())["config"], name="Nemotron-Nano-9B-v2")
    state = (128 * 80 * 128 + 3 * (128 * 80 + 2 * 8 * 128)) * 2  # 2,695,168 bytes
    block = 16 * -(-state // (16 * 4096))  # 16 x ceil(41.1) = 672 tokens
    result = capacity(spec, 40 * GIB, engine_id="0.19.0")
    assert (result.block_size, result.page_bytes) == (block, 672 * 4096) == (672, 2_752_512)
    # groups of 4: 1 of attention, ceil(27 / 4) = 7 of Mamba layers (the last one padded)
    assert (result.groups, result.recurrent_groups, result.layers_per_group) == (8, 7, 4)
    assert result.blocks == 40 * GIB // (2_752_512 * 4)  # 3,900
    assert result.max_concurrency == pytest.approx(3900 / (196 + 7))  # 131,072 / 672 -> 196
    assert result.kv_tokens == 3900 // 8 * 672
    assert capacity(spec, 40 * GIB, engine_id="0.25.0").kv_tokens == (
        capacity(spec, 40 * GIB, engine_id="0.25.0").blocks * 131072 // (100 + 7)
    )
    # from 0.20 vLLM keeps it in float32: 5,316,608 bytes, a block of 16 x 82 = 1,312 tokens
    fp32 = capacity(spec, 40 * GIB, engine_id="0.25.0")
    assert fp32.block_size == 16 * -(-(128 * 80 * 128 * 4 + 3 * 12288 * 2) // (16 * 4096)) == 1312
    # a larger block is kept (the state padded to it); a smaller one vLLM would override
    assert capacity(spec, 40 * GIB, block_size=1024, engine_id="0.19.0").page_bytes == 1024 * 4096
    with pytest.raises(InvalidValueError, match="at least 672"):
        capacity(spec, 40 * GIB, block_size=16, engine_id="0.19.0")
    # with prefix caching (the default from 0.26.0) vLLM 0.26 and 0.27 cache every block of a
    # Mamba-2 model's state ('all' mode), which gpumem does not follow: refused by name
    with pytest.raises(InvalidValueError, match="enable_prefix_caching"):
        capacity(spec, 40 * GIB, engine_id="0.27.1")
    assert capacity(spec, 40 * GIB, enable_prefix_caching=False).block_size == 1312
    # from 0.28 'align' mode as every hybrid: 2 state blocks a request in each of the 7
    # recurrent groups, and from 0.32 a third, the Mamba-2 mixer's prefill checkpoint;
    # ceil(131,072 / 1,312) = 100 blocks of attention
    aligned = capacity(spec, 40 * GIB, engine_id="0.28.0")
    newest = capacity(spec, 40 * GIB)
    assert aligned.blocks == newest.blocks == 40 * GIB // (1312 * 4096 * 4) == 1998
    assert aligned.max_concurrency == pytest.approx(1998 / (100 + 7 * 2))
    assert newest.max_concurrency == pytest.approx(1998 / (100 + 7 * 3))
    assert capacity(spec, 40 * GIB, engine_id="0.31.0").max_concurrency == aligned.max_concurrency


def test_hybrid_serve_on_an_h200() -> None:
    # Qwen3-Next on two H200s: the page and groups as above, whatever the modelled terms
    result = serve("qwen3-next-80b-a3b", "h200", tp=2, engine_id="0.19.0")
    assert (result.block_size, result.page_bytes, result.groups) == (544, 557_056, 4)
    assert result.kv_tokens == result.blocks // 4 * 544 and result.fits


def test_purely_recurrent_models_are_refused() -> None:
    # without attention layers there is no KV cache to size
    spec = load_model("qwen3-8b").with_(n_recurrent_layers=36, recurrent_state=65536)
    with pytest.raises(InvalidValueError, match="attention layers"):
        capacity(spec, GIB)


def test_cuda_graphs_come_out_of_the_budget() -> None:
    # vLLM 0.20 and later subtract their CUDA-graph estimate before sizing the cache; a given
    # value (the log's) replaces gpumem's model of it; 0.17 to 0.19 estimate but subtract nothing
    none = serve("qwen3-8b", "a100-40gb", cudagraph_memory=0, model_runner="v1")
    given = serve("qwen3-8b", "a100-40gb", cudagraph_memory=2 * GIB, model_runner="v1")
    assert none.available_kv_bytes - given.available_kv_bytes == pytest.approx(2 * GIB, abs=1)
    # the first runner's estimate (the row 'vllm' follows 0.29.0, whose second runner adds both
    # modes' first captures)
    modelled = serve("qwen3-8b", "a100-40gb", model_runner="v1")
    assert modelled.cudagraph_bytes == modelled.cudagraph_estimate_bytes > 0
    assert none.available_kv_bytes - modelled.available_kv_bytes == modelled.cudagraph_bytes
    older = serve("qwen3-8b", "a100-40gb", engine_id="0.19.1")
    assert older.cudagraph_bytes == 0
    assert older.cudagraph_estimate_bytes == modelled.cudagraph_estimate_bytes
    # 0.19's default utilization, 0.9 (0.92 from 0.20)
    at_09 = serve(
        "qwen3-8b", "a100-40gb", cudagraph_memory=0, gpu_memory_utilization=0.9, model_runner="v1"
    )
    # ... which from 0.27.1 also counts the first runner's input embeddings, made before the
    # profile: [2,048 tokens, 4,096] in BF16 (the A100's 2,048 batched tokens)
    assert at_09.runner_buffers_bytes == 2048 * 4096 * 2
    assert older.available_kv_bytes == at_09.available_kv_bytes + 2048 * 4096 * 2
    assert serve("qwen3-8b", "a100-40gb", engine_id="0.16.0").cudagraph_estimate_bytes is None


def _graphs(launch) -> tuple[int, int, int]:
    values = launch.values
    names = ("cudagraph_piecewise_graphs", "cudagraph_full_graphs", "cudagraph_capture_tokens")
    return tuple(values[name] for name in names)


def test_cuda_graph_sizes_counted_from_vllm() -> None:
    """vLLM's capture sizes (config/vllm.py _set_cudagraph_sizes): 1, 2, 4, every 8 below 256,
    every 16 from 256, up to min(max_num_batched_tokens, 2 x max_num_seqs, 512); FULL graphs
    for the sizes up to max_num_seqs. An H100 server (1,024 sequences, 8,192 tokens): 3 + 31
    + 17 = 51 of each, the largest 512, as vLLM 0.19.0 logged it ('PIECEWISE=51
    (largest=512), FULL=51 (largest=512)'); an A100 40GB (256, 2,048): 51 piecewise, 35 FULL
    (up to 256); 100 tokens a step: 1, 2, 4, 8 ... 96 and, from 0.20.2, 100 itself (16 of each);
    3 sequences: 1, 2, 4 (up to 6) piecewise, 1, 2 FULL, and from 0.31 3 itself in both."""
    assert _graphs(serve("llama-3.1-8b", "h100-sxm", max_model_len=8192)) == (51, 51, 512)
    assert _graphs(serve("qwen3-8b", "a100-40gb", max_model_len=8192)) == (51, 35, 512)
    small = serve("qwen3-8b", "a100-40gb", max_model_len=8192, max_num_batched_tokens=100)
    assert _graphs(small) == (16, 16, 100)
    few = serve("qwen3-8b", "a100-40gb", max_model_len=8192, max_num_seqs=3, engine_id="0.30.0")
    assert _graphs(few) == (3, 2, 4)
    newer = serve("qwen3-8b", "a100-40gb", max_model_len=8192, max_num_seqs=3)
    assert _graphs(newer) == (4, 3, 4)


def test_cuda_graph_counts_of_the_logs() -> None:
    """Every log that prints vLLM's graph counts ('Profiling CUDA graph memory: PIECEWISE=51
    (largest=512), FULL=35 (largest=256)') against the count from vLLM's code for its launch:
    the counts depend on the batch settings alone, which the device's memory decides by
    default (under 70 GiB: 256 sequences, 2,048 tokens), so any model on a 24 GB GPU of the
    catalog stands for Qwen3-8B on an RTX A5000; launches with their own capture sizes
    (compilation config) are left out."""
    counted = 0
    for row in logs():
        logged, args = row["logged"], row["args"]
        if "cudagraph_full_graphs" not in logged or args.get("max_num_seqs"):
            continue
        launch = serve("qwen3-8b", "rtx-3090", max_model_len=8192, engine_id=row["vllm_version"])
        expected = (logged["cudagraph_piecewise_graphs"], logged["cudagraph_full_graphs"])
        assert _graphs(launch)[:2] == expected, row["id"]
        assert launch.values["cudagraph_capture_tokens"] == logged["cudagraph_piecewise_largest"]
        counted += 1
    assert counted >= 1


def test_a_current_generation_launch_from_scratch() -> None:
    """LMCache#3430 (held out): Qwen3-8B on one RTX A5000 under vLLM 0.21.0 at utilization
    0.9764, max_model_len 16,384, printed 46,368 tokens and 2.83 requests after a CUDA-graph
    estimate of 0.52 GiB. Measured: with gpumem's estimate (0.68 GiB) the tokens and the
    concurrency are 2.4 % under the log, within the 3 % target; with the printed estimate
    (--cudagraph-memory) 0.1 % over."""
    launch = {"max_model_len": 16384, "gpu_memory_utilization": 0.9764, "engine_id": "0.21.0"}
    modelled = serve("qwen3-8b", "rtx-a5000", **launch)
    assert modelled.cudagraph_estimate_bytes / GIB == pytest.approx(0.68, abs=0.005)
    assert modelled.kv_tokens / 46368 - 1 == pytest.approx(-0.024, abs=0.002)
    assert modelled.max_concurrency / 2.83 - 1 == pytest.approx(-0.024, abs=0.002)
    printed = serve("qwen3-8b", "rtx-a5000", cudagraph_memory=int(0.52 * GIB), **launch)
    assert abs(printed.kv_tokens / 46368 - 1) <= 0.005


def test_cuda_graph_estimate_by_hand() -> None:
    """Llama-3.1-8B on one H100 (0.19.0's llm-d launch): the first FULL capture, at 512 tokens,
    holds FlashAttention 3's FP32 accumulators for 32 splits x 32 heads x 512 tokens x (128 +
    1) values = 270,532,608 bytes, larger than the first piecewise one; each graph size then
    adds 6 MiB (32 layers x 196,608 bytes, the fitted coefficient): (51 - 1) x 2 sizes more.
    vLLM printed 0.84 GiB (FULL: '260.00 MiB first-capture + (51-1) x 6.00 MiB per-graph')."""
    launch = serve("llama-3.1-8b", "h100-sxm", max_model_len=8192, engine_id="0.19.0")
    per_graph = 32 * 196_608
    assert launch.cudagraph_estimate_bytes == 270_532_608 + per_graph + 100 * per_graph
    assert launch.cudagraph_estimate_bytes / GIB == pytest.approx(0.84, abs=0.005)
    # no split accumulators on an A100 (FlashAttention 2)
    a100 = serve("llama-3.1-8b", "a100-80gb", max_model_len=8192, engine_id="0.19.0")
    assert a100.values["n_sp"] == 0 and launch.values["n_sp"] == 32

    # vLLM 0.28 and later raise the ceiling to 1,024 tokens on data-centre Blackwell, and give
    # devices of 160 GiB or more 16,384 tokens a step (get_batch_defaults)
    b200 = serve("llama-3.1-8b", "b200", max_model_len=8192)
    older = serve("llama-3.1-8b", "b200", max_model_len=8192, engine_id="0.19.1")
    assert (_graphs(b200)[2], b200.values["T_b"]) == (1024, 16384)
    assert (_graphs(older)[2], older.values["T_b"]) == (512, 8192)


def test_cuda_graph_estimate_mla_by_hand() -> None:
    """DeepSeek-V2-Lite on one H100 (0.19.0's llm-d launch): FlashAttention 3's MLA decode
    (flashattn_mla.py, first on compute capability 9.0) splits the KV in FULL graphs too, its
    FP32 accumulators as wide as the latent (kv_lora_rank 512): 32 splits x 16 heads x 512
    tokens x (512 + 1) values x 4 bytes = 537,919,488, then 27 layers x 196,608 bytes for
    each of the 101 graph sizes: 1.00 GiB, where vLLM printed 1.39."""
    launch = serve("deepseek-v2-lite", "h100-sxm", max_model_len=8192, engine_id="0.19.0")
    accumulators = 32 * 16 * 512 * 513 * 4
    assert accumulators == 537_919_488
    assert launch.cudagraph_estimate_bytes == accumulators + 101 * 27 * 196_608
    assert launch.cudagraph_estimate_bytes / GIB == pytest.approx(1.00, abs=0.005)


def test_weights_load_as_shipped() -> None:
    # gpt-oss-20b ships its experts in MXFP4: vLLM 0.19 printed 7.01 GiB per GPU at TP 2,
    # against 12.8 GiB for its 20.9 B parameters in BF16
    shipped = serve("gpt-oss-20b", "h100-sxm", tp=2, max_model_len=8192)
    assert shipped.weights_bytes / GIB == pytest.approx(7.01, rel=0.1)
    bf16 = serve("gpt-oss-20b", "h100-sxm", tp=2, max_model_len=8192, dtype="bf16")
    assert bf16.weights_bytes > 2 * shipped.weights_bytes


def test_engine_generations() -> None:
    assert engine_for("0.20.0") == engine_for("0.21.0") == engine_for("0.26.1") == "vllm"
    assert engine_for("0.29.1rc1.dev17+gd2d649e67.d20260913") == "vllm"
    assert engine_for("0.17.0") == engine_for("0.19.0") == engine_for("0.19.1") == "vllm-0.17"
    assert engine_for("0.13.0") == engine_for("0.16.0") == "vllm-0.13"
    assert engine_for("0.9.2") == engine_for("0.12.0") == engine_for(None) == "vllm-0.8"
    # vLLM 0.19 on an H100 requested 0.95 x 79.19 = 75.23 GiB (llm-d-planner's worker lines)
    one = serve(
        "llama-3.1-8b",
        "h100-sxm",
        gpu_memory_utilization=0.95,
        max_model_len=8192,
        model_runner="v1",
    )
    assert one.budget_bytes / GIB == pytest.approx(75.23, abs=0.005)
    # ... and printed 0.25 GiB outside PyTorch on one GPU, 2.07 and 2.13 GiB on two and four
    two = serve("llama-3.1-8b", "h100-sxm", tp=2, max_model_len=8192)
    assert one.non_torch_bytes / GIB == pytest.approx(0.25, abs=0.01)
    assert 2.07 <= two.non_torch_bytes / GIB <= 2.13
    # a release picks its generation's row; a name that is neither is refused by name
    release = serve("llama-3.1-8b", "h100-sxm", engine_id="0.19.0", max_model_len=8192)
    row = serve("llama-3.1-8b", "h100-sxm", engine_id="vllm-0.17", max_model_len=8192)
    assert release.kv_tokens == row.kv_tokens
    build = serve("llama-3.1-8b", "h100-sxm", engine_id="0.26.1rc1.dev608+g99a10304d")
    assert build.kv_tokens == serve("llama-3.1-8b", "h100-sxm", engine_id="0.26.0").kv_tokens
    for name in ("sglang", "0.7.3"):
        with pytest.raises(InvalidValueError, match=name):
            serve("llama-3.1-8b", "h100-sxm", engine_id=name)


def test_memory_outside_pytorch_under_the_second_runner_from_the_fit_pair() -> None:
    """On one GPU the second runner's launches hold less outside PyTorch than the first
    runner's 0.25 GiB: the fit pair prints 15.54 GiB of consumed memory (weights and memory
    outside PyTorch) after 15.27 GiB of weights on both starts, 0.27 GiB, of which the
    runner's buffers are 165,306,368 bytes as counted."""
    rows = {row["id"]: row for row in logs()}
    fitted = engine("vllm")["model_runner"]["non_torch"]
    for log in fitted["fitted_on"]:
        printed = rows[log]["logged"]
        assert printed["consumed_gib"] - printed["model_loading_gib"] == pytest.approx(0.27)
        assert rows[log]["split"] == "fit"
    second = serve("qwen3-8b", "rtx-4090", max_model_len=8192, engine_id="0.27.1")
    assert second.runner_buffers_bytes == 165_306_368
    assert fitted["bytes"] == int(0.27 * 2**30 - 165_306_368) == second.non_torch_bytes
    first = serve("qwen3-8b", "rtx-4090", max_model_len=8192, engine_id="0.27.1", model_runner="v1")
    assert first.non_torch_bytes == 268_435_456


def test_memory_outside_pytorch_by_how_the_gpus_reach_each_other() -> None:
    # over NVLink (H100 SXM) the fitted 2.07-2.13 GiB; over PCIe nothing more than on one GPU:
    # custom all-reduce's buffers are made before vLLM's first snapshot, symmetric memory and
    # FlashInfer's fusion need compute capability 9.0 or 10.x, and NCCL without peer access
    # keeps its buffers in host memory
    one = serve("qwen3-8b", "rtx-5090", max_model_len=8192, model_runner="v1")
    two = serve("qwen3-8b", "rtx-5090", tp=2, max_model_len=8192)
    assert two.non_torch_bytes == one.non_torch_bytes == 268_435_456  # 0.25 GiB
    assert serve("qwen3-8b", "l40s", tp=4, max_model_len=8192).non_torch_bytes == 268_435_456
    nvlink = serve("qwen3-8b", "h100-sxm", tp=2, max_model_len=8192)
    assert nvlink.non_torch_bytes == 2_254_857_830  # 2.10 GiB
    assert one.assumed_link is two.assumed_link is nvlink.assumed_link is None
    # H100 PCIe (compute capability 9.0): vLLM turns on FlashInfer's all-reduce fusion over
    # PCIe too, whose workspace and NCCL communicator start inside the profile
    pcie_hopper = serve("qwen3-8b", "h100-pcie", tp=2, max_model_len=8192)
    assert pcie_hopper.non_torch_bytes == 2_254_857_830 and pcie_hopper.assumed_link is None
    # the same launch one release generation back
    older = serve("qwen3-8b", "rtx-5090", tp=2, max_model_len=8192, engine_id="0.19.0")
    assert older.non_torch_bytes == 268_435_456


def test_unknown_link_takes_the_nvlink_figure_and_says_so() -> None:
    # a GPU given by its memory alone: the larger figure, named in the result and the text
    gpu = get_gpu("rtx-5090").with_(id="32GiB", peer_link=None, peer_link_source="")
    result = serve("qwen3-8b", gpu, tp=2, max_model_len=8192)
    assert result.non_torch_bytes == 2_254_857_830
    assert result.assumed_link == "nvlink"
    assert "NVLink" in serve_text(result, gpu, {"tp": 2})
    alone = serve("qwen3-8b", gpu, max_model_len=8192)
    assert alone.assumed_link is None and "NVLink" not in serve_text(alone, gpu, {})


def test_auto_length_when_nothing_fits() -> None:
    # 70B in 16-bit on a 12 GB card: no request fits, so vLLM could not start
    result = serve("llama-3.1-70b", "rtx-4070", max_model_len="auto")
    assert not result.fits
    assert result.kv_tokens == 0 and result.max_concurrency == 0.0


# --- the exact part against the logs -----------------------------------------------------------
@pytest.mark.parametrize("row", ACCOUNTED, ids=lambda r: r["id"])
def test_tokens_from_logged_available_memory(row: dict) -> None:
    predicted, logged = _capacity(row).kv_tokens, _logged_tokens(row)
    if row["tensor_parallel_size"] * row.get("pipeline_parallel_size", 1) == 1:
        # the printed GiB has two decimals
        assert logged == pytest.approx(predicted, rel=0.005)
    else:
        # vLLM keeps the smallest block count over the workers; the thread shows one worker
        assert logged <= predicted * 1.005


@pytest.mark.parametrize(
    "row", [r for r in ACCOUNTED if r["logged"].get("max_concurrency")], ids=lambda r: r["id"]
)
def test_concurrency_from_logged_available_memory(row: dict) -> None:
    predicted, logged = _capacity(row).max_concurrency, row["logged"]["max_concurrency"]
    if row["tensor_parallel_size"] * row.get("pipeline_parallel_size", 1) == 1:
        assert predicted == pytest.approx(logged, rel=0.005, abs=0.006)
    else:
        # the smallest count over the workers; the log shows one worker's memory
        assert logged <= predicted * 1.005 + 0.006


@pytest.mark.parametrize("row", REFUSED, ids=lambda r: r["id"])
def test_refused_launches(row: dict) -> None:
    logged = row["logged"]
    result = _capacity(row, max_model_len=logged["needed_for_tokens"])
    assert not result.fits
    needed = result.kv_cache_memory(1) / GIB
    assert needed == pytest.approx(logged["needed_kv_gib"], abs=0.005)
    assert result.longest_request == pytest.approx(logged["estimated_max_model_len"], rel=0.005)


def test_enough_rows_are_checked() -> None:
    assert len(ACCOUNTED) + len(REFUSED) >= 6


# --- the modelled part: launches predicted from scratch ------------------------------------
#: Launches of the current log format predicted by ``serve`` from the catalog model and GPU
#: alone (check_logs), split as data/vllm_startup_logs.json records it. "fit" rows fitted a
#: modelled term of their engine row in data/serving.json (vLLM 0.17 and later: Llama-3.1-8B on
#: one, two and four H100s under 0.19.0; the older generation: the 4 x A10 and A100 launches),
#: so their bound is in-sample: the measured worst is 5.6 % (the 4 x A10 launch).
CHECKS = check_logs()
FIT_BOUND = 0.06
#: The target for held-out launches: tokens and concurrency within 3 % of the log. Every
#: held-out launch meets it except these, held here at their measured token error so that a
#: change shows (each is explained on the serving page):
HELD_OUT_BOUND = 0.03
MISSED = {
    # Qwen3-235B-A22B-FP8, 4 x H100 with LMCache's connector (vLLM of July 2025): NCCL, custom
    # all-reduce and the connector started after vLLM's first memory snapshot, and without
    # FlashInfer that sampler sorts the logits; the thread shows neither the version, nor
    # FlashInfer, nor the connector's memory (serving page)
    "vllm-21348-qwen3-235b-fp8-4xh100": 0.707,
    # Inferact's NVFP4 build of Qwen3.8-27B on one RTX 5090, eager (recipes#810's 1x section,
    # vLLM 0.26.1rc1): its 91,022 tokens are 75 blocks (3.6 GiB); gpumem leaves 58 at the
    # default utilization of 0.92. The same section's launches without the vision tower and
    # with 8 sequences miss by as much, while the differences between the three are predicted
    # within 2 blocks (test_one_recipes_launches_differ_as_predicted). The pools are out of
    # reach of the command the section shows: at the default 0.92 of the 31.4 GiB the section
    # says the card has, the 8-sequence launch's 126 blocks (6.03 GiB) leave 22.85 GiB,
    # less than the text model's 22.92 GiB of weights on disk; a utilization of about 0.945
    # gives all three with gpumem's terms unchanged (the section tried 0.80 and 0.93 there)
    "recipes-810-qwen38-27b-nvfp4-rtx5090-eager": -0.227,
    "recipes-810-qwen38-27b-nvfp4-rtx5090-eager-text-only": -0.161,
    "recipes-810-qwen38-27b-nvfp4-rtx5090-eager-text-only-8-seqs": -0.127,
    # Qwen2.5-7B in BF16 on one RTX 4090 under WSL2 (enginrect/llmso's Lab 2, vLLM 0.27.1, the
    # second model runner: a dense model from 0.26): the excerpt prints no memory line and no
    # compile line, so gpumem takes a first start (its compile 0.87 GiB at hidden 3,584) and
    # WSL2's whole card (23.99 GiB) and is 16.7 % over; the FP8-dynamic launch of the same run,
    # the same card and the same arguments, is within 0.6 %, and the 0.5B launches within 1.4 %:
    # this launch's memory beside its weights is 0.8 GiB more than its FP8 neighbour's, which
    # nothing in the model (the same architecture) and the excerpt explains. Under WSL2 the
    # device's free memory, which vLLM measures, is shared with the Windows desktop
    "llmso-qwen25-7b-rtx4090-wsl2": 0.1666,
    # The dual-max compose of club-3090 on two RTX 3090 with MTP and 3 draft tokens, the same
    # flags under two releases: Qwen3.6-27B-FP8 on vLLM 0.24.0 (#594) printed 205 blocks,
    # Qwen3.8-27B-FP8 (the same layout) on 0.27.1 (#1036) 185; gpumem predicts 197 and 188
    # (0.27.1 counts the runner's and the drafter's buffers, test_runner_buffers_club3090_1036).
    # Both counts are exact from their blocks (test_mtp_club3090_594_by_hand); #594's 8 blocks
    # (0.20 GiB) are in no term gpumem has, and no log of these launches prints the CUDA-graph
    # estimate or the weights that would place it
    "club3090-594-qwen36-27b-fp8-2x3090": -0.039,
    # Qwen3-8B on one L40S at max_model_len 9000 and utilization 0.90 (i-serve's run 2, vLLM
    # 0.27.1, the second runner, a first compile): the servers at 512 and 1024 batched tokens
    # print 16.7 GiB of consumed memory where every other server prints 15.54-15.56 (a second
    # 1.16 GiB, in no term gpumem has); their peak, with the compile's, is predicted as the
    # other cold servers' (within 1.9 %)
    "iserve-run2-qwen3-8b-l40s-512-cold": 0.0509,
    "iserve-run2-qwen3-8b-l40s-1024-cold": 0.0505,
    # Qwen3-1.7B on one RTX 4090 (coldstart-recon-worker's artifact 4, vLLM 0.27.1, the second
    # runner): the first start prints 4.11 GiB of consumed memory after 3.22 GiB of weights,
    # 0.89 GiB, where its restart prints 0.33 and gpumem counts 0.27 (memory outside PyTorch and
    # the sampling buffers): a first compile that leaves 0.56 GiB outside the profiled peak, in
    # no term gpumem has; its peak, 0.50 GiB over the restart's, is the compile term's 0.50
    "coldstart-a4-qwen3-17b-rtx4090-cold": 0.0374,
    # Kubesimplify's launches on RTX PRO 6000 Server Editions (vLLM 0.27.1), whose device
    # total the posts print (95.01 GiB, the row's device_totals): none prints a compile line,
    # so gpumem takes a first start. Qwen3-32B at utilization 0.426 over two GPUs is 16.2 %
    # under with tensor parallelism (-1.1 % as a restart) and 8.3 % under over two pipeline
    # stages (+9.6 % as a restart), sized on the last stage, which alone holds the sampler's
    # buffers and the received hidden states (0.77 GiB); gpumem's first stage has 7.11 GiB
    # for the cache where Worker_PP0 prints 6.92, while the printed tokens leave the last
    # stage no less than the first. Qwen3-235B-A22B-FP8 over four pipeline stages (the first
    # runner, no compile term; layers 23, 24, 24, 23) is 10.5 % over, sized on a middle stage
    # of 24 layers without the embedding or the LM head (weights 55.63 GiB, the post's
    # largest stage 55.70): its 555,680 tokens leave that stage 25.44 GiB, 2.66 GiB under
    # gpumem's, where the tensor-parallel and expert-parallel launches are within 2.4 % (the
    # post prints no memory line for it)
    "kubesimplify-qwen3-32b-2x-rtxpro6000-tp2": -0.1617,
    "kubesimplify-qwen3-32b-2x-rtxpro6000-pp2": -0.0828,
    "kubesimplify-qwen3-235b-fp8-4x-rtxpro6000-pp4": 0.1047,
}


def test_the_split_is_recorded_for_every_log() -> None:
    assert {row["split"] for row in logs()} <= {"fit", "held-out"}
    fitted = {row["id"] for row in logs() if row["split"] == "fit"}
    llama = "llmd-planner-v0.19.0-meta-llama-llama-3-1-8b-tp{}pp1dp1-8192"
    compiled = engine("vllm")["model_runner"]["compile_transient"]["fitted_on"]
    graphs = engine("vllm")["cudagraph_estimate"]["bytes_per_layer_second_runner_fitted_on"]
    assert graphs == ["samilazrak-optlab-qwen3-14b-l40s-v0.29.0"]
    assert fitted == {
        "vllm-17327-qwen3-30b-a3b-4xa10",
        "lmcache-1739-qwen3-14b-a100-40gb",
        *(llama.format(tp) for tp in (1, 2, 4)),
        *compiled,
        *graphs,
    }
    assert sorted(compiled) == [
        "coldstart-recon-qwen3-8b-rtx4090-run0-cold",
        "coldstart-recon-qwen3-8b-rtx4090-run1-warm",
    ]


def test_launches_predicted_from_scratch_are_counted() -> None:
    splits = [c.split for c in CHECKS]
    assert splits.count("fit") == 8
    assert splits.count("held-out") == 92


@pytest.mark.parametrize("check", [c for c in CHECKS if c.split == "fit"], ids=lambda c: c.log)
def test_fitted_launches_within_their_in_sample_bound(check) -> None:
    assert abs(check.token_error) <= FIT_BOUND
    if check.concurrency_error is not None:
        assert abs(check.concurrency_error) <= FIT_BOUND


# --- vLLM's CUDA-graph estimate ('Estimated CUDA graph memory', vLLM 0.18 and later) ---------
#: Launches whose log prints the estimate. The split was fixed before any error was computed:
#: the three 'fit' rows (Llama-3.1-8B under 0.19.0 on 1, 2 and 4 H100s) gave the two fitted
#: coefficients of data/serving.json (bytes per layer, the first piecewise capture's extra);
#: every other printed estimate is held out.
GRAPHS = [c for c in CHECKS if c.logged_cudagraph_gib is not None]
#: Held-out estimates more than 0.25 GiB off, at their measured error (GiB), each explained on
#: the serving page: the A100's graphs (FlashAttention 2) take far more than H100's;
#: attention sinks (gpt-oss) run another kernel than FlashAttention 3; Gemma 3 27B is 0.35 GiB
#: over. The MoE launches are all under (DeepSeek-V2-Lite by 0.39 GiB with FlashAttention 3's
#: MLA accumulators, Qwen1.5-MoE-A2.7B by 0.25): nothing of the fused-MoE kernel stays in the
#: samples (its workspace grown by the profile run before them, its routing tensors freed in
#: each call) and their first FULL capture is the larger, so what they miss is what their
#: graph sizes take beyond the fitted figure per layer.
GRAPH_MISSES = {
    "tokenkaki-qwen3-8b-a100-40gb-v0.19.1": -1.67,
    "llmd-planner-v0.19.0-deepseek-ai-deepseek-v2-tp1pp1dp1-8192": -0.39,
    "llmd-planner-v0.19.0-qwen-qwen1-5-moe-a2-7b-tp1pp1dp1-8192": -0.25,
    "llmd-planner-v0.19.0-openai-gpt-oss-20b-tp2pp1dp1-8192": -0.51,
    "llmd-planner-v0.19.0-google-gemma-3-27b-it-tp1pp1dp1-8192": 0.35,
}


def test_cuda_graph_estimate_fit_rows_in_sample() -> None:
    fit = {c.tp: c.cudagraph_error_gib for c in GRAPHS if c.split == "fit"}
    # one GPU exact; on two GPUs vLLM's second piecewise capture took a 20 MiB allocator
    # segment more (26 MiB, x 50 sizes), which the model does not predict
    assert fit[1] == pytest.approx(0, abs=0.005)
    assert fit[2] == pytest.approx(-0.97, abs=0.01)
    assert fit[4] == pytest.approx(0.09, abs=0.01)


def test_cuda_graph_estimate_held_out() -> None:
    held = [c for c in GRAPHS if c.split == "held-out"]
    errors = sorted(abs(c.cudagraph_error_gib) for c in held)
    assert len(held) == 44
    assert errors[len(errors) // 2] <= 0.11  # median 0.10 GiB
    misses = {c.log: c.cudagraph_error_gib for c in held if abs(c.cudagraph_error_gib) > 0.25}
    assert misses == pytest.approx(GRAPH_MISSES, abs=0.01)


@pytest.mark.parametrize("check", [c for c in CHECKS if c.log in MISSED], ids=lambda c: c.log)
def test_held_out_misses_measured_error(check) -> None:
    # the figures reported on the site, held here so that a change shows
    assert check.token_error == pytest.approx(MISSED[check.log], abs=0.005)


def test_most_held_out_launches_meet_the_target() -> None:
    held_out = [c for c in CHECKS if c.split == "held-out"]
    errors = [(c.token_error, c.concurrency_error or 0) for c in held_out]
    within = [e for e in errors if max(map(abs, e)) <= HELD_OUT_BOUND]
    assert len(held_out) - len(within) == len(MISSED)  # 80 of 92 within


@pytest.mark.parametrize(
    "check",
    [
        pytest.param(
            c,
            marks=pytest.mark.xfail(strict=True, reason="held-out target not met")
            if c.log in MISSED
            else (),
        )
        for c in CHECKS
        if c.split == "held-out"
    ],
    ids=lambda c: c.log,
)
def test_held_out_launches_within_the_target(check) -> None:
    assert abs(check.token_error) <= HELD_OUT_BOUND
    if check.concurrency_error is not None:
        assert abs(check.concurrency_error) <= HELD_OUT_BOUND


def _recipe_blocks(tokens: int) -> int:
    """The blocks behind a token count recipes#810 printed for its one RTX 5090: 27 blocks of
    1,568 tokens a request of 32,768 (test_vllm_logs.py works both out by hand)."""
    (blocks,) = [b for b in range(1, 400) if int(b * 32_768 / 27) == tokens]
    return blocks


def test_one_recipes_launches_differ_as_predicted() -> None:
    # recipes#810 booted Inferact's NVFP4 Qwen3.8-27B on one RTX 5090 three ways: with the
    # vision tower, without it (--language-model-only), and also with --max-num-seqs 8. Between
    # two of them the budget and the language model's weights cancel: the first difference is
    # the tower's weights and its encoder's profile run, the second the sampler over 256 rows
    # against the forward pass's working set, a DeltaNet layer's as vLLM runs it.
    logged = [_recipe_blocks(n) for n in (91_022, 135_926, 152_917)]
    assert logged == [75, 112, 126]
    launch = {
        "kv_dtype": "fp8",
        "max_model_len": 32_768,
        "cudagraph_memory": 0,
        "engine_id": "0.26.1rc1.dev608+g99a10304d",
    }
    predicted = [
        serve("qwen3.8-27b-nvfp4", "rtx-5090", **launch, **extra).blocks
        for extra in (
            {},
            {"language_model_only": True},
            {"language_model_only": True, "max_num_seqs": 8},
        )
    ]
    for i in (1, 2):
        assert predicted[i] - predicted[i - 1] == pytest.approx(logged[i] - logged[i - 1], abs=2)


def test_hybrid_profile_from_the_printed_weights() -> None:
    # talos-argocd-proxmox#1998 printed the weights (14.46 GiB a GPU) and the cache (4.99 GiB)
    # of Qwen3.8-27B-FP8 on two RTX 3090 at 0.92. With those weights, what gpumem puts beside
    # them (the encoder's and the forward pass's profile, memory outside PyTorch, the CUDA
    # graphs) leaves the printed cache within 2 %; counting a DeltaNet layer's chunked delta
    # rule, which vLLM's dummy run does not run, left 6.6 % less.
    result = serve(
        "qwen3.8-27b-fp8",
        "rtx-3090",
        tp=2,
        kv_dtype="fp8",
        gpu_memory_utilization=0.92,
        max_model_len=262_144,
        max_num_seqs=3,
        max_num_batched_tokens=8192,
        enable_prefix_caching=True,
        limit_mm_per_prompt={"image": 16},
        engine_id="0.27.1",
    )
    beside = result.profile_peak_bytes + result.non_torch_bytes + result.cudagraph_bytes
    available = result.budget_bytes - 14.46 * GIB - beside
    assert available / GIB == pytest.approx(4.99, rel=0.02)


def test_held_out_two_node_launch_by_hand() -> None:
    # vllm#21524 printed 878,416 tokens and 21.45x for 40,960-token requests; a page of
    # Qwen3-30B-A3B at TP 2 is 16 x 2 x 2 KV heads x 128 x 2 B = 16 KiB over 48 layers
    # (a thread of July 2025: vLLM's accounting before 0.17)
    result = serve(
        "qwen3-30b-a3b", "h100-sxm", tp=2, gpu_memory_utilization=0.9, engine_id="vllm-0.8"
    )
    assert result.page_bytes == 16384 and result.layers_per_group == 48
    assert result.kv_tokens == pytest.approx(878416, rel=HELD_OUT_BOUND)
    assert result.max_concurrency == pytest.approx(21.45, rel=HELD_OUT_BOUND)


@pytest.mark.parametrize(
    "check",
    [c for c in check_logs(("v1-tokens", "v0-blocks")) if c.exact_tokens is not None],
    ids=lambda c: c.log,
)
def test_tokens_from_the_printed_memory(check) -> None:
    # vLLM's arithmetic from the memory the log printed (two decimals of GiB); with tensor
    # parallelism vLLM keeps the smallest count over its workers and the thread shows one
    if check.tp * check.pp == 1:
        assert abs(check.exact_error) <= 0.005
    else:
        assert check.logged_tokens <= check.exact_tokens * 1.005


def test_sampler_run_by_hand() -> None:
    # Qwen2.5-72B on two H100s (vLLM 0.19.0, llm-d-planner's sweep) printed a torch peak
    # increase of 2.29 GiB. The sampler run holds the forward pass's 8,192 x 8,192 hidden
    # states and two copies of the 1,024 sampled rows in BF16, 1,024 x 152,064 logits in BF16
    # with three FP32 copies, the top-k/top-p buffer of 132 FP32 vocabulary rows (132 SMs) and
    # the 32 MiB cuBLAS workspace of a Hopper GPU:
    hidden = (8192 + 2 * 1024) * 8192 * 2
    logits = 1024 * 152064 * (2 + 4 + 4 + 4)
    peak = hidden + logits + 132 * 152064 * 4 + 32 * 2**20
    result = serve(
        "qwen2.5-72b",
        "h100-sxm",
        tp=2,
        gpu_memory_utilization=0.95,
        max_model_len=8192,
        engine_id="0.19.0",
    )
    assert result.profile_peak_bytes == peak
    assert peak / GIB == pytest.approx(2.29, abs=0.005)


def test_fused_moe_peak_by_hand() -> None:
    # Mixtral-8x7B on two H100s (vLLM 0.19.0, llm-d-planner's sweep) printed a torch peak
    # increase of 1.21 GiB. The routed experts' intermediates live in the fused-MoE kernel's
    # workspace, kept through the sampler run: for all 8,192 tokens, 2 experts each, the
    # activated product (or the output, 4,096 wide) of 14,336 / 2 channels a GPU and the first
    # GEMM's 2 x 14,336 / 2 outputs, in BF16. The forward pass beside it holds the residual
    # stream's four hidden-sized tensors only (no routed copy, no expert MLP temporaries),
    # less than the sampler run: its hidden states and two copies of the 1,024 sampled rows,
    # 1,024 x 32,000 logits in BF16 with three FP32 copies, the top-k/top-p buffer of 132 FP32
    # vocabulary rows and the 32 MiB cuBLAS workspace
    workspace = 8192 * 2 * (7168 + 14336) * 2
    forward = 8192 * 4 * 4096 * 2
    sampler = (8192 + 2 * 1024) * 4096 * 2 + 1024 * 32000 * (2 + 4 + 4 + 4) + 132 * 32000 * 4
    sampler += 32 * 2**20
    assert forward < sampler
    result = serve(
        "mixtral-8x7b",
        "h100-sxm",
        tp=2,
        gpu_memory_utilization=0.95,
        max_model_len=8192,
        engine_id="0.19.0",
    )
    assert result.values["engine_prefill_workspace"] == forward
    assert result.profile_peak_bytes == sampler + workspace
    assert (sampler + workspace) / GIB == pytest.approx(1.21, abs=0.005)


def test_fused_moe_workspace_takes_every_token() -> None:
    # Qwen3-30B-A3B (8 of 128 experts, 768 channels each, hidden 2,048) at 40,960 batched
    # tokens on one H100: from 0.19.0 the fused-MoE kernel takes all the tokens at once, its
    # two workspaces 40,960 x 8 x 2,048 BF16 values each; the row of 0.13 to 0.16 keeps the
    # 32,768-token chunk
    launch = {"max_num_batched_tokens": 40960, "max_model_len": 40960}
    new = serve("qwen3-30b-a3b", "h100-sxm", **launch)
    old = serve("qwen3-30b-a3b", "h100-sxm", engine_id="0.16.0", **launch)
    assert new.values["fused_moe_workspace"] == 40960 * 8 * 2 * 2048 * 2
    assert old.values["fused_moe_workspace"] == 32768 * 8 * 2 * 2048 * 2


def test_sorting_sampler_by_hand() -> None:
    # Qwen3-14B on one H100 under vLLM 0.15.0 and 0.16.0 (llm-d-planner's version sweep)
    # printed a torch peak increase of 5.64 GiB: those releases sort the logits for top-k and
    # top-p, holding beside the BF16 logits their FP32 cast, the sorted values and int64
    # indices, PyTorch's int64 reverse indices and cub's double buffers (4 + 8 bytes)
    per_logit = 2 + 4 + 4 + 8 + 8 + 4 + 8
    peak = (8192 + 2 * 1024) * 5120 * 2 + 1024 * 151936 * per_logit + 32 * 2**20
    result = serve(
        "qwen3-14b", "h100-sxm", gpu_memory_utilization=0.95, max_model_len=8192, engine_id="0.16.0"
    )
    assert result.profile_peak_bytes == peak
    assert peak / GIB == pytest.approx(5.64, abs=0.005)


@pytest.mark.parametrize(
    ("model", "tp", "rounding_mib", "rotary_mib", "launched_rotary_mib", "logged_gib"),
    [
        # 80 layers whose down projection is 14,784 x 8,192 x 2 B = 231 MiB per GPU: a 232 MiB
        # segment, 1 MiB kept; the catalog's Qwen2.5-72B has 131,072 positions (a 131,072 x 128
        # BF16 rotary cache, 32 MiB), the launched -Instruct checkpoint 32,768 (8 MiB)
        ("qwen2.5-72b", 2, 80, 32, 8, 67.80),
        # 40 layers with a 7,680 x 5,120 QKV (75 MiB) and 5,120 x 17,920 down projection
        # (175 MiB), each kept with 1 MiB; a 16,384 x 128 rotary cache (4 MiB)
        ("phi-4", 1, 80, 4, 4, 27.39),
        # every Llama-3.1-8B tensor is a whole number of 2 MiB; the rotary cache 32 MiB
        ("llama-3.1-8b", 1, 0, 32, 32, 14.99),
    ],
)
def test_loaded_weights_by_hand(
    model: str,
    tp: int,
    rounding_mib: int,
    rotary_mib: int,
    launched_rotary_mib: int,
    logged_gib: float,
) -> None:
    # vLLM's "Model loading took" (llm-d-planner's vLLM 0.19.0 logs, two decimals) counts what
    # PyTorch's caching allocator keeps beside each weight tensor and the rotary cache
    result = serve(model, "h100-sxm", tp=tp, max_model_len=8192)
    extra = result.weights_bytes - result.values["weights"]
    assert extra == (rounding_mib + rotary_mib) * 2**20
    launched = result.weights_bytes - (rotary_mib - launched_rotary_mib) * 2**20
    assert launched / GIB == pytest.approx(logged_gib, abs=0.006)


def test_weights_match_model_loading() -> None:
    # Qwen3-30B-A3B on 4 x A10: vLLM printed "Model loading took 14.2474 GiB" per rank
    result = serve("qwen3-30b-a3b", "a10", tp=4, max_model_len=8192)
    assert result.weights_bytes / GIB == pytest.approx(14.2474, rel=0.01)


def _router_bytes(launch) -> float:
    """What engine_load_extra holds for a MoE launch beside its experts: the same launch's
    extra without MoE layers taken away (the experts' tensors being whole 2 MiB segments)."""
    values = launch.values
    names = fx.engine_load_extra.__code__.co_varnames[: fx.engine_load_extra.__code__.co_argcount]
    args = {name: values[name] for name in names}
    return fx.engine_load_extra(**args) - fx.engine_load_extra(**{**args, "L_e": 0})


def test_router_whole_on_every_gpu() -> None:
    # Qwen3-235B-A22B's router, 94 layers x 128 experts x 4,096 hidden, stays BF16 in Qwen's
    # FP8 checkpoint and is whole on each of four GPUs (98,566,144 B), where the weights
    # formula counts a quarter of it at a byte a weight; its experts (128 x 384 x 4,096 FP8
    # values, 192 MiB, and twice that) keep no allocator rest
    whole = 94 * 128 * 4096 * 2
    assert whole == 98_566_144
    launch = {"dtype": "fp8", "engine_id": "0.27.1", "max_model_len": 32768}
    tp = serve("qwen3-235b-a22b", "rtx-pro-6000", tp=4, **launch)
    assert _router_bytes(tp) == whole - 94 * 128 * 4096 // 4 == 86_245_376
    # Kubesimplify's launch printed "Model loading took 55.19 GiB" a GPU: 0.15 GiB over
    # gpumem's weights without it, 0.07 with it
    assert 0.06 < 55.19 - tp.weights_bytes / GIB < 0.08
    # over four pipeline stages each GPU holds its 24 layers' routers, at TP 1 already whole
    pp = serve("qwen3-235b-a22b", "rtx-pro-6000", pp=4, **launch)
    assert _router_bytes(pp) == 24 * 128 * 4096 * (2 - 1)
    # Mixtral-8x7B in BF16 over two GPUs: its 32 layers' routers of 8 x 4,096, half counted
    mixtral = serve("mixtral-8x7b", "h100-sxm", tp=2, engine_id="0.19.0")
    assert _router_bytes(mixtral) == 32 * 8 * 4096 * 2 // 2
    # a single GPU holds it all already
    assert _router_bytes(serve("mixtral-8x7b", "h200", engine_id="0.19.0")) == 0


def test_pipeline_stages_size_the_cache_by_hand() -> None:
    # vLLM splits Qwen3-235B-A22B's 94 layers over four stages as 23, 24, 24, 23 (23 each,
    # the remaining two on the stages before the last): a middle stage of 24 layers, with
    # neither the embedding nor the LM head, keeps the fewest blocks, each a page of 16 tokens
    # x 4 KV heads x 128 x 2 x 2 B (32,768 B) for each of its layers
    launch = {"dtype": "fp8", "engine_id": "0.27.1", "max_model_len": 32768, "max_num_seqs": 32}
    pp = serve("qwen3-235b-a22b", "rtx-pro-6000", pp=4, **launch)
    v = pp.values
    assert (v["L_s"], v["c_pf"], v["c_pl"]) == (24, 0, 0)
    assert pp.blocks == int(v["kv_available"] // (24 * 32_768))
    # the first runner's buffers for the hidden states and residual a later stage receives:
    # 2 x 8,192 tokens x 4,096 x 2 B, inside the profile, beside no sampler
    assert v["engine_stage_intermediate"] == 2 * 8192 * 4096 * 2 == 134_217_728
    # Llama-3.1-8B over four stages of 8 layers (vLLM 0.19.0): the last sizes the cache, with
    # the sampler and those buffers; the same peak as one GPU's plus the buffers
    one = serve("llama-3.1-8b", "h100-sxm", engine_id="0.19.0", max_model_len=8192)
    four = serve("llama-3.1-8b", "h100-sxm", pp=4, engine_id="0.19.0", max_model_len=8192)
    assert (four.values["L_s"], four.values["c_pl"]) == (8, 1)
    assert four.profile_peak_bytes - one.profile_peak_bytes == 134_217_728
    # Qwen3-32B over two stages on the second runner: only the last builds the Sampler
    # (penalties' int32 count of 151,936 tokens and two bitmask words per 32 tokens for 1,024
    # request slots) and receives 2 x 8,192 x 5,120 BF16 values; it sizes the cache
    qwen = serve("qwen3-32b", "rtx-pro-6000", pp=2, engine_id="0.27.1", max_model_len=32768)
    words = -(-151_936 // 32)
    assert qwen.values["c_pl"] == 1
    assert qwen.runner_buffers_bytes == 1024 * 4 * (151_936 + 2 * words) + 2 * 8192 * 5120 * 2


def _marlin_extra(outputs: int, inputs: int) -> float:
    """Bytes one linear layer holds more when vLLM runs it through Marlin than in 128 x 128
    FP8 blocks: a BF16 scale per output and per 128 inputs, in place of an FP32 scale a
    block (4 B per 128 x 128 weights)."""
    return outputs * (inputs // 128) * 2 - outputs * inputs * 4 / 128**2


def test_marlin_fp8_scales_by_hand() -> None:
    # Qwen3.8-27B's gate-and-up projection on one of two GPUs: 2 x 17,408 / 2 outputs of 5,120
    # inputs; 40 groups of 128 inputs give 17,408 x 40 BF16 scales (1,392,640 B) where the
    # checkpoint had 136 x 40 FP32 ones (21,760 B)
    assert _marlin_extra(17408, 5120) == 1_392_640 - 21_760
    # every linear layer of the language model on one GPU at TP 2, (outputs, inputs): the 16
    # full-attention layers' queries with their gate, keys and values (24 x 256 x 2 + 2 x 4 x
    # 256, halved) and output; the 48 DeltaNet layers' queries, keys, values and gate (2 x 2,048
    # + 2 x 6,144, halved), beta and decay (2 x 48, halved) and output; the 64 MLPs
    layers = (
        16 * [(7168, 5120), (5120, 3072)]
        + 48 * [(8192, 5120), (48, 5120), (5120, 3072)]
        + 64 * [(17408, 5120), (5120, 8704)]
    )
    launch = {"tp": 2, "dtype": "fp8_block128", "language_model_only": True}
    ampere = serve("qwen3.8-27b", "rtx-3090", engine_id="0.27.1", **launch)
    ada = serve("qwen3.8-27b", "rtx-4090", engine_id="0.27.1", **launch)
    extra = sum(_marlin_extra(n, k) for n, k in layers)
    assert extra == 187_266_240
    assert ampere.weights_bytes - ada.weights_bytes == pytest.approx(extra, abs=1)
    # vLLM 0.29.0 also runs 128 x 128 blocks through Marlin on compute capability 8.9
    later = serve("qwen3.8-27b", "rtx-4090", engine_id="0.29.0", **launch)
    assert later.weights_bytes == ampere.weights_bytes


@pytest.mark.parametrize(
    ("model", "dtype", "engine_id"),
    [
        # per-tensor FP8 keeps one scale per output channel under Marlin (not counted)
        ("qwen3.8-27b", "fp8", "0.27.1"),
        # Marlin's NVFP4 layout is another kernel's, not counted
        ("qwen3.8-27b-nvfp4", None, "0.27.1"),
        # the rows before vLLM 0.17 do not follow it (their releases were not read for it)
        ("qwen3.8-27b", "fp8_block128", "0.16.0"),
    ],
)
def test_marlin_scales_only_where_counted(model: str, dtype: str | None, engine_id: str) -> None:
    options = {"tp": 2, "dtype": dtype, "engine_id": engine_id}
    ampere = serve(model, "rtx-3090", **options)
    assert ampere.weights_bytes == serve(model, "rtx-4090", **options).weights_bytes


def test_marlin_is_the_difference_of_the_two_fp8_launches() -> None:
    # Qwen3.8-27B-FP8 (128 x 128 blocks) at TP 2 printed 14.46 GiB of weights a GPU on two RTX
    # 3090 (Marlin; talos-argocd-proxmox#1998, vLLM 0.27.1) and 14.28 GiB on two RTX 5090
    # (CUTLASS reads the block scales; recipes#810, 0.26.1rc1): the scales Marlin keeps are
    # that difference, within the two printed decimals
    ampere = serve("qwen3.8-27b-fp8", "rtx-3090", tp=2, engine_id="0.27.1")
    blackwell = serve("qwen3.8-27b-fp8", "rtx-5090", tp=2, engine_id="0.26.1rc1.dev608+g99a10304d")
    difference = (ampere.weights_bytes - blackwell.weights_bytes) / GIB
    assert difference == pytest.approx(14.46 - 14.28, abs=0.01)


def test_logged_token_counts_of_the_fit_rows() -> None:
    # the printed "GPU KV cache size" lines of the two fitted launches, copied by hand
    logged = {c.log: c.logged_tokens for c in CHECKS}
    assert logged["lmcache-1739-qwen3-14b-a100-40gb"] == 42656
    assert logged["vllm-17327-qwen3-30b-a3b-4xa10"] == 198784


def test_older_format_launches_are_reported_apart() -> None:
    older = check_logs(("v0-blocks",))
    assert {c.generation for c in older} == {"v0-blocks"}
    # V0 profiled a whole max_model_len request and counted the CUDA context: V1 accounting
    # predicts more tokens than these logs print
    assert all(c.token_error > 0 for c in older)


# --- the API -----------------------------------------------------------------------------------
def test_serve_reports_the_budget() -> None:
    result = serve("llama-3.1-8b", "h100-sxm", max_model_len=8192)
    parts = result.weights_bytes + result.profile_peak_bytes + result.non_torch_bytes
    parts += result.cudagraph_bytes + result.runner_buffers_bytes
    assert result.available_kv_bytes == pytest.approx(result.budget_bytes - parts, abs=1)
    assert result.fits and result.max_concurrency > 1
    assert result.concurrency(4096) == pytest.approx(2 * result.max_concurrency)


def test_auto_length_is_the_longest_request() -> None:
    # from vLLM 0.20 the CUDA-graph estimate leaves a 70B model on two H100s no cache at 0.9
    result = serve(
        "llama-3.1-70b", "h100-sxm", tp=2, max_model_len="auto", gpu_memory_utilization=0.9
    )
    assert result.longest_request == 0 and not result.fits
    result = serve(
        "llama-3.1-70b", "h100-sxm", tp=2, max_model_len="auto", gpu_memory_utilization=0.95
    )
    assert result.max_model_len == result.longest_request < 131072
    assert result.max_concurrency >= 1
    assert not serve("llama-3.1-70b", "h100-sxm", tp=2, gpu_memory_utilization=0.95).fits


def test_given_cache_has_no_cuda_graph_estimate() -> None:
    # with --kv-cache-memory vLLM returns before it estimates its CUDA graphs (gpu_worker.py
    # determine_available_memory), so neither an estimate nor a graph budget is reported, and
    # a --cudagraph-memory beside it is refused rather than ignored
    given = serve("qwen3-8b", "h100-sxm", kv_cache_memory=20 * GIB)
    assert given.available_kv_bytes == 20 * GIB
    assert given.cudagraph_estimate_bytes is None and given.cudagraph_bytes is None
    with pytest.raises(InvalidValueError, match="nothing with kv_cache_memory"):
        serve("qwen3-8b", "h100-sxm", kv_cache_memory=20 * GIB, cudagraph_memory=GIB)


def test_kv_cache_memory_round_trip() -> None:
    result = serve("qwen2.5-7b", "l4", max_model_len=8192)
    memory = result.kv_cache_memory(12)
    again = serve("qwen2.5-7b", "l4", max_model_len=8192, kv_cache_memory=memory)
    assert again.max_concurrency == pytest.approx(12)


@pytest.mark.parametrize(
    "settings",
    [
        {"gpu_memory_utilization": 0},
        {"gpu_memory_utilization": 1.5},
        {"max_model_len": 0},
        {"max_model_len": 10**7},
        {"max_num_seqs": -1},
        {"block_size": 0},
        {"kv_cache_memory": 0},
        {"cudagraph_memory": -1},
    ],
)
def test_bad_settings_are_refused(settings: dict) -> None:
    with pytest.raises(InvalidValueError):
        serve("llama-3.1-8b", "h100-sxm", **settings)


def test_encoder_has_no_kv_cache() -> None:
    with pytest.raises(InvalidValueError):
        serve("bert-base-uncased", "t4")


def test_unknown_gpu() -> None:
    with pytest.raises(UnknownNameError):
        serve("llama-3.1-8b", "h1000")


def test_sampler_device_terms_come_from_the_gpu_catalog() -> None:
    """The Triton top-k/top-p buffer has one FP32 vocabulary row per streaming multiprocessor
    (256 sequences on an RTX 4090: min(128, 256) programs -> 128 rows; on an L4: 58 -> 64,
    capped at 58) and PyTorch's cuBLAS workspace is 32 MiB on compute capability 9.0, 4096 KiB
    x 2 + 16 KiB x 8 = 8,519,680 bytes on 8.9; a GPU without a count on record gets the
    engine's stated assumption, and says so."""
    rtx, l4, h100 = (
        serve("qwen2.5-7b", gpu, model_runner="v1") for gpu in ("rtx-4090", "l4", "h100-sxm")
    )
    assert (rtx.values["n_tk"], rtx.values["M_blas"]) == (128, 4096 * 1024 * 2 + 16 * 1024 * 8)
    assert l4.values["n_tk"] == 58
    assert h100.values["M_blas"] == 32 * 2**20
    assert rtx.assumed_multiprocessors is None
    unknown = get_gpu("l40").with_(multiprocessors=None)
    l40 = serve("qwen2.5-7b", unknown, model_runner="v1")
    assert l40.assumed_multiprocessors == 132
    assert "assumed: 132 streaming multiprocessors" in serve_text(l40, unknown, {})
    assert "assumed" not in serve_text(rtx, get_gpu("rtx-4090"), {})
    # the second runner's dummy sampler has no top-k/top-p buffer: nothing to assume
    assert serve("qwen2.5-7b", unknown).assumed_multiprocessors is None


def test_cublas_workspace_as_the_pinned_pytorch_sizes_it() -> None:
    """vLLM 0.13 to 0.19 pin torch 2.9.0 to 2.10.0, whose cuBLAS workspace is 32 MiB on compute
    capability 9.0 only (pytorch#175344, which widens it to majors 10 and 12, came later): a
    B200 (10.0), a B300 (10.3) and an RTX 5090 (12.0) get 4096 KiB x 2 + 16 KiB x 8 =
    8,519,680 bytes, an H200 (9.0) 33,554,432."""
    for engine_id in ("vllm", "vllm-0.13"):
        for gpu in ("b200", "b300", "rtx-5090"):
            launch = serve("qwen2.5-7b", gpu, engine_id=engine_id)
            assert launch.values["M_blas"] == 8_519_680, (engine_id, gpu)
        h200 = serve("qwen2.5-7b", "h200", engine_id=engine_id)
        assert h200.values["M_blas"] == 33_554_432, engine_id


def test_l40_multiprocessors_from_the_catalog() -> None:
    """The L40's 18,176 CUDA cores at 128 per Ada multiprocessor are 142 multiprocessors:
    256 sequences run min(142, 256) programs, a buffer of min(256, 142) = 142 rows, and
    nothing is assumed."""
    l40 = serve("qwen2.5-7b", "l40", model_runner="v1")
    assert l40.values["n_tk"] == 18_176 // 128 == 142
    assert l40.assumed_multiprocessors is None


def test_groups_and_deltanet_heads_are_apart() -> None:
    # Qwen3.8-27B: four KV-cache groups (the 16 attention layers, three groups of 16 DeltaNet
    # layers) and 48 value heads in each DeltaNet layer, which size its prefill working set
    result = serve("qwen3.8-27b", "rtx-5090", tp=2, dtype="fp8", max_model_len=262144)
    assert result.groups == 4
    assert result.values["n_g"] == 48


def test_flashinfer_workspaces_in_the_first_full_capture_by_hand() -> None:
    """club-3090#652 (held out): Qwen3.6-35B-A3B with an fp8 cache on one RTX 5090 under vLLM
    0.24.0, one sequence: 'PIECEWISE=2 (largest=2), FULL=1 (largest=1)' and 0.41 GiB. FlashAttention
    holds an fp8 cache only as FlashAttention 3 on Hopper, so the launch runs FlashInfer, whose
    metadata builder allocates its 394 MiB workspace, and the decode wrapper of the FULL batch
    its 8 MiB integer workspace, in the first FULL capture (the first to build attention
    metadata); each graph size takes 40 layers x 196,608 bytes: 394 MiB + 8 MiB + 2 x 7.5 MiB =
    437,256,192 bytes, 0.407 GiB (0.031 GiB without the workspaces)."""
    launch = {"max_model_len": 131072, "max_num_seqs": 1, "max_num_batched_tokens": 8192}
    fp8 = serve("qwen3.6-35b-a3b", "rtx-5090", kv_dtype="fp8_e4m3", engine_id="0.24.0", **launch)
    per_graph = 40 * 196_608
    assert _graphs(fp8) == (2, 1, 2)
    assert fp8.values["M_fi"] == 394 * 2**20 + 8 * 2**20
    assert fp8.cudagraph_estimate_bytes == 413_138_944 + 8_388_608 + 2 * per_graph
    assert fp8.cudagraph_estimate_bytes / GIB == pytest.approx(0.41, abs=0.005)
    # a 16-bit cache runs FlashAttention there; an fp8 cache on an H100 FlashAttention 3
    bf16 = serve("qwen3.6-35b-a3b", "rtx-5090", engine_id="0.24.0", **launch)
    assert bf16.values["M_fi"] == 0
    hopper = serve("qwen3.6-35b-a3b", "h100-sxm", kv_dtype="fp8_e4m3", **launch)
    assert hopper.values["M_fi"] == 0


def test_default_utilization_of_the_current_generation() -> None:
    # vLLM 0.20 and later default to 0.92 of the device (vllm/config/cache.py; 0.19: 0.9)
    current = serve("qwen3-8b", "rtx-a5000", max_model_len=8192)
    older = serve("qwen3-8b", "rtx-a5000", max_model_len=8192, engine_id="0.19.1")
    assert current.budget_bytes / older.budget_bytes == pytest.approx(0.92 / 0.9, rel=1e-9)


# --- speculative decoding with the checkpoint's MTP module ---------------------------------------
MTP3 = {"method": "mtp", "num_speculative_tokens": 3}


def test_mtp_club3090_594_by_hand() -> None:
    # club-3090#594: Qwen3.6-27B at TP 2, an fp8 cache, prefix caching, MTP with 3 tokens, vLLM
    # 0.24.0; it printed 5.33 GiB of KV-cache memory, 300,220 tokens and 1.15x at 262,144.
    # A DeltaNet state per GPU: the convolution's 3 + 3 positions of 10,240 / 2 channels in
    # BF16 and 24 value heads of 128 x 128 in FP32; an attention token 2 x 2 x 256 x 1 bytes
    state = (3 + 3) * 10240 // 2 * 2 + 24 * 128 * 128 * 4  # 1,634,304 bytes
    block = 16 * -(-state // (16 * 1024))  # 16 x ceil(99.75) = 1,600 tokens
    result = capacity(
        "qwen3.6-27b",
        int(5.33 * GIB),
        tp=2,
        kv_dtype="fp8_e4m3",
        max_model_len=262144,
        engine_id="0.24.0",
        enable_prefix_caching=True,
        speculative_config=MTP3,
    )
    assert (result.block_size, result.page_bytes) == (block, 1600 * 1024) == (1600, 1_638_400)
    # 16 full-attention layers and the MTP layer against 48 DeltaNet layers: groups of 17,
    # 1 of attention and ceil(48 / 17) = 3 of DeltaNet layers
    assert (result.groups, result.recurrent_groups, result.layers_per_group) == (4, 3, 17)
    assert result.blocks == int(5.33 * GIB) // (1_638_400 * 17) == 205
    # a request: ceil(262,144 / 1,600) = 164 blocks, and 2 + 3 in each DeltaNet group
    assert result.max_concurrency == 205 / (164 + 3 * 5)
    assert f"{result.max_concurrency:.2f}" == "1.15"
    assert result.kv_tokens == 205 * 262144 // 179 == 300_220
    assert result.num_speculative_tokens == 3


def test_mtp_tokens_default_to_the_module_layers() -> None:
    # without num_speculative_tokens vLLM drafts as many tokens as the module has layers (1)
    one = capacity("qwen3.6-27b", 10 * GIB, tp=2, speculative_config={"method": "mtp"})
    assert one.num_speculative_tokens == 1
    assert one.values["L_m"] == 1


def test_deepseek_mtp_projection_whole_on_every_gpu() -> None:
    # DeepSeek-V3's eh_proj is a plain nn.Linear [2 x 7,168 -> 7,168] in BF16 on every GPU
    # (deepseek_mtp.py); the rest of the module is split: from TP 4 to TP 8 the drafter's
    # share halves but for it, so 2 x (TP 8) - (TP 4) leaves the projection alone
    drafter = {
        tp: serve("deepseek-v3", "h200", tp=tp, speculative_config={"method": "mtp"})
        for tp in (4, 8)
    }
    whole = 2 * 7168 * 7168 * 2
    assert whole == 205_520_896
    shares = {tp: launch.drafter_weights_bytes for tp, launch in drafter.items()}
    assert 2 * shares[8] - shares[4] == whole
    # Qwen's fc is a ColumnParallelLinear: split like the layer
    qwen = {tp: serve("qwen3.6-27b", "h200", tp=tp, speculative_config=MTP3) for tp in (1, 2)}
    assert 2 * qwen[2].drafter_weights_bytes == qwen[1].drafter_weights_bytes


def test_mtp_module_parameters_against_the_published_totals() -> None:
    # the catalog's uncounted_parameters are the Hub's totals less what gpumem counts: the MTP
    # module. Qwen3.6-27B's less its norms (5 x 5,120 and q/k norms of 256 each) are its weight
    # matrices; Qwen3.6-35B-A3B's less the router (2,048 x 256), the shared expert's gate and
    # the norms (5 x 2,048 + 2 x 256)
    dense = catalog_entry("qwen3.6-27b")["uncounted_parameters"]
    moe = catalog_entry("qwen3.6-35b-a3b")["uncounted_parameters"]
    for model, matrices in (
        ("qwen3.6-27b", dense - 5 * 5120 - 2 * 256),
        ("qwen3.6-35b-a3b", moe - 2048 * 256 - 2048 - 5 * 2048 - 2 * 256),
    ):
        result = serve(model, "h200", speculative_config=MTP3)
        assert result.values["mtp_parameters"] == matrices
    # in BF16 over two GPUs: 424,673,280 x 2 / 2 bytes a GPU, within "Model loading took"
    bf16 = serve("qwen3.6-27b", "h200", tp=2, speculative_config=MTP3)
    plain = serve("qwen3.6-27b", "h200", tp=2)
    assert bf16.drafter_weights_bytes == 424_673_280
    assert bf16.weights_bytes - plain.weights_bytes == 424_673_280


def test_mtp_module_as_the_checkpoint_ships_it() -> None:
    # Qwen's FP8 release quantizes the MTP layer's attention and MLP in 128 x 128 blocks, as
    # the model's layers, and keeps mtp.fc (2 x 5,120 x 5,120) in BF16 (its
    # modules_to_not_convert): attention 104,857,600 and MLP 3 x 5,120 x 17,408 weights at one
    # byte (and the blocks' FP32 scales, 1/4,096 of that), the projection at two
    fp8 = serve("qwen3.8-27b-fp8", "h200", speculative_config=MTP3)
    layer = 104_857_600 + 3 * 5120 * 17408
    fc = 2 * 5120 * 5120 * 2
    assert fp8.drafter_weights_bytes == pytest.approx(layer + fc, rel=1e-3)
    # NVIDIA's MIXED_PRECISION build of Qwen3.6-35B-A3B names no module of the MTP module in
    # its quantized_layers: all of it in BF16
    nvfp4 = serve("qwen3.6-35b-a3b-nvfp4", "h200", speculative_config=MTP3)
    bf16 = serve("qwen3.6-35b-a3b", "h200", speculative_config=MTP3)
    assert nvfp4.drafter_weights_bytes == bf16.drafter_weights_bytes


def test_mtp_drafter_in_the_profiling_run() -> None:
    # the drafter's dummy pass runs while the runner holds the target's output hidden states,
    # max_num_batched_tokens x 5,120 in BF16 (text only and 4 sequences: neither the encoder's
    # profile nor the sampler's run above it)
    settings = {"max_num_batched_tokens": 8192, "max_num_seqs": 4, "language_model_only": True}
    on = serve("qwen3.6-27b", "h200", speculative_config=MTP3, **settings)
    off = serve("qwen3.6-27b", "h200", **settings)
    assert on.profile_peak_bytes - off.profile_peak_bytes == 8192 * 5120 * 2


def test_mtp_piecewise_graphs_under_flashinfer() -> None:
    # an fp8 cache on an RTX 3090 runs FlashInfer, whose FULL graphs hold one-token decodes
    # only up to vLLM 0.32: with draft tokens vLLM captures piecewise graphs only
    # (club-3090#44: PIECEWISE=7)
    on = serve(
        "qwen3.6-27b", "rtx-3090", tp=2, kv_dtype="fp8_e4m3", max_num_seqs=2,
        max_num_batched_tokens=8192, speculative_config=MTP3, engine_id="0.32.0",
    )  # fmt: skip
    assert on.values["cudagraph_full_graphs"] == 0
    # the ceiling: min(2 x 2 x (1 + 3), 512) = 16 tokens -> 1, 2, 4, 8, 16
    assert on.values["cudagraph_piecewise_graphs"] == 5
    # FlashAttention on an H100 captures FULL graphs of up to 2 x (1 + 3) tokens, in whole
    # requests of 4 tokens: the capture sizes 1, 2, 4, 8 round up to 4 and 8
    h100 = serve("qwen3.6-27b", "h100-sxm", max_num_seqs=2, speculative_config=MTP3)
    assert h100.values["cudagraph_full_graphs"] == 2


def test_full_graphs_with_draft_tokens_in_whole_requests() -> None:
    # DeepSeek-V3 with one draft token (2 tokens a request) at 1,024 sequences on H200s: the
    # grid to 512 tokens has 3 + 31 + 17 = 51 sizes; 1 and 2 both round up to 2, so the
    # second runner (0.29) captures 50 FULL graphs and 51 piecewise sets, and the first
    # runner (0.27.1), which rounds its piecewise sizes too, 50 of each
    one = {"method": "mtp", "num_speculative_tokens": 1}
    second = serve("deepseek-v3", "h200", tp=8, engine_id="0.29.0", speculative_config=one)
    first = serve("deepseek-v3", "h200", tp=8, engine_id="0.27.1", speculative_config=one)
    counts = [
        (r.values["cudagraph_piecewise_graphs"], r.values["cudagraph_full_graphs"])
        for r in (second, first)
    ]
    assert counts == [(51, 50), (50, 50)]
    # Qwen3.6-27B with 3 draft tokens on an H100 under 0.27.1 (the first runner): 1, 2 and 4
    # all round up to 4, the rest of the grid to 512 are multiples of 4: 49 sizes of each
    qwen = serve("qwen3.6-27b", "h100-sxm", engine_id="0.27.1", speculative_config=MTP3)
    assert qwen.values["cudagraph_piecewise_graphs"] == qwen.values["cudagraph_full_graphs"] == 49
    # two draft tokens (3 a request) at 4 sequences, the grid to 2 x 4 x 3 = 24 tokens (1, 2, 4,
    # 8, 16, 24): under 0.28.0 (the first runner, all rounded) 3, 6, 9, 18, 24 and FULL graphs
    # of 3, 6 and 9 tokens (up to 12); from 0.29.0 the uniform decode batches of 1, 2 and 4
    # requests (3, 6, 12 tokens) join the sizes: the second runner's 9 piecewise sets and FULL
    # graphs of 3, 6, 9 and 12 tokens
    three = {"method": "mtp", "num_speculative_tokens": 2}
    counts = {
        release: (v["cudagraph_piecewise_graphs"], v["cudagraph_full_graphs"])
        for release in ("0.28.0", "0.29.0")
        for v in [
            serve(
                "qwen3.6-27b", "h100-sxm", max_num_seqs=4, engine_id=release,
                speculative_config=three,
            ).values
        ]
    }  # fmt: skip
    assert counts == {"0.28.0": (5, 3), "0.29.0": (9, 4)}


def test_mtp_full_graphs_under_flashinfer_from_033() -> None:
    # vLLM 0.33.0: below compute capability 9.0 FlashInfer decodes draft tokens with its FA2
    # kernels (UNIFORM_BATCH), so club-3090's MTP launch keeps its FULL graphs: the estimate
    # gains FlashInfer's workspaces (394 MiB float + 8 MiB integer) and one graph of 64 layers
    # x 111,027 bytes for each FULL size, 2 of them (requests of 1 + 3 tokens: 4 and 8)
    launch = {
        "tp": 2, "kv_dtype": "fp8_e4m3", "max_model_len": 262144, "max_num_seqs": 2,
        "max_num_batched_tokens": 8192, "speculative_config": MTP3,
    }  # fmt: skip
    old, new = (
        serve("qwen3.8-27b-fp8", "rtx-3090", engine_id=e, **launch) for e in ("0.32.0", "0.33.0")
    )
    assert (old.values["cudagraph_full_graphs"], new.values["cudagraph_full_graphs"]) == (0, 2)
    gained = new.values["cudagraph_estimate"] - old.values["cudagraph_estimate"]
    assert gained == 413_138_944 + 8_388_608 + 2 * 64 * 111_027


def test_mtp_full_graphs_under_flashinfer_on_12x_from_028() -> None:
    # vLLM 0.28.0: FlashInfer's XQA decode on compute capability 12.x (RTX 5090) holds draft
    # tokens (UNIFORM_BATCH); 0.27.1 captures piecewise graphs only there
    launch = {
        "tp": 2, "kv_dtype": "fp8_e4m3", "max_model_len": 262144, "max_num_seqs": 2,
        "max_num_batched_tokens": 8192, "speculative_config": MTP3,
    }  # fmt: skip
    full = {
        release: serve("qwen3.8-27b-fp8", "rtx-5090", engine_id=release, **launch).values[
            "cudagraph_full_graphs"
        ]
        for release in ("0.27.1", "0.28.0", "0.29.0", "0.33.0")
    }
    assert full == {"0.27.1": 0, "0.28.0": 2, "0.29.0": 2, "0.33.0": 2}


@pytest.mark.parametrize(
    ("model", "config", "match"),
    [
        ("qwen3-8b", MTP3, "no multi-token-prediction layers"),
        ("qwen3.6-27b", {"method": "eagle3", "num_speculative_tokens": 3}, "mtp"),
        ("qwen3.6-27b", {"method": "mtp", "num_speculative_tokens": 0}, "positive"),
        ("qwen3.6-27b", {"method": "mtp", "draft_tensor_parallel_size": 1}, "keys"),
        ("qwen3.6-27b", "mtp", "mapping"),
    ],
)
def test_speculative_config_refused_by_name(model: str, config: object, match: str) -> None:
    with pytest.raises(InvalidValueError, match=match):
        serve(model, "h200", speculative_config=config)


def test_mtp_over_pipeline_stages_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="pp"):
        serve("qwen3.6-27b", "h200", pp=2, speculative_config=MTP3)


def test_speculative_config_on_the_command_line(capsys) -> None:
    from gpumem.cli import main

    mtp = '{"method": "mtp", "num_speculative_tokens": 3}'
    assert main(["serve", "qwen3.6-27b", "--gpu", "h200", "--speculative-config", mtp]) == 0
    assert "MTP" in capsys.readouterr().out
    for model, text in (("qwen3-8b", mtp), ("qwen3.6-27b", '{"method": "ngram"}')):
        assert main(["serve", model, "--gpu", "h200", "--speculative-config", text]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("gpumem: error:") and "speculative" in err[0]
    assert main(["serve", "qwen3.6-27b", "--gpu", "h200", "--speculative-config", "mtp"]) == 2
    assert "--speculative-config" in capsys.readouterr().err


# --- vLLM's second model runner (vllm/v1/worker/gpu/) -----------------------------------------
@pytest.mark.parametrize(
    ("release", "model", "runner"),
    [
        # VllmConfig.use_v2_model_runner / _is_default_v2_model_runner_model, vllm/config/vllm.py
        ("0.21.0", "qwen3-8b", "v1"),  # only VLLM_USE_V2_MODEL_RUNNER=1 runs it
        ("0.22.0", "qwen3-8b", "v2"),  # {'Qwen3ForCausalLM'}, not MoE, not quantized
        ("0.22.0", "llama-3.1-8b", "v1"),
        ("0.22.0", "qwen3-30b-a3b", "v1"),  # Qwen3MoeForCausalLM
        ("0.24.0", "llama-3.1-8b", "v2"),  # LlamaForCausalLM listed
        ("0.24.0", "qwen1.5-moe-a2.7b", "v2"),  # Qwen2MoeForCausalLM listed, MoE or not
        ("0.24.0", "qwen2.5-7b", "v1"),  # Qwen2ForCausalLM not listed
        ("0.26.0", "qwen2.5-7b", "v2"),  # every model that is not MoE
        ("0.26.0", "qwen3-30b-a3b", "v1"),  # a MoE not listed
        ("0.26.0", "qwen3.8-27b", "v1"),  # a hybrid (gated DeltaNet)
        ("0.28.0", "qwen3-next-80b-a3b", "v1"),  # a hybrid not listed
        ("0.27.1", "deepseek-v2-lite", "v2"),  # DeepseekV2ForCausalLM listed
        ("0.29.0", "qwen3-235b-a22b", "v2"),  # no architecture gate
        ("0.29.0", "qwen3.8-27b", "v2"),
        ("vllm", "mixtral-8x7b", "v2"),  # the row follows 0.29.0
        ("vllm-0.17", "qwen3-8b", "v1"),
    ],
)
def test_model_runner_as_vllm_picks_it(release, model, runner) -> None:
    assert runner_for(load_model(model), release) == runner


def test_model_runner_given() -> None:
    spec = load_model("qwen3-8b")
    assert runner_for(spec, "0.21.0", "v1") == "v1"
    assert runner_for(spec, "0.26.0", "v1") == "v1"
    assert runner_for(spec, "0.24.0", "v2") == "v2"
    for release in ("0.21.0", "vllm-0.17", "0.19.1"):
        with pytest.raises(InvalidValueError, match="0.22.0"):
            runner_for(spec, release, "v2")
    with pytest.raises(InvalidValueError, match="auto, v1, v2"):
        serve("qwen3-8b", "h100-sxm", model_runner="V2")


def test_second_runner_buffers_by_hand() -> None:
    # PenaltiesState: int32 output_bin_counts [256, 151,936] and prompt_bin_mask
    # [256, ceil(151,936 / 32) = 4,748]; StructuredOutputsWorker: int32 bitmask [256, 4,748]
    counts = 256 * 151_936 * 4
    assert counts == 155_582_464  # 0.145 GiB
    masks = 2 * 256 * 4_748 * 4
    lab = serve("qwen2.5-0.5b", "rtx-4090", engine_id="0.27.1", max_model_len=2048)
    assert lab.model_runner == "v2"
    assert lab.runner_buffers_bytes == counts + masks
    # up to 0.26 the budget counts the profile's peak only, not buffers made before it
    older = serve("qwen2.5-0.5b", "rtx-4090", engine_id="0.26.0", max_model_len=2048)
    assert older.model_runner == "v2" and older.runner_buffers_bytes == 0
    # the first runner keeps its request state in host memory, but from 0.27.1 the budget
    # counts its input embeddings: [2,048 batched tokens, 896] in BF16 on a 24 GiB card
    first = serve("qwen2.5-0.5b", "rtx-4090", model_runner="v1")
    assert first.runner_buffers_bytes == 2048 * 896 * 2 == 3_670_016
    uncounted = serve("qwen2.5-0.5b", "rtx-4090", engine_id="0.26.0", model_runner="v1")
    assert uncounted.runner_buffers_bytes == 0


def test_runner_buffers_club3090_1036() -> None:
    # club-3090#1036 (vLLM 0.27.1, the first runner, MTP with 3 tokens, 8,192 batched tokens,
    # Qwen3.8-27B: hidden 5,120, BF16): the budget counts what was made after the start-up
    # snapshot, the runner's inputs_embeds and the proposer's hidden_states and inputs_embeds;
    # 0.24.0 (#594's release) counts none of them
    made = {}
    for release in ("0.27.1", "0.24.0"):
        launch = serve(
            "qwen3.8-27b-fp8",
            "rtx-3090",
            tp=2,
            engine_id=release,
            max_num_seqs=2,
            max_num_batched_tokens=8192,
            speculative_config=MTP3,
        )
        assert launch.model_runner == "v1"
        made[release] = launch.runner_buffers_bytes
    assert made == {"0.27.1": 3 * 8192 * 5120 * 2, "0.24.0": 0}
    assert made["0.27.1"] == 251_658_240  # 9 of the launch's 27,852,800-byte blocks


def test_second_runner_multimodal_embeddings_by_hand() -> None:
    # Qwen3.5-27B (hidden 5,120, BF16, a vision tower) on one H100 under 0.29.0, the second
    # runner at 8,192 batched tokens: where the model takes images its EncoderRunner keeps
    # [8,192, 5,120] input embeddings, none with --language-model-only; an MTP speculator
    # beside it keeps its hidden states and, for a multimodal target, its input embeddings,
    # with one more int32 bitmask word per 32 of the 248,320 tokens for each of the 1,024
    # request slots' draft rows
    embeddings = 8192 * 5120 * 2
    launch = {"engine_id": "0.29.0", "max_model_len": 8192}
    images = serve("qwen3.5-27b", "h100-sxm", **launch)
    text = serve("qwen3.5-27b", "h100-sxm", language_model_only=True, **launch)
    mtp = serve("qwen3.5-27b", "h100-sxm", speculative_config={"method": "mtp"}, **launch)
    assert images.model_runner == text.model_runner == mtp.model_runner == "v2"
    assert images.runner_buffers_bytes - text.runner_buffers_bytes == embeddings == 83_886_080
    words = 1024 * 4 * 248_320 // 32
    assert mtp.runner_buffers_bytes - images.runner_buffers_bytes == 2 * embeddings + words


def test_second_runner_sampler_by_hand() -> None:
    # Qwen2.5-0.5B (hidden 896, vocabulary 151,936) at 8,192 tokens and 256 sequences on an
    # RTX 4090 (8.9: the 8,519,680-byte cuBLAS workspace): the hidden states and the gathered
    # rows, the logits in BF16, gumbel_sample's int64 and FP32 [256, ceil(151,936 / 1,024)];
    # up to 0.26 an FP32 copy of the logits too. No top-k/top-p buffer.
    base = (8192 + 256) * 896 * 2 + 256 * 151_936 * 2 + 256 * 149 * (8 + 4) + 8_519_680
    launch = {"max_num_batched_tokens": 8192, "max_model_len": 32768}
    new = serve("qwen2.5-0.5b", "rtx-4090", engine_id="0.27.1", **launch)
    old = serve("qwen2.5-0.5b", "rtx-4090", engine_id="0.26.0", **launch)
    assert new.values["engine_v2_sampler_run"] == base
    assert old.values["engine_v2_sampler_run"] == base + 256 * 151_936 * 4
    assert new.values["n_tk"] == 0 and new.values["engine_runner_sampler"] == base


def test_second_runner_sampler_warmup_pass_by_hand() -> None:
    # vLLM 0.33.0 samples the dummy logits a second time with every sampling feature on:
    # Qwen3-8B (hidden 4,096, vocabulary 151,936) on one L40S (8.9, 142 SMs: FlashInfer's
    # sampler) at 2,048 tokens and 256 sequences holds the hidden states and gathered rows,
    # the BF16 logits, and FP32 logits, masked logits and probabilities, and the cuBLAS
    # workspace of 8.9
    hidden = (2048 + 256) * 4096 * 2  # 18,874,368
    logits = 256 * 151_936 * 2  # 77,791,232
    flashinfer = 12 * 256 * 151_936  # 466,747,392
    newer = serve("qwen3-8b", "l40s", max_model_len=9000, engine_id="0.33.0")
    older = serve("qwen3-8b", "l40s", max_model_len=9000, engine_id="0.29.0")
    sampler = hidden + logits + flashinfer + 8_519_680
    assert newer.values["engine_v2_sampler_run"] == sampler == 571_932_672
    # above the forward pass's working set: the peak grows by the difference (0.33 GiB)
    working = older.profile_peak_bytes - older.compile_transient_bytes
    assert newer.profile_peak_bytes - older.profile_peak_bytes == sampler - working
    assert sampler - working == 353_828_864
    # the row id follows 0.33.0
    assert serve("qwen3-8b", "l40s", max_model_len=9000).kv_tokens == newer.kv_tokens
    # a T4 (7.5: no FlashInfer sampler) masks the FP32 copy with the Triton kernel's buffer of
    # 40 vocabulary rows (its 40 SMs), then Gumbel samples (12 bytes a row and 1,024 logits);
    # Qwen3-1.7B's hidden size is 2,048
    triton = serve("qwen3-1.7b", "t4", engine_id="0.33.0").values
    gumbel = 12 * 256 * 149  # ceil(151,936 / 1,024) = 149 blocks
    copies = 4 * 256 * 151_936 + 4 * 40 * 151_936
    expected = (2048 + 256) * 2048 * 2 + logits + copies + gumbel + 8_519_680
    assert triton["engine_v2_sampler_run"] == expected == 276_098_048


def test_max_num_seqs_among_graph_sizes_from_031() -> None:
    # vLLM 0.31 adds max_num_seqs to the CUDA-graph sizes: 100 sequences are off the grid
    # (1, 2, 4, every 8, every 16 from 256), so under a ceiling of 2 x 100 = 200 tokens the
    # piecewise sizes are 3 + 25 (8 to 200) + 1 and the FULL sizes 3 + 12 (8 to 96) + 1
    launches = {
        release: serve("qwen3-8b", "h100-sxm", max_num_seqs=100, engine_id=release)
        for release in ("0.30.0", "0.31.0")
    }
    graphs = {
        release: (v["cudagraph_piecewise_graphs"], v["cudagraph_full_graphs"])
        for release, v in ((r, launch.values) for r, launch in launches.items())
    }
    assert graphs == {"0.30.0": (28, 15), "0.31.0": (29, 16)}
    # two graph sets of 36 layers more, and the FULL graphs' largest batch is 100 tokens, not
    # 96: FlashAttention 3's accumulators for 4 tokens more (32 splits, 32 heads of 128 + 1)
    # (the second runner's memory of a captured size: 111,027 bytes a layer)
    more = 2 * 111_027 * 36 + 32 * 4 * 32 * 129 * 4
    estimates = {r: launch.cudagraph_estimate_bytes for r, launch in launches.items()}
    assert estimates["0.31.0"] - estimates["0.30.0"] == more == 10_107_480
    # the default 256 sequences are on the grid
    assert serve("qwen3-8b", "l40s", engine_id="0.31.0").values["cudagraph_seqs_off_grid"] == 0


def test_gated_deltanet_flashinfer_checkpoint_on_hopper() -> None:
    # vLLM 0.33 runs a gated DeltaNet layer's prefill with FlashInfer on compute capability
    # 9.0, and in 'align' mode (prefix caching, the default) the layer keeps a prefill
    # checkpoint: blocks align to 64 tokens and each recurrent group holds 3 blocks a request.
    # Qwen3.5-27B's state pads a 16-token-aligned block of 784 tokens (4,096 bytes a token);
    # with 64: 64 x ceil(784 / 64) = 832. At 9,000 tokens a request holds ceil(9,000 / 832) =
    # 11 attention blocks and 3 x 3 state blocks (12 and 3 x 2 before)
    before = serve("qwen3.5-27b", "h100-sxm", max_model_len=9000, engine_id="0.29.0")
    after = serve("qwen3.5-27b", "h100-sxm", max_model_len=9000, engine_id="0.33.0")
    assert (before.block_size, after.block_size) == (784, 64 * -(-784 // 64)) == (784, 832)
    assert before.recurrent_groups == after.recurrent_groups == 3
    assert before.max_concurrency == pytest.approx(before.blocks / (12 + 3 * 2))
    assert after.max_concurrency == pytest.approx(after.blocks / (11 + 3 * 3))
    # an L40S (8.9) runs the Triton prefill: no checkpoint
    assert serve("qwen3.5-27b", "l40s", max_model_len=9000).block_size == 784


def test_second_runner_cuda_graph_estimate() -> None:
    # up to 0.28 its profile_cudagraph_memory returns 0: nothing comes out of the cache
    for release in ("0.22.0", "0.27.1", "0.28.0"):
        launch = serve("qwen3-8b", "h100-sxm", engine_id=release)
        assert launch.cudagraph_estimate_bytes == launch.cudagraph_bytes == 0
    # 0.29 adds the first captures of both modes where the first runner takes the larger
    first = serve("qwen3-8b", "h100-sxm", engine_id="0.29.0", model_runner="v1")
    second = serve("qwen3-8b", "h100-sxm", engine_id="0.29.0")
    accumulators = second.values["cudagraph_full_accumulators"]
    piecewise = 2 * second.values["M_Pg"] + second.values["M_g0"]
    # ... and its piecewise warm-ups run attention: FlashAttention 3's accumulators of the
    # largest piecewise batch, 32 splits x 512 tokens x 32 query heads x (128 + 1) x 4 bytes
    warmup = 32 * 512 * 32 * 129 * 4
    assert warmup == second.values["cudagraph_piecewise_accumulators"] == 270_532_608
    # each runner with its own memory of a captured size: the first runner's from its second
    # captures, the second runner's fitted on the one 0.29 launch that prints its estimate
    sizes = second.values["cudagraph_piecewise_graphs"] + second.values["cudagraph_full_graphs"]
    one, two = 196_608 * 36, 111_027 * 36
    assert (first.values["beta_g"], second.values["beta_g"]) == (196_608, 111_027)
    larger = max(piecewise + one, accumulators + one)
    assert first.cudagraph_estimate_bytes == larger + (sizes - 2) * one
    assert second.cudagraph_estimate_bytes == piecewise + accumulators + warmup + sizes * two
    # an L40S runs FlashAttention 2, which keeps no split accumulators
    assert serve("qwen3-8b", "l40s").values["cudagraph_piecewise_accumulators"] == 0


def test_mtp_auto_length_and_mla_by_hand() -> None:
    # the auto length keeps the draft blocks: 2 GiB hold 2 GiB // (1,638,400 x 17) = 77 blocks
    # of #594's layout, of which 3 x 5 go to the DeltaNet groups: (77 - 15) x 1,600 tokens
    result = capacity(
        "qwen3.6-27b", 2 * GIB, tp=2, kv_dtype="fp8_e4m3", max_model_len="auto",
        enable_prefix_caching=True, engine_id="0.24.0", speculative_config=MTP3,
    )  # fmt: skip
    assert result.blocks == 77
    assert result.longest_request == result.max_model_len == (77 - 15) * 1600
    # DeepSeek-V3's MTP layer caches a 576-value latent as its 61 layers do: one group of 62
    mla = capacity("deepseek-v3", 10 * GIB, tp=8, max_model_len=4096, speculative_config=MTP3)
    assert (mla.groups, mla.layers_per_group) == (1, 62)
    assert mla.blocks == 10 * GIB // (16 * 576 * 2 * 62)


def test_mtp_club3090_849_by_hand() -> None:
    # club-3090#849 (its BENCHMARKS.md row): NVIDIA's NVFP4 Qwen3.6-27B on two RTX 5090, the
    # same cache layout as #594 without prefix caching, vLLM 0.25.1: 14.68 GiB printed, 841,541
    # tokens and 3.21x. 565 blocks of 17 pages of 1,600 tokens; a request: 164 blocks and 1 + 3
    # in each DeltaNet group
    result = capacity(
        "qwen3.6-27b", int(14.68 * GIB), tp=2, kv_dtype="fp8_e4m3", max_model_len=262144,
        engine_id="0.25.1", enable_prefix_caching=False, speculative_config=MTP3,
    )  # fmt: skip
    assert result.mamba_cache_mode == "none"
    assert result.blocks == int(14.68 * GIB) // (1_638_400 * 17) == 565
    assert result.max_concurrency == 565 / (164 + 3 * 4)
    assert f"{result.max_concurrency:.2f}" == "3.21"
    assert result.kv_tokens == 565 * 262144 // 176 == 841_541


# --- a first start: torch.compile inside the second runner's memory profile ----------------
def _logged(log_id: str) -> dict:
    (row,) = [row for row in logs() if row["id"] == log_id]
    return row


def test_compile_transient_fitted_by_hand() -> None:
    # the fit pair: the same command on one RunPod worker (Qwen3-8B, hidden 4,096, RTX 4090,
    # vLLM 0.27.1): 1.18 GiB of peak activation after a first compile, 0.19 after loading it
    cold = _logged("coldstart-recon-qwen3-8b-rtx4090-run0-cold")
    warm = _logged("coldstart-recon-qwen3-8b-rtx4090-run1-warm")
    assert (cold["compile_cache"], warm["compile_cache"]) == ("cold", "warm")
    assert cold["logged"]["activation_peak_gib"] == 1.18
    assert warm["logged"]["activation_peak_gib"] == 0.19
    assert load_model("qwen3-8b").hidden_size == 4096  # Qwen3-8B's config.json
    # (1.18 - 0.19) x 2^30 / 4,096 = 259,522.56 bytes per unit of the hidden size; the KV
    # caches printed, 5.91 and 4.92 GiB, are as far apart
    assert round(99 * GIB / 100 / 4096) == 259_523
    fitted = engine("vllm")["model_runner"]["compile_transient"]["bytes_per_hidden_unit"]
    assert fitted == 259_523


def test_first_start_and_restart() -> None:
    launch = {"engine_id": "0.27.1", "max_model_len": 9000, "gpu_memory_utilization": 0.9}
    first = serve("qwen3-8b", "l40s", **launch)
    restart = serve("qwen3-8b", "l40s", compile_cache="warm", **launch)
    assert (first.compile_cache, restart.compile_cache) == ("cold", "warm")
    # 4,096 x 259,523 bytes = 0.99 GiB more peak on a first start, nothing else
    assert first.compile_transient_bytes == 4096 * 259_523 and restart.compile_transient_bytes == 0
    assert first.profile_peak_bytes - restart.profile_peak_bytes == 4096 * 259_523
    assert restart.available_kv_bytes - first.available_kv_bytes == 4096 * 259_523
    assert first.other_start_kv_tokens == restart.kv_tokens
    assert restart.other_start_kv_tokens == first.kv_tokens
    # i-serve's L40S servers at 2,048 batched tokens print 24.33 GiB warm and 23.34 cold
    gap = (24.33 - 23.34) * GIB
    assert restart.available_kv_bytes - first.available_kv_bytes == pytest.approx(gap, rel=0.02)
    # the first runner's fitted terms hold whatever compile state their launches had
    older = serve("qwen3-8b", "l40s", engine_id="0.21.0")
    assert older.compile_cache is None and older.other_start_kv_tokens is None
    with pytest.raises(InvalidValueError, match="first model runner"):
        serve("qwen3-8b", "l40s", engine_id="0.21.0", compile_cache="warm")
    with pytest.raises(InvalidValueError, match="cold, warm"):
        serve("qwen3-8b", "l40s", compile_cache="hot")
    # a given cache skips the budget: no other start to compare
    given = serve("qwen3-8b", "l40s", kv_cache_memory=10 * GIB)
    assert given.other_start_kv_tokens is None


#: Held-out launches of the current generation (vLLM 0.20 and later) by the compile state
#: their logs show: launches, within 3 % (tokens), median and worst error (%). Null rows take
#: a first start (--enforce-eager launches: a warm one, nothing compiles). Before the compile
#: term (every launch a warm start) the 43 then on record gave: cold 3 of 12 within (median
#: 3.39 %, worst 8.95 %), warm 4 of 4, null 18 of 27 (median 1.92 %); all 25 of 43 (median
#: 2.30 %). The two A10G launches came later: Qwen3-8B cold (the worst of the cold ones) and
#: Qwen2.5-1.5B, whose report shows no compile state.
BY_START = {
    "warm": (4, 4, 0.33, 0.49),
    "cold": (12, 9, 0.80, 5.09),
    None: (28, 20, 1.53, 22.67),
}


def test_second_runner_graph_memory_fitted_on_the_printed_estimate() -> None:
    """Qwen3-14B on one L40S under 0.29.0 prints 'CUDA graph pool memory: 0.27 GiB (actual),
    0.51 GiB (estimated)': twice the forward pass's working set at 512 tokens, the first
    capture's 16 MiB and 86 sizes x 40 layers of the fitted figure."""
    row = next(r for r in logs() if r["id"] == "samilazrak-optlab-qwen3-14b-l40s-v0.29.0")
    assert row["logged"]["cudagraph_pool_estimated_gib"] == 0.51 and row["split"] == "fit"
    launch = serve("qwen3-14b", "l40s", engine_id="0.29.0")
    v = launch.values
    assert v["cudagraph_piecewise_graphs"] + v["cudagraph_full_graphs"] == 51 + 35
    fixed = 2 * v["M_Pg"] + 16 * 2**20
    assert (0.51 * GIB - fixed) / (86 * 40) == pytest.approx(111_027, abs=1)
    assert launch.cudagraph_estimate_bytes / GIB == pytest.approx(0.51, abs=0.001)


def test_current_generation_by_compile_state() -> None:
    held = [c for c in CHECKS if c.split == "held-out" and c.engine == "vllm"]
    for state, (count, within, median, worst) in BY_START.items():
        errors = sorted(abs(c.token_error) * 100 for c in held if c.compile_cache == state)
        middle = (errors[(len(errors) - 1) // 2] + errors[len(errors) // 2]) / 2
        assert (len(errors), sum(e <= 3 for e in errors)) == (count, within)
        assert middle == pytest.approx(median, abs=0.01)
        assert errors[-1] == pytest.approx(worst, abs=0.01)


def test_wsl2_reports_the_whole_card() -> None:
    # under WSL2 vLLM 0.27.1 prints 'Free memory on device (22.45/23.99 GiB)' on an RTX 4090
    # (enginrect/llmso): the card's 24,564 MiB, not Linux's total less the driver's share, so
    # the budget at utilization 0.92 grows by 0.92 x that share (483,183,821 bytes)
    assert 24564 * 2**20 == 25_757_220_864
    linux = serve("qwen2.5-0.5b", "rtx-4090", engine_id="0.27.1")
    wsl2 = serve("qwen2.5-0.5b", "rtx-4090", engine_id="0.27.1", wsl2=True)
    assert wsl2.budget_bytes == pytest.approx(0.92 * 25_757_220_864, abs=1)
    assert wsl2.budget_bytes - linux.budget_bytes == pytest.approx(0.92 * 483_183_821, abs=2)
    assert wsl2.kv_tokens > linux.kv_tokens
    with pytest.raises(InvalidValueError, match="wsl2.*True or False"):
        serve("qwen2.5-0.5b", "rtx-4090", wsl2="yes")
