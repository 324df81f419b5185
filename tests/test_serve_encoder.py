"""gpumem.serve: the vision encoder vLLM profiles before the language model, by hand."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gpumem.catalog import load_model
from gpumem.cli import main
from gpumem.errors import InvalidValueError
from gpumem.serve import check_log, serve
from gpumem.vllm_logs import logs

# Qwen3.8-27B's vision_config (config.json): hidden 1152, MLP 4304, 16 heads, 16-pixel patches
# of 2 frames and 3 channels, 2 x 2 patches merged into one token of the language model's
# 5,120 values; its preprocessor_config.json keeps images up to 16,777,216 pixels and its
# video_preprocessor_config.json videos up to 25,165,824 over 2 frames.
HIDDEN, MLP, HEADS, OUT = 1152, 4304, 16, 5120
IMAGE_TOKENS = 16_777_216 // (16 * 2) ** 2  # one token per 32 x 32 pixels
VIDEO_TOKENS = 25_165_824 // 2 // (16 * 2) ** 2  # two frames, one temporal patch deep
PATCHES = IMAGE_TOKENS * 2 * 2
#: talos-argocd-proxmox#1998's launch (vLLM 0.27.1, two RTX 3090, 16 images a prompt)
TALOS = {
    "tp": 2,
    "dtype": "fp8",
    "kv_dtype": "fp8_e4m3",
    "gpu_memory_utilization": 0.92,
    "max_model_len": 262144,
    "max_num_seqs": 3,
    "max_num_batched_tokens": 8192,
    "engine_id": "0.27.1",
    "enable_prefix_caching": True,
}


def _talos(**changes: object):
    return serve("qwen3.8-27b", "rtx-3090", **{**TALOS, **changes})


def test_the_largest_image_and_video_by_hand() -> None:
    assert (IMAGE_TOKENS, VIDEO_TOKENS, PATCHES) == (16_384, 12_288, 65_536)
    values = _talos(limit_mm_per_prompt={"image": 16}).values
    assert values["encoder_image_tokens"] == IMAGE_TOKENS
    assert values["encoder_video_tokens"] == VIDEO_TOKENS
    # the image has more tokens, so vLLM profiles images
    assert values["encoder_item_tokens"] == IMAGE_TOKENS


def test_one_image_fills_the_default_encoder_budget() -> None:
    # the budget is max(max_num_batched_tokens 8192, one item of 16,384 tokens): one image
    result = _talos(limit_mm_per_prompt={"image": 16})
    assert (result.encoder_items, result.encoder_item_tokens) == (1, IMAGE_TOKENS)
    assert result.values["encoder_patches"] == PATCHES


@pytest.mark.parametrize(
    ("batched", "seqs", "images", "items"),
    [
        (65536, 2, 16, 4),  # the budget holds 4; 2 requests of min(16, 262,144 // 16,384)
        (65536, 2, 1, 2),  # 2 requests of 1 image
        (65536, 1, 0, 5),  # no image: videos of 12,288 tokens; 65,536 // 12,288 = 5
        (8192, 3, 0, 1),  # the budget, max(8192, 12,288), holds one video
    ],
)
def test_items_in_the_profiling_batch(batched: int, seqs: int, images: int, items: int) -> None:
    result = _talos(
        max_num_batched_tokens=batched, max_num_seqs=seqs, limit_mm_per_prompt={"image": images}
    )
    assert result.encoder_items == items
    assert result.encoder_item_tokens == (IMAGE_TOKENS if images else VIDEO_TOKENS)


def test_the_working_set_at_tp2_by_hand() -> None:
    values = _talos(limit_mm_per_prompt={"image": 16}).values
    # per patch, in values of 2 bytes: position embeddings (1152) and rotary cos and sin
    # (72); in a block, the input, the norm, QKV (3 x 576), the queries' and keys' contiguous
    # copy and rotated copy (2 x 2 x 576), the attention output (576), the projection and its
    # all-reduce (2 x 1152): 9,216, more than the MLP's 3 x 1152 + 2 x 2152 = 7,760 or
    # 5 x 1152 + 2152 = 7,912
    per_patch = HIDDEN + HIDDEN // HEADS + max(9216, 7760, 7912)
    assert values["encoder_workspace"] == PATCHES * per_patch * 2 == 1_368_391_680
    assert values["encoder_pixels"] == PATCHES * 3 * 2 * 16 * 16 * 2 == 201_326_592
    assert values["encoder_outputs"] == IMAGE_TOKENS * OUT * 2 == 167_772_160


def test_the_working_set_at_tp1_by_hand() -> None:
    values = _talos(tp=1, limit_mm_per_prompt={"image": 16}).values
    # attention: input, norm, QKV 3 x 1152, contiguous and rotated queries and keys 2 x 2 x
    # 1152, output 1152, projection 1152 = 11 x 1152 = 12,672; the MLP: 3 x 1152 + 2 x 4304
    # = 12,064 or 4 x 1152 + 4304 = 8,912
    per_patch = HIDDEN + HIDDEN // HEADS + max(11 * HIDDEN, 3 * HIDDEN + 2 * MLP, 4 * HIDDEN + MLP)
    assert per_patch == 13_896
    assert values["encoder_workspace"] == PATCHES * per_patch * 2


@pytest.mark.parametrize(
    ("changes", "encoder_larger"),
    [
        # 32,768 tokens a step: the language model's pass beside the outputs
        ({"max_num_batched_tokens": 32_768}, False),
        ({"tp": 1, "max_num_batched_tokens": 2048}, True),  # the tower's 65,536 patches
    ],
)
def test_the_profiled_peak_holds_the_encoder_then_its_outputs(
    changes: dict, encoder_larger: bool
) -> None:
    v = _talos(limit_mm_per_prompt={"image": 16}, **changes).values
    language = max(v["engine_prefill_workspace"], v["engine_sampler_run"])
    assert v["fused_moe_workspace"] == 0  # a dense model
    after = v["encoder_outputs"] + language
    assert (v["encoder_workspace"] > after) is encoder_larger
    assert v["engine_profile_peak"] == v["encoder_pixels"] + max(v["encoder_workspace"], after)
    without = _talos(language_model_only=True, **changes).values
    assert without["engine_profile_peak"] == language


def test_language_model_only_profiles_no_encoder_and_loads_no_tower() -> None:
    on, off = _talos(), _talos(language_model_only=True)
    assert off.encoder_items == 0
    assert off.values["encoder_pixels"] == off.values["encoder_workspace"] == 0
    # vLLM builds no vision tower then: its 460,730,096 parameters in FP8 over two GPUs
    spec = load_model("qwen3.8-27b")
    assert spec.extra["vision_parameters"] == 460_730_096
    assert on.weights_bytes - off.weights_bytes == 460_730_096 // 2
    zeros = _talos(limit_mm_per_prompt={"image": 0, "video": 0})
    assert zeros.kv_tokens == off.kv_tokens
    assert off.kv_tokens > on.kv_tokens


def test_a_text_model_is_unchanged() -> None:
    result = serve("llama-3.1-8b", "h100-sxm")
    assert result.encoder_items == 0
    assert result.values["encoder_pixels"] == result.values["encoder_workspace"] == 0


@pytest.mark.parametrize(
    ("model", "changes", "name"),
    [
        ("qwen3.8-27b", {"limit_mm_per_prompt": {"audio": 1}}, "limit_mm_per_prompt"),
        ("qwen3.8-27b", {"limit_mm_per_prompt": {"image": -1}}, "limit_mm_per_prompt[image]"),
        ("qwen3.8-27b", {"limit_mm_per_prompt": {"image": True}}, "limit_mm_per_prompt[image]"),
        ("qwen3.8-27b", {"language_model_only": "yes"}, "language_model_only"),
        ("llama-3.1-8b", {"limit_mm_per_prompt": {"image": 2}}, "limit_mm_per_prompt"),
        ("llama-3.1-8b", {"language_model_only": True}, "language_model_only"),
    ],
)
def test_bad_limits_are_refused_by_name(model: str, changes: dict, name: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        serve(model, "h100-sxm", **changes)
    assert caught.value.name == name


@pytest.mark.parametrize(
    "argv",
    [
        ["--limit-mm-per-prompt", "image=2"],
        ["--limit-mm-per-prompt", '{"image": -1}'],
        ["--limit-mm-per-prompt", '{"audio": 0}'],
    ],
)
def test_cli_refuses_bad_limits_in_one_line(capsys, argv: list[str]) -> None:
    code = main(["serve", "qwen3.8-27b", "--gpu", "rtx-5090", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and not out
    assert err.count("\n") == 1 and "error" in err and "limit" in err


def test_cli_refusal_in_chinese() -> None:
    argv = ["serve", "qwen3.8-27b", "--gpu", "rtx-5090", "--limit-mm-per-prompt", "x"]
    done = subprocess.run(
        [sys.executable, "-m", "gpumem", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "GPUMEM_LANG": "zh_CN"},
    )
    assert done.returncode == 2 and "应为各模态的数量" in done.stderr


def test_cli_takes_the_limits(capsys) -> None:
    argv = ["serve", "qwen3.8-27b", "--gpu", "rtx-5090", "--json"]
    assert main([*argv, "--limit-mm-per-prompt", '{"image": 2, "video": 0}']) == 0
    assert '"encoder_items": 1' in capsys.readouterr().out
    assert main([*argv, "--language-model-only"]) == 0
    assert '"encoder_items": 0' in capsys.readouterr().out


# --- the published launches -------------------------------------------------------------------
ROWS = {row["id"]: row for row in logs()}


@pytest.mark.parametrize(
    ("log", "limits"),
    [
        ("talos-1995-qwen38-27b-fp8-2x3090", {"image": 16}),
        ("talos-1998-qwen38-27b-fp8-2x3090-262k", {"image": 16}),
        ("club3090-612-qwen36-35b-a3b-nvfp4-rtx5090", {"image": 2, "audio": 0}),
        ("club3090-652-qwen36-35b-a3b-nvfp4-rtx5090", {"image": 2, "audio": 0}),
        ("club3090-858-qwen36-35b-a3b-nvfp4-2x5090", {"image": 2, "audio": 0}),
    ],
)
def test_rows_record_their_limits(log: str, limits: dict) -> None:
    assert ROWS[log]["args"]["limit_mm_per_prompt"] == limits


@pytest.mark.parametrize(
    "log", ["talos-1995-qwen38-27b-fp8-2x3090", "talos-1998-qwen38-27b-fp8-2x3090-262k"]
)
def test_fp8_e4m3_is_the_fp8_cache(log: str) -> None:
    # the deployment writes --kv-cache-dtype fp8_e4m3; 1,568-token blocks are an FP8 cache's
    row = ROWS[log]
    assert row["args"]["kv_cache_dtype"] == "fp8_e4m3"
    check = check_log(row)
    assert check.exact_error in (None, 0.0)
    as_fp8 = check_log({**row, "args": {**row["args"], "kv_cache_dtype": "fp8"}})
    assert as_fp8.predicted_tokens == check.predicted_tokens


def test_an_unknown_cache_spelling_is_refused() -> None:
    row = ROWS["talos-1995-qwen38-27b-fp8-2x3090"]
    with pytest.raises(InvalidValueError) as caught:
        check_log({**row, "args": {**row["args"], "kv_cache_dtype": "turboquant_k8v4"}})
    assert caught.value.name == "kv_cache_dtype"
