"""The serving page's figures (gpumem/sphinxext/serving.py), checked by hand."""

import json
from pathlib import Path

import pytest

from gpumem.errors import InvalidValueError, UnknownNameError
from gpumem.sphinxext.selection import Selection
from gpumem.sphinxext.serving import serve_figure, serving_logs_table

NBSP = "\u00a0"


def figure(**options: str) -> str:
    return serve_figure(language="en", unit="B", **options)


def test_first_full_capture_by_hand() -> None:
    # FlashAttention 3's FP32 output and log-sum-exp for 32 splits of each of Llama 3.1 8B's
    # 32 query heads (128 values + 1) at the largest FULL batch on an H100 (512 tokens)
    accumulators = 32 * 512 * 32 * (128 + 1) * 4
    assert accumulators == 258 * 2**20
    shown = serve_figure(
        language="en",
        model="llama-3.1-8b",
        gpu="h100-sxm",
        what="full-accumulators",
        unit="MiB",
    )
    assert shown == f"258{NBSP}MiB"


@pytest.mark.parametrize(
    ("model", "tp", "expected"),
    [
        # Qwen3-Next: 8,192 convolution channels (16 key heads x 128 x 2 + 32 value heads x
        # 128) x 3 past inputs in BF16, 32 value heads x 128 x 128 in BF16, halved by TP 2
        ("qwen3-next-80b-a3b", 2, (8192 * 3 * 2 + 32 * 128 * 128 * 2) // 2),
        # Qwen3.6-35B-A3B: the same channels and heads, the temporal state in FP32
        ("qwen3.6-35b-a3b", 1, 8192 * 3 * 2 + 32 * 128 * 128 * 4),
    ],
)
def test_recurrent_state_by_hand(model: str, tp: int, expected: int) -> None:
    shown = figure(model=model, gpu="h200", tp=str(tp), what="state")
    assert shown == f"{expected:,}{NBSP}B"


def test_unknown_figure_names_the_choices() -> None:
    with pytest.raises(UnknownNameError, match="full-accumulators"):
        figure(model="llama-3.1-8b", gpu="h100-sxm", what="accumulators")


def test_language_model_only_switch_names_its_choices() -> None:
    launch = {"model": "qwen3.8-27b", "gpu": "rtx-5090", "tp": "2", "what": "weights"}
    with pytest.raises(UnknownNameError, match="language_model_only"):
        figure(**launch, language_model_only="yes")
    # without the vision tower (27 blocks of 1,152 and its merger, in BF16 here) the weights
    # are smaller
    assert figure(**launch, language_model_only="on") != figure(**launch)


def test_engine_facts_from_the_engine_rows() -> None:
    from gpumem.sphinxext.serving import engine_fact

    # CacheConfig.gpu_memory_utilization: 0.92 from vLLM 0.20.0, 0.9 in 0.19.0
    assert engine_fact(language="en", key="gpu_memory_utilization") == "0.92"
    assert engine_fact(language="en", key="gpu_memory_utilization", engine="0.19.0") == "0.9"
    # FlashInfer's workspace buffer (394 MiB) and a decode wrapper's integer one (8 MiB)
    shown = engine_fact(
        language="en", key="cudagraph_estimate.flashinfer_workspace_bytes", unit="B"
    )
    assert shown == f"{(394 + 8) * 2**20:,}{NBSP}B"
    with pytest.raises(UnknownNameError, match="cudagraph_estimate.nothing"):
        engine_fact(language="en", key="cudagraph_estimate.nothing")
    # the release the row vllm follows, as serving.json names it; with a unit it is refused
    data = json.loads((Path(__file__).parents[1] / "gpumem/data/serving.json").read_text())
    row = next(r for r in data["engines"] if r["id"] == "vllm")
    shown = engine_fact(language="en", key="model_runner.row_release")
    assert shown == row["model_runner"]["row_release"]
    with pytest.raises(InvalidValueError):
        engine_fact(language="en", key="model_runner.row_release", unit="GiB")


# A first start on vLLM's second model runner compiles the model inside the memory profile:
# 259,523 bytes per unit of the hidden size (serving.json's compile_transient), 4,096 for Qwen3-8B.
COMPILE_TERM = 259_523 * 4_096
FIT_PAIR = {"model": "qwen3-8b", "gpu": "rtx-4090", "engine": "0.27.1", "max_model_len": "8192"}


def _bytes(shown: str) -> int:
    return int(shown.removesuffix(f"{NBSP}B").replace(",", ""))


def test_compile_cache_option_by_hand() -> None:
    assert figure(**FIT_PAIR, what="compile") == f"{COMPILE_TERM:,}{NBSP}B"  # cold by default
    assert figure(**FIT_PAIR, compile_cache="warm", what="compile") == f"0{NBSP}B"
    cold = _bytes(figure(**FIT_PAIR, compile_cache="cold", what="available"))
    warm = _bytes(figure(**FIT_PAIR, compile_cache="warm", what="available"))
    assert warm - cold == COMPILE_TERM
    # blocks of 16 tokens of 36 layers x 8 KV heads x 128 x (K, V) x 2 bytes: the restart
    # holds the blocks the term took, 1,063,006,208 / 2,359,296 = 450.6, so 450 or 451 more
    tokens = {
        cache: _bytes(figure(**FIT_PAIR, compile_cache=cache, what="tokens"))
        for cache in ("cold", "warm")
    }
    assert tokens["warm"] - tokens["cold"] in (450 * 16, 451 * 16)


def test_compile_cache_option_names_what_it_takes() -> None:
    with pytest.raises(InvalidValueError, match="'hot'"):
        figure(**FIT_PAIR, compile_cache="hot", what="tokens")
    # vLLM 0.19 runs every model on the first runner, whose fitted terms hold their compile state
    with pytest.raises(InvalidValueError, match="compile_cache"):
        figure(**{**FIT_PAIR, "engine": "0.19.0"}, compile_cache="warm", what="tokens")


def _starts(language: str) -> tuple[str, dict[tuple[str, str], set[str]]]:
    """The launch table's runner and compile-cache column: its header, and its cells by launch
    source and model."""
    selection = Selection(params=(), dtypes=(), gpus=(), unit="GiB", kinds=("v1-tokens", "vllm"))
    _title, header, rows = serving_logs_table(selection, language)
    column = len(header) - 2  # before the set
    cells: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        cells.setdefault((row[0], row[1]), set()).add(row[column])
    return header[column], cells


def test_launch_table_names_runner_and_compile_cache() -> None:
    header, cells = _starts("en")
    assert header == "Model runner; compile cache"
    # the fit pair: the same command twice, a first compile and then the cache loaded
    assert cells[("coldstart-recon-worker@5e10909", "Qwen3-8B")] == {
        "second runner; cold (compiles)",
        "second runner; warm (cached)",
    }
    # --enforce-eager under 0.27.1: a dense Qwen3 on the second runner, a mixture of experts
    # on the first
    assert cells[("Handoffrepair@345eaa0", "Qwen3-8B")] == {
        "second runner; eager: compiles nothing"
    }
    assert cells[("Handoffrepair@345eaa0", "Qwen3-30B-A3B")] == {
        "first runner; eager: compiles nothing"
    }
    # no compile line: a first start on the second runner; the first runner takes none
    assert cells[("website@8b1d2a5", "Qwen3-32B")] == {"second runner; not shown: taken as cold"}
    assert cells[("LMCache#3430", "Qwen3-8B")] == {"first runner; not shown"}


def test_serving_page_in_chinese(build_root) -> None:
    """The column and the role's restart figure in a Chinese build."""
    page = """---
orphan: true
---
# 服务

重启：{gpumem}`serve model=qwen3-8b gpu=rtx-4090 engine=0.27.1 max_model_len=8192
compile_cache=warm what=tokens`。

```{gpumem-table} serving-logs
:kinds: v1-tokens vllm
```
"""
    out, warnings = build_root("test-gpumem", "html", "zh_CN", extra={"serving.md": page})
    assert warnings == ""
    html = (out / "serving.html").read_text(encoding="utf-8")
    assert "模型运行器；编译缓存" in html
    assert "gpumem-serving-logs" in html  # the kind's class, which the site's CSS sizes by
    assert "第二代运行器；冷（编译）" in html and "第一代运行器；eager 模式：不编译" in html
    warm = _bytes(figure(**FIT_PAIR, compile_cache="warm", what="tokens"))
    assert f"重启：{warm}。" in html  # Chinese writes counts without separators


def test_serving_check_gives_one_launchs_signed_error() -> None:
    # Qwen3-14B on one L40S under vLLM 0.28.0 (ddiiwoong): 75,824 tokens printed, and the
    # error the serve module reports for it, to one decimal, with its sign
    from gpumem.serve import check_logs
    from gpumem.sphinxext.quantities import compute

    log = "ddiiwoong-capstone-qwen3-14b-l40s-v0.28.0"
    check = next(c for c in check_logs() if c.log == log)
    assert check.logged_tokens == 75824
    expected = f"{100 * check.token_error:+.1f}%".replace("-", "\u2212")
    assert compute(f"serving-check stat=error log={log}", "en", "GB") == expected
    with pytest.raises(UnknownNameError):
        compute("serving-check stat=error log=no-such-launch", "en", "GB")


def check(text: str, language: str = "en") -> str:
    from gpumem.sphinxext.quantities import compute

    return compute(text, language, "GB")


# coldstart-recon's fit pair: the same command on one RTX 4090 under vLLM 0.27.1, a first
# compile and then a restart that loads the compiled model
COLD, WARM = (
    "coldstart-recon-qwen3-8b-rtx4090-run0-cold",
    "coldstart-recon-qwen3-8b-rtx4090-run1-warm",
)


def test_serving_check_takes_a_launch_as_a_restart() -> None:
    def tokens(log: str, *option: str) -> int:
        shown = check(f"serving-check stat=predicted split=fit log={log} {' '.join(option)}")
        return int(shown.replace(",", ""))

    # the first start checked as a restart is the restart's command: the same prediction
    assert tokens(COLD, "compile_cache=warm") == tokens(WARM)
    # and it gains the blocks of the compile term (as test_compile_cache_option_by_hand counts)
    assert tokens(WARM) - tokens(COLD) in (450 * 16, 451 * 16)
    assert tokens(WARM, "compile_cache=cold") == tokens(COLD)
    with pytest.raises(UnknownNameError, match="compile_cache"):
        check(f"serving-check stat=error split=fit log={COLD} compile_cache=hot")
    # LMCache#3430: Qwen3-8B under 0.19, the first runner, whose fitted terms hold their start
    with pytest.raises(InvalidValueError, match="second runner"):
        check("serving-check stat=error log=lmcache-3430-qwen3-8b-rtx-a5000 compile_cache=warm")


# llm-d-planner's sweep of vLLM 0.19.0 on H100s: its launches with FP8 weights
SWEEP_FP8 = (
    "llmd-planner-v0.19.0-fp8dyn-llama-3-3-70b-tp4pp1dp1-8192",
    "llmd-planner-v0.19.0-fp8dyn-llama-3-3-70b-tp2pp1dp1-8192",
    "llmd-planner-v0.19.0-meta-llama-llama-3-tp1pp1dp1-8192-qfp8",
    "llmd-planner-v0.19.0-fp8dyn-redhatai-qwen2-5-tp1pp1dp1-8192",
)


def test_serving_check_selects_launches_by_their_rows() -> None:
    chosen = "dtype=fp8 source=llm-d-planner"
    for log in SWEEP_FP8:
        assert check(f"serving-check stat=error log={log} {chosen}")
    assert int(check(f"serving-check stat=count {chosen}")) >= len(SWEEP_FP8)
    # the sweep's BF16 Llama 3.1 8B is not among them
    bf16 = "llmd-planner-v0.19.0-meta-llama-llama-tp1pp1dp1-8192-dtbf16"
    with pytest.raises(UnknownNameError):
        check(f"serving-check stat=error log={bf16} {chosen}")
    # enginrect/llmso's launches under WSL2; a platform no row names is refused with those named
    assert check("serving-check stat=error log=llmso-qwen25-05b-rtx4090-wsl2 platform=wsl2")
    with pytest.raises(UnknownNameError, match="wsl2"):
        check("serving-check stat=count platform=wsl3")


def test_log_fact_prints_what_the_log_printed() -> None:
    # llm-d-planner's Qwen2.5-72B on two H100s: "Available KV cache memory: 3.04 GiB",
    # "GPU KV cache size: 19,920 tokens"
    log = "llmd-planner-v0.19.0-qwen-qwen2-5-72b-instruc-tp2pp1dp1-8192"
    assert check(f"log-fact log={log} key=available_kv_gib") == f"3.04{NBSP}GiB"
    assert check(f"log-fact log={log} key=kv_cache_tokens") == "19,920"
    assert check(f"log-fact log={log} key=kv_cache_tokens", "zh_CN") == "19920"
    with pytest.raises(UnknownNameError, match="available_kv_gib"):
        check(f"log-fact log={log} key=available")
    with pytest.raises(UnknownNameError):
        check("log-fact log=no-such-launch key=available_kv_gib")


def test_log_fact_differences() -> None:
    # i-serve's L40S run 2: the server at 512 batched tokens prints "16.7 GiB for consumed
    # memory", the FlashInfer server "15.54 GiB"; the first prints "Model loading took 15.27 GiB"
    cold = "iserve-run2-qwen3-8b-l40s-512-cold"
    other = "iserve-run2-qwen3-8b-l40s-flashinfer-cold"
    assert check(f"log-fact log={cold} key=consumed_gib minus_log={other}") == f"1.16{NBSP}GiB"
    shown = check(f"log-fact log={cold} key=consumed_gib minus_key=model_loading_gib")
    assert shown == f"1.43{NBSP}GiB"
    # 161,552 and 161,504 tokens: a count less a count
    assert check(f"log-fact log={cold} key=kv_cache_tokens minus_log={other}") == "-8,281"
    with pytest.raises(InvalidValueError, match="minus_key"):
        check(f"log-fact log={cold} key=kv_cache_tokens minus_key=consumed_gib")


def test_pipeline_stages_take_their_own_layers() -> None:
    # Llama 3.1 8B's 32 layers over two stages: 16 a stage, less than the whole model, and
    # more than half of it (the token embedding or the LM head stays whole on its stage)
    one = _bytes(figure(model="llama-3.1-8b", gpu="h100-sxm", what="weights"))
    half = _bytes(figure(model="llama-3.1-8b", gpu="h100-sxm", pp="2", what="weights"))
    assert one / 2 < half < one


def test_cuda_graph_counts_by_hand() -> None:
    # vLLM's capture sizes up to 512 tokens: 1, 2, 4, then steps of 8 to 248 and of 16 to
    # 512; with one draft token each FULL size is rounded up to a multiple of 2 and kept once
    sizes = [1, 2, 4, *range(8, 256, 8), *range(256, 513, 16)]
    rounded = {-(-size // 2) * 2 for size in sizes}
    launch = {"model": "deepseek-v3", "gpu": "h200", "tp": "8"}
    assert figure(**launch, what="full-graphs") == str(len(sizes)) == "51"
    assert figure(**launch, mtp="1", what="full-graphs") == str(len(rounded)) == "50"


def test_fused_moe_workspace_by_hand() -> None:
    # Qwen3-235B-A22B over four GPUs at 8,192 batched tokens: each token goes to 8 experts,
    # whose outputs and activated product span the hidden size, 4,096 (above the expert MLP's
    # 1,536 / 4 and 2 x 1,536 / 4), twice, in BF16; a dense model keeps none
    launch = {"gpu": "rtx-pro-6000", "max_model_len": "32768", "engine": "0.27.1"}
    shown = figure(model="qwen3-235b-a22b", dtype="fp8", tp="4", what="moe-workspace", **launch)
    assert shown == f"{8192 * 8 * (4096 + 4096) * 2:,}{NBSP}B"
    assert figure(model="qwen3-32b", what="moe-workspace", **launch) == f"0{NBSP}B"


def test_blocks_a_printed_token_count_implies() -> None:
    # club-3090's dual-max compose: blocks of 1,600 tokens, 179 a request at 262,144 tokens;
    # #594 printed int(205 / 179 x 262,144) = 300,220 tokens, #1036 int(185 / 179 x ...) =
    # 270,930; a block holds 17 layers' pages of 1,600 tokens x 2 (K, V) x 2 KV heads a GPU
    # (4 over TP 2) x 256 x 1 byte (fp8)
    assert int(205 / 179 * 262144) == 300220 and int(185 / 179 * 262144) == 270930
    old, new = "club3090-594-qwen36-27b-fp8-2x3090", "club3090-1036-qwen38-27b-fp8-2x3090"
    assert check(f"log-fact log={old} key=blocks") == "205"
    assert check(f"log-fact log={new} key=blocks") == "185"
    apart = check(f"log-fact log={old} key=blocks minus_log={new} unit=B")
    assert apart == f"{20 * 17 * 1600 * 2 * 2 * 256:,}{NBSP}B"
    # recipes#810's 8-sequence launch: int(126 / 27 x 32,768) = 152,917 tokens; 16 layers a
    # group, pages of 3,211,264 bytes (the source's figures)
    eight = "recipes-810-qwen38-27b-nvfp4-rtx5090-eager-text-only-8-seqs"
    assert check(f"log-fact log={eight} key=blocks") == "126"
    assert check(f"log-fact log={eight} key=blocks unit=B") == f"{126 * 16 * 3211264:,}{NBSP}B"
    assert check(f"log-fact log={eight} key=blocks unit=GiB") == f"6.03{NBSP}GiB"
    # a count of blocks less a memory is refused; a log printing blocks of 16, not tokens, too
    with pytest.raises(InvalidValueError, match="minus_key"):
        check(f"log-fact log={eight} key=blocks minus_key=kv_cache_tokens")
    with pytest.raises(UnknownNameError, match="kv_cache_tokens"):
        check("log-fact log=vllm-10517-llama31-8b-3090-20k key=blocks")


def test_memory_outside_pytorch_is_the_engine_rows() -> None:
    # serving.json: the second runner's memory outside PyTorch on one GPU, 124,603,924 bytes
    # (fitted on the compile term's pair), the first runner's 0.25 GiB for 0.17 to 0.19
    assert figure(model="qwen3-8b", gpu="l40s", what="non-torch") == f"124,603,924{NBSP}B"
    shown = figure(model="qwen3-8b", gpu="l40s", what="non-torch", engine="vllm-0.17")
    assert shown == f"{2**28:,}{NBSP}B"


def test_cudagraph_error_is_a_signed_size() -> None:
    # the CUDA-graph estimate's error of a launch is gpumem's estimate less the printed one
    log = "llmd-planner-v0.19.0-qwen-qwen2-5-72b-instruc-tp2pp1dp1-8192"
    predicted = check(f"serving-check stat=predicted measure=cudagraph log={log}")
    printed = check(f"log-fact log={log} key=cudagraph_estimate_gib")  # 1.63 GiB
    assert printed == f"1.63{NBSP}GiB"
    difference = float(predicted.split(NBSP)[0]) - 1.63
    shown = check(f"serving-check stat=error measure=cudagraph log={log}")
    assert shown[0] == ("+" if difference >= 0 else "\u2212")
    assert abs(float(shown[1:].split(NBSP)[0]) - abs(difference)) <= 0.01


def test_signed_size() -> None:
    from gpumem.sphinxext.formatting import signed_size

    assert signed_size(-1.5 * 2**30, "GiB") == f"\u22121.5{NBSP}GiB"
    assert signed_size(0.27 * 2**30, "GiB") == f"+0.27{NBSP}GiB"


# recipes#810's one-RTX-5090 section: three --enforce-eager launches of Inferact's NVFP4
# Qwen3.8-27B, with the vision tower, without it, and without it at 8 sequences
RECIPE_ONE_GPU = (
    "recipes-810-qwen38-27b-nvfp4-rtx5090-eager",
    "recipes-810-qwen38-27b-nvfp4-rtx5090-eager-text-only",
    "recipes-810-qwen38-27b-nvfp4-rtx5090-eager-text-only-8-seqs",
)


def test_serving_check_takes_a_launch_at_another_share() -> None:
    def tokens(log: str, *option: str) -> int:
        return int(
            check(f"serving-check stat=predicted log={log} {' '.join(option)}").replace(",", "")
        )

    for log in RECIPE_ONE_GPU:
        # the section's command leaves vLLM's default share, 0.92
        assert tokens(log, "gpu_memory_utilization=0.92") == tokens(log)
        assert tokens(log, "gpu_memory_utilization=0.945") > tokens(log)
    # the 8-sequence pool the section printed, int(126 / 27 x 32,768), at a share of 0.945
    assert tokens(RECIPE_ONE_GPU[2], "gpu_memory_utilization=0.945") == 126 * 32768 // 27
    with pytest.raises(InvalidValueError):
        check(f"serving-check stat=error log={RECIPE_ONE_GPU[0]} gpu_memory_utilization=most")


MTP_LAUNCH = {
    "model": "qwen3.8-27b-fp8",
    "gpu": "rtx-3090",
    "tp": "2",
    "kv_dtype": "fp8_e4m3",
    "max_model_len": "262144",
    "max_num_seqs": "2",
    "max_num_batched_tokens": "8192",
    "mtp": "3",
    "what": "buffers",
}


def test_runner_buffers_by_hand() -> None:
    # club-3090#1036's launch on the first runner: its input embeddings and the drafter's
    # hidden states and input embeddings, 8,192 rows of 5,120 in BF16 each, counted from 0.27.1
    assert figure(**MTP_LAUNCH, engine="0.27.1") == f"{3 * 8192 * 5120 * 2:,}{NBSP}B"
    assert figure(**MTP_LAUNCH, engine="0.24.0") == f"0{NBSP}B"


def test_piecewise_accumulators_by_hand() -> None:
    # vLLM 0.29's second runner on an H100: FlashAttention 3's FP32 output and log-sum-exp for
    # 32 splits of Qwen3-8B's 32 query heads (128 values + 1) at the largest piecewise batch,
    # 512 tokens; an L40S runs FlashAttention 2, which keeps none
    launch = {"model": "qwen3-8b", "engine": "0.29.0", "what": "piecewise-accumulators"}
    assert figure(**launch, gpu="h100-sxm") == f"{32 * 512 * 32 * 129 * 4:,}{NBSP}B"
    assert figure(**launch, gpu="l40s") == f"0{NBSP}B"
