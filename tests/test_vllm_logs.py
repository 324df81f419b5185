"""The published vLLM startup logs: every row sourced, and the printed numbers consistent with
each other and with KV bytes per token computed here by hand from each model's config.json."""

from __future__ import annotations

import pytest

from gpumem.catalog import catalog_entry, load_model
from gpumem.serve import capacity, engine
from gpumem.vllm_logs import logs

GIB = 2**30
BLOCK = 16  # vLLM's default block size on CUDA; no collected launch sets another

#: KV-cache bytes per token of the whole model: layers x 2 (K and V) x KV heads x head_dim x
#: 2 bytes (the checkpoints' bf16 activations; FP8 weights still keep a bf16 cache), from each
#: model's config.json on Hugging Face (num_hidden_layers, num_key_value_heads, head_dim).
LAYERS_KV_HEADS_HEAD_DIM = {
    # huggingface.co/meta-llama/Llama-3.1-8B-Instruct/blob/main/config.json: 32 layers, 8 KV heads
    "meta-llama/Llama-3.1-8B-Instruct": (32, 8, 128),
    # huggingface.co/Qwen/Qwen3-14B/blob/main/config.json: 40 layers, 8 KV heads, head_dim 128
    "Qwen/Qwen3-14B": (40, 8, 128),
    # huggingface.co/Qwen/Qwen3-8B/blob/main/config.json: 36 layers, 8 KV heads, head_dim 128
    "Qwen/Qwen3-8B": (36, 8, 128),
    # huggingface.co/Qwen/Qwen3-235B-A22B-FP8/blob/main/config.json: 94 layers, 4 KV heads
    "Qwen/Qwen3-235B-A22B-FP8": (94, 4, 128),
    # huggingface.co/Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8/blob/main/config.json: 62 layers, 8
    "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8": (62, 8, 128),
    # huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/config.json: 24 layers, 2 KV heads,
    # 14 heads of hidden_size 896 (head_dim 64)
    "Qwen/Qwen2.5-0.5B-Instruct": (24, 2, 64),
    # huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/config.json: 28 layers, 2 KV heads,
    # 12 heads of hidden_size 1,536 (head_dim 128)
    "Qwen/Qwen2.5-1.5B-Instruct": (28, 2, 128),
}

ROWS = logs()


def _per_rank_bytes_per_token(row: dict) -> int:
    layers, kv_heads, head_dim = LAYERS_KV_HEADS_HEAD_DIM[row["model"]]
    tp, pp = row["tensor_parallel_size"], row.get("pipeline_parallel_size", 1)
    # an FP8 cache keeps 1 byte a value; --dtype float32 keeps the cache in FP32
    args = row["args"]
    value = (
        1
        if args["kv_cache_dtype"] in ("fp8", "fp8_e4m3", "fp8_e5m2")
        else 4
        if args.get("dtype") == "float32"
        else 2
    )
    return -(-layers // pp) * 2 * max(1, kv_heads // tp) * head_dim * value


#: Models with sliding-window layers: those form KV-cache groups of their own, so the printed
#: concurrency is not tokens / max_model_len (tests/test_serve.py checks it from the groups).
SLIDING = {
    "google/gemma-2-2b-it",
    "google/gemma-2-9b-it",
    "google/gemma-2-27b-it",
    "google/gemma-3-4b-it",
    "google/gemma-3-12b-it",
    "google/gemma-3-27b-it",
    "openai/gpt-oss-20b",
}


def _rows(*fields: str) -> list[dict]:
    return [row for row in ROWS if all(row["logged"].get(f) is not None for f in fields)]


def _release(version: str | None) -> tuple[int, int]:
    return tuple(int(part) for part in version.split(".")[:2]) if version else (0, 0)


#: Launches of the vLLM generation that subtracts its CUDA-graph estimate (0.21 and later).
CURRENT = [row for row in ROWS if _release(row["vllm_version"]) >= (0, 21)]


def test_current_generation_is_recorded() -> None:
    # every one held out from every fit but the pair the first compile's term is fitted on and
    # the launch the second runner's graph memory is fitted on (data/serving.json), in the V1
    # token format
    assert len(CURRENT) >= 15
    compiled = set(engine()["model_runner"]["compile_transient"]["fitted_on"])
    compiled |= set(engine()["cudagraph_estimate"]["bytes_per_layer_second_runner_fitted_on"])
    assert {row["id"] for row in CURRENT if row["split"] == "fit"} == compiled
    assert {row["split"] for row in CURRENT if row["id"] not in compiled} == {"held-out"}
    assert {row["generation"] for row in CURRENT} == {"v1-tokens"}


@pytest.mark.parametrize(
    "row",
    [r for r in CURRENT if r["logged"].get("utilization_without_cudagraphs")],
    ids=lambda r: r["id"],
)
def test_cudagraph_estimate_is_the_utilization_hint(row: dict) -> None:
    # vLLM's hint: the utilization in force less the estimate over the device's total is what the
    # launch amounts to without the estimate; LMCache#3430's 0.52 GiB over 0.9764 - 0.9543 gives
    # 23.5 GiB, what a 24 GB RTX A5000 reports; a launch without the flag runs at vLLM's
    # default, 0.92 from 0.20 (vllm/config/cache.py), as club-3090#652's hint line prints
    logged, util = row["logged"], row["args"]["gpu_memory_utilization"] or 0.92
    total = logged["cudagraph_estimate_gib"] / (util - logged["utilization_without_cudagraphs"])
    assert 8 < total < 200


@pytest.mark.parametrize(
    "row",
    [r for r in CURRENT if r["logged"].get("kv_cache_in_use_gib") is not None],
    ids=lambda r: r["id"],
)
def test_kv_cache_is_budget_less_the_cudagraph_estimate(row: dict) -> None:
    # vLLM 0.21+: requested = total x utilization; the KV cache gets what weights, peak
    # activation, memory outside PyTorch and the CUDA-graph estimate (not the captured pool)
    # leave of it (vllm#50722: 67.43 - 16.92 - 5.66 - 0.13 - 1.32 = 43.40 GiB, as printed)
    logged = row["logged"]
    requested = logged["total_gpu_memory_gib"] * row["args"]["gpu_memory_utilization"]
    assert requested == pytest.approx(logged["requested_gib"], abs=0.011)
    used = logged["weights_gib"] + logged["activation_peak_gib"] + logged["non_torch_gib"]
    kv = logged["requested_gib"] - used - logged["cudagraph_pool_estimated_gib"]
    assert kv == pytest.approx(logged["kv_cache_in_use_gib"], abs=0.021)


#: Catalog entries of the current-generation launches' models (their hf_repo).
CURRENT_CATALOG = {"Qwen/Qwen3-8B": "qwen3-8b", "Qwen/Qwen3-14B": "qwen3-14b"}


@pytest.mark.parametrize(
    "row",
    [r for r in CURRENT if r["model"] in CURRENT_CATALOG and r["logged"].get("available_kv_gib")],
    ids=lambda r: r["id"],
)
def test_current_generation_capacity_from_the_printed_memory(row: dict) -> None:
    # gpumem's exact part (serve.capacity) from the memory vLLM printed: LMCache#3430's 6.37 GiB
    # of Qwen3-8B (144 KiB a token) hold 2,899 blocks of 16 -> 46,384 tokens; vLLM printed 46,368
    # (the two-decimal GiB) and 2.83 requests of 16,384 tokens
    model = load_model(CURRENT_CATALOG[row["model"]])
    logged = row["logged"]
    # vLLM's --kv-cache-dtype fp8 is FP8 E4M3 on CUDA: one byte a value, half the page
    kv_dtype = {None: None, "fp8": "fp8_e4m3"}[row["args"].get("kv_cache_dtype")]
    result = capacity(
        model,
        int(logged["available_kv_gib"] * GIB),
        tp=row["tensor_parallel_size"],
        kv_dtype=kv_dtype,
        max_model_len=logged["concurrency_tokens_per_request"],
    )
    assert result.kv_tokens == pytest.approx(logged["kv_cache_tokens"], rel=0.005)
    assert result.max_concurrency == pytest.approx(logged["max_concurrency"], rel=0.005)
    # the longest request the cache holds, capped at the model's context window
    assert result.longest_request == min(model.max_context, result.kv_tokens)


def test_dense_launch_of_0_28_by_hand() -> None:
    # Qwen3-14B on one L40S under vLLM 0.28.0 with default arguments (ddiiwoong/newblog): a
    # token is 40 layers x 2 x 8 KV heads x 128 x 2 bytes = 160 KiB, a block of 16 tokens
    # 2.5 MiB; the printed 11.57 GiB hold 4,739 whole blocks, 75,824 tokens, as printed, and
    # 75,824 / 40,960 (the model's context, vLLM's default max_model_len) = 1.85 requests
    row = next(r for r in ROWS if r["id"] == "ddiiwoong-capstone-qwen3-14b-l40s-v0.28.0")
    logged = row["logged"]
    block = 16 * 40 * 2 * 8 * 128 * 2
    assert block == 2.5 * 2**20
    blocks = int(logged["available_kv_gib"] * GIB // block)
    assert blocks == 4739
    assert blocks * 16 == logged["kv_cache_tokens"] == 75824
    assert round(75824 / 40960, 2) == logged["max_concurrency"] == 1.85


def test_hybrid_tokens_are_concurrency_times_max_model_len_by_hand() -> None:
    # club-3090#612: Qwen3.6-35B-A3B on one RTX 5090, vLLM 0.24.0, an fp8 cache, 131,072 tokens a
    # request, 5.98 GiB printed. A gated DeltaNet layer keeps 32 value heads of a 128 x 128 state
    # in the config's mamba_ssm_dtype (float32, 4 bytes) and the convolution's last 3 inputs of
    # 2 x 16 x 128 + 32 x 128 = 8,192 channels in BF16; a full layer caches a key and a value of
    # 2 KV heads of 256, 1 byte each, per token.
    row = next(r for r in CURRENT if r["id"] == "club3090-612-qwen36-35b-a3b-nvfp4-rtx5090")
    text = _text_config(row["catalog_model"])
    assert text["mamba_ssm_dtype"] == "float32" and text["linear_num_value_heads"] == 32
    state = 32 * 128 * 128 * 4 + 3 * 8192 * 2
    token = 2 * 2 * 256 * 1
    # vLLM raises the attention block (a multiple of 16 tokens) until its page holds a state
    block = -(-state // (16 * token)) * 16
    assert block == 2096
    # 10 full layers and 3 groups of 10 recurrent ones share blocks of 10 pages
    blocks = int(row["logged"]["available_kv_gib"] * GIB) // (10 * block * token)
    # a request: its tokens in the attention group, and with prefix caching ('align' mode) two
    # blocks in each recurrent group (vllm/v1/kv_cache_interface.py, MambaSpec)
    per_request = -(-131_072 // block) + 3 * 2
    assert (blocks, per_request) == (299, 69)
    # vLLM 0.2x prints int(blocks / blocks per request x max_model_len), not blocks x block size
    assert int(blocks * 131_072 / per_request) == row["logged"]["kv_cache_tokens"] == 567_978
    assert round(blocks / per_request, 2) == row["logged"]["max_concurrency"]


def test_hybrid_two_gpu_launch_without_speculation_by_hand() -> None:
    # mitchross/talos-argocd-proxmox#1995: Qwen3.8-27B-FP8 on two RTX 3090 (TP 2), an fp8 cache,
    # prefix caching, 131,072 tokens a request. Per GPU a gated DeltaNet layer keeps 24 of its 48
    # value heads of a 128 x 128 state in float32 and the convolution's last 3 inputs of
    # (2 x 16 x 128 + 48 x 128) / 2 = 5,120 channels in BF16; a full layer caches a key and a
    # value of 2 of its 4 KV heads of 256, 1 byte each, per token.
    row = next(r for r in ROWS if r["id"] == "talos-1995-qwen38-27b-fp8-2x3090")
    text = _text_config("qwen3.8-27b")
    assert (text["linear_num_value_heads"], text["linear_num_key_heads"]) == (48, 16)
    assert text["layer_types"].count("full_attention") == 16 and text["num_hidden_layers"] == 64
    state = 24 * 128 * 128 * 4 + 3 * 5120 * 2
    token = 2 * 2 * 256 * 1
    block = -(-state // (16 * token)) * 16
    assert (state, block) == (1_603_584, 1568)
    # 16 full layers and 3 groups of 16 recurrent ones: 84 attention blocks and, in 'align'
    # mode, two a recurrent group per request; 208 blocks fit the printed count and
    # concurrency, and no other count does (an MTP layer would make groups of 17)
    per_request = -(-131_072 // block) + 3 * 2
    assert per_request == 90
    fits = [
        b
        for b in range(150, 260)
        if int(b * 131_072 / per_request) == row["logged"]["kv_cache_tokens"]
        and round(b / per_request, 2) == row["logged"]["max_concurrency"]
    ]
    assert fits == [208]
    # 208 pages of 16 layers x 1,568 tokens x 1 KiB: 4.98 GiB a GPU; the next launch of the same
    # deployment printed 4.99 GiB, the same 208 blocks, and 262,144 tokens a request take 174
    page = 16 * block * token
    later = next(r for r in ROWS if r["id"] == "talos-1998-qwen38-27b-fp8-2x3090-262k")
    blocks = int(later["logged"]["available_kv_gib"] * GIB) // page
    assert blocks == 208 and 208 * page / GIB == pytest.approx(4.98, abs=0.005)
    assert int(blocks * 262_144 / (168 + 6)) == later["logged"]["kv_cache_tokens"] == 313_367
    assert round(blocks / (168 + 6), 2) == later["logged"]["max_concurrency"]


def test_hybrid_moe_on_two_gpus_from_the_printed_memory_by_hand() -> None:
    # club-3090#858 as the benchmark table banks it: Qwen3.6-35B-A3B (NVFP4) on two RTX 5090,
    # TP 2, an fp8 cache, prefix caching, 262,144 tokens, 16.58 GiB printed a GPU. Per GPU a
    # gated DeltaNet layer keeps 16 of its 32 value heads of a 128 x 128 float32 state and the
    # last 3 inputs of 8,192 / 2 convolution channels in BF16; a full layer caches one of its
    # two KV heads of 256 for the key and the value, 1 byte each.
    row = next(r for r in ROWS if r["id"] == "club3090-858-qwen36-35b-a3b-nvfp4-2x5090")
    state = 16 * 128 * 128 * 4 + 3 * 4096 * 2
    token = 2 * 1 * 256 * 1
    block = -(-state // (16 * token)) * 16
    assert (state, block) == (1_073_152, 2096)
    # 10 full layers and 3 groups of 10 recurrent ones share pages of 10 layers
    blocks = int(row["logged"]["available_kv_gib"] * GIB) // (10 * block * token)
    per_request = -(-262_144 // block) + 3 * 2
    assert (blocks, per_request) == (1658, 132)
    assert int(blocks * 262_144 / per_request) == row["logged"]["kv_cache_tokens"] == 3_292_687


def test_hybrid_one_gpu_eager_launch_by_hand() -> None:
    # recipes#810's one RTX 5090: Qwen3.8-27B with an fp8 cache at 32,768 tokens a request. On
    # one GPU a DeltaNet layer keeps 48 value heads of a 128 x 128 float32 state and the last 3
    # inputs of 10,240 convolution channels in BF16; a full layer 4 KV heads of 256, 1 byte each.
    row = next(r for r in ROWS if r["id"] == "recipes-810-qwen38-27b-nvfp4-rtx5090-eager")
    state = 48 * 128 * 128 * 4 + 3 * 10240 * 2
    token = 2 * 4 * 256 * 1
    block = -(-state // (16 * token)) * 16
    per_request = -(-32_768 // block) + 3 * 2
    assert (block, per_request) == (1568, 27)
    fits = [b for b in range(40, 130) if int(b * 32_768 / per_request) == 91_022]
    assert fits == [75] and row["logged"]["kv_cache_tokens"] == 91_022
    # 75 pages of 16 layers x 1,568 tokens x 2 KiB: 3.59 GiB for the cache
    assert 75 * 16 * block * token / GIB == pytest.approx(3.59, abs=0.005)


def _text_config(model_id: str) -> dict:
    return catalog_entry(model_id)["config"]["text_config"]


def test_per_token_bytes_by_hand() -> None:
    # Llama-3.1-8B: 128 KiB per token in bf16, the figure every KV-cache explainer quotes.
    assert 32 * 2 * 8 * 128 * 2 == 128 * 1024
    # Qwen3-Coder-480B: 262,144 tokens need exactly 62 GiB, as vLLM printed (recipes#12).
    layers, kv_heads, head_dim = LAYERS_KV_HEADS_HEAD_DIM["Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8"]
    assert 262144 * layers * 2 * kv_heads * head_dim * 2 == 62 * GIB


def test_every_row_has_a_source() -> None:
    assert len(ROWS) >= 15
    for row in ROWS:
        assert row["source"].startswith("https://github.com/"), row["id"]
        assert row["source_note"], row["id"]
    current = [row for row in ROWS if row["generation"] == "v1-tokens"]
    assert len(current) >= 7


@pytest.mark.parametrize(
    "row",
    [row for row in _rows("kv_cache_tokens", "max_concurrency") if row["model"] not in SLIDING],
    ids=lambda r: r["id"],
)
def test_concurrency_is_tokens_over_max_model_len(row: dict) -> None:
    # V1 prints num_blocks x block_size tokens and num_blocks / ceil(max_model_len / block_size)
    # requests: for one full-attention group that is tokens / max_model_len to 2 decimals.
    logged = row["logged"]
    ratio = logged["kv_cache_tokens"] / logged["concurrency_tokens_per_request"]
    assert ratio == pytest.approx(logged["max_concurrency"], abs=0.0051)


@pytest.mark.parametrize("row", _rows("gpu_blocks", "max_concurrency"), ids=lambda r: r["id"])
def test_concurrency_is_blocks_over_max_model_len(row: dict) -> None:
    logged = row["logged"]
    ratio = logged["gpu_blocks"] * BLOCK / logged["concurrency_tokens_per_request"]
    assert ratio == pytest.approx(logged["max_concurrency"], abs=0.0051)
    if "max_tokens_in_kv_cache" in logged:
        assert logged["max_tokens_in_kv_cache"] == logged["gpu_blocks"] * BLOCK


@pytest.mark.parametrize(
    "row", _rows("total_gpu_memory_gib", "requested_gib"), ids=lambda r: r["id"]
)
def test_budget_is_total_times_utilization(row: dict) -> None:
    logged = row["logged"]
    requested = logged["total_gpu_memory_gib"] * row["args"]["gpu_memory_utilization"]
    assert requested == pytest.approx(logged["requested_gib"], abs=0.011)


@pytest.mark.parametrize("row", _rows("requested_gib", "available_kv_gib"), ids=lambda r: r["id"])
def test_available_is_budget_minus_profile(row: dict) -> None:
    logged = row["logged"]
    used = logged["weights_gib"] + logged["non_torch_gib"] + logged["activation_peak_gib"]
    assert logged["requested_gib"] - used == pytest.approx(logged["available_kv_gib"], abs=0.021)


@pytest.mark.parametrize(
    "row", _rows("peak_torch_memory_gib", "available_kv_gib"), ids=lambda r: r["id"]
)
def test_available_is_budget_minus_peak_v064(row: dict) -> None:
    # The late-2024 line prints the torch peak with the weights in it.
    logged = row["logged"]
    budget = logged["total_gpu_memory_gib"] * row["args"]["gpu_memory_utilization"]
    rest = budget - logged["peak_torch_memory_gib"] - logged["non_torch_gib"]
    assert rest == pytest.approx(logged["available_kv_gib"], abs=0.011)


def _logged_tokens(row: dict) -> int | None:
    logged = row["logged"]
    if logged.get("kv_cache_tokens") is not None:
        return logged["kv_cache_tokens"]
    if logged.get("gpu_blocks") is not None:
        return logged["gpu_blocks"] * BLOCK
    return None


CAPACITY_ROWS = [
    row
    for row in _rows("available_kv_gib")
    if row["model"] in LAYERS_KV_HEADS_HEAD_DIM and _logged_tokens(row) is not None
]


@pytest.mark.parametrize("row", CAPACITY_ROWS, ids=lambda r: r["id"])
def test_tokens_are_available_memory_over_bytes_per_token(row: dict) -> None:
    per_token = _per_rank_bytes_per_token(row)
    blocks = int(row["logged"]["available_kv_gib"] * GIB // (per_token * BLOCK))
    expected = blocks * BLOCK
    logged = _logged_tokens(row)
    if row["tensor_parallel_size"] * row.get("pipeline_parallel_size", 1) == 1:
        # the printed GiB has 2 decimals: +-0.005 GiB
        assert logged == pytest.approx(expected, rel=0.005)
    else:
        # vLLM keeps the smallest block count over the ranks; the log shows one rank's memory
        assert 0.97 * expected <= logged <= 1.005 * expected


@pytest.mark.parametrize(
    "row",
    [row for row in _rows("needed_kv_gib") if row["model"] in LAYERS_KV_HEADS_HEAD_DIM],
    ids=lambda r: r["id"],
)
def test_needed_memory_and_estimated_length(row: dict) -> None:
    logged = row["logged"]
    per_token = _per_rank_bytes_per_token(row)
    assert logged["needed_for_tokens"] * per_token / GIB == pytest.approx(
        logged["needed_kv_gib"], abs=0.005
    )
    # the longest length whose blocks fit the available memory (binary search in vLLM)
    fitting = int(logged["available_kv_gib"] * GIB // (per_token * BLOCK)) * BLOCK
    assert logged["estimated_max_model_len"] == pytest.approx(fitting, rel=0.005)


def test_same_launch_same_bytes_per_token() -> None:
    # A thread that shows a refused and a started launch of one model (vllm#25350 and
    # spark-vllm-docker#396 name no catalog model) must agree on the bytes per token: the
    # refusal's needed memory over its length, the start's available memory over its tokens.
    # 1.5 %: the tokens are the smallest block count over the workers, the memory one worker's.
    pairs = 0
    for refused in _rows("needed_kv_gib"):
        for started in _rows("kv_cache_tokens", "available_kv_gib"):
            if started["source"] != refused["source"]:
                continue
            per_token = started["logged"]["available_kv_gib"] / started["logged"]["kv_cache_tokens"]
            needed = refused["logged"]["needed_kv_gib"] / refused["logged"]["needed_for_tokens"]
            assert per_token == pytest.approx(needed, rel=0.015), started["id"]
            pairs += 1
    assert pairs >= 2
    # vllm#25350: 48 KiB per token, an fp8 cache of 48 layers x 4 KV heads x head_dim 128 x 2
    refused = next(row for row in ROWS if row["id"] == "vllm-25350-fp8-221k")["logged"]
    per_token = refused["needed_kv_gib"] * GIB / refused["needed_for_tokens"]
    assert per_token == pytest.approx(48 * 2 * 4 * 128 * 1, rel=0.005)


def test_piecewise_only_launches_are_recorded_not_checked() -> None:
    # with speculative decoding on FlashInfer's backend (UNIFORM_SINGLE_TOKEN_DECODE) vLLM
    # falls back to PIECEWISE graphs alone: no FULL count in the log; gpumem's estimate
    # follows FULL_AND_PIECEWISE, so these rows name no catalog model
    rows = [row for row in ROWS if row["logged"].get("cudagraph_mode") == "PIECEWISE"]
    assert len(rows) >= 3
    for row in rows:
        assert row["args"]["speculative_config"]
        assert "cudagraph_full_graphs" not in row["logged"]
        assert row["catalog_model"] is None
        assert 0 < row["logged"]["cudagraph_estimate_gib"] < 0.2


def test_qwen38_fp8_launches_name_the_checkpoint_as_shipped() -> None:
    # the official FP8 release of Qwen3.8-27B is its own catalog entry (its config, with the
    # modules it keeps in BF16), so these launches take no catalog_dtype; vLLM printed 14.28 GiB
    # of weights a GPU on two RTX 5090, 14.46 on two RTX 3090 (Marlin's layout on Ampere)
    # (club-3090#1036 runs MTP speculative decoding with the module as the checkpoint ships it)
    rows = [r for r in ROWS if r["model"] == "Qwen/Qwen3.8-27B-FP8" and r["catalog_model"]]
    assert {row["id"] for row in rows} == {
        "club3090-1036-qwen38-27b-fp8-2x3090",
        "recipes-810-qwen38-27b-fp8-2x5090",
        "talos-1995-qwen38-27b-fp8-2x3090",
        "talos-1998-qwen38-27b-fp8-2x3090-262k",
    }
    for row in rows:
        assert (row["catalog_model"], row["catalog_dtype"]) == ("qwen3.8-27b-fp8", None)
        assert catalog_entry(row["catalog_model"])["hf_repo"] == row["model"]
    printed = sorted(
        row["logged"].get("model_loading_gib")
        for row in rows
        if row["logged"].get("model_loading_gib")
    )
    assert printed == [14.28, 14.46]
