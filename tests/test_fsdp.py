"""FSDP2 per GPU (``--fsdp``): sharded state, gathered copies and buffers, by hand."""

from __future__ import annotations

import json
import re

import pytest

from gpumem.errors import InvalidValueError
from gpumem.estimate import estimate
from gpumem.workload import Workload

BARE = {"cuda_context": 0, "allocator_reserve": 0.0}
# Qwen2.5-0.5B: 494,032,768 parameters (published); a tied 151,936 x 896 embedding; 24 blocks;
# the root unit holds the embedding and the final RMSNorm (896).
P, VH, L = 494_032_768, 151_936 * 896, 24
ROOT = VH + 896
BLOCK = (P - ROOT) / L


def _fsdp(zero: int, precision: str, **settings: object):
    return estimate(
        "qwen2.5-0.5b",
        mode="training",
        precision=precision,
        dp=4,
        zero=zero,
        fsdp=True,
        optimizer_impl="fused",
        **settings,
        **BARE,
    )


def test_mixed_policy_keeps_fp32_shards_and_no_master_copy() -> None:
    e = _fsdp(2, "mixed")
    end = _fsdp(2, "mixed", checkpointing="full")
    # FP32 sharded weights, gradients and two Adam moments: 16 bytes per parameter over 4 GPUs
    assert e.phases["optimizer"] == pytest.approx(16 * P / 4, abs=4)
    assert "master_weights" not in e.components
    assert end.phases["optimizer"] == e.phases["optimizer"]


def test_zero2_keeps_every_block_gathered_zero3_one_buffer() -> None:
    two, three = _fsdp(2, "pure"), _fsdp(3, "pure")
    # BF16 gathered copies: every parameter at ZeRO-2, the root's embedding alone at ZeRO-3
    assert two.phases["forward"] - three.phases["forward"] == pytest.approx(2 * (P - ROOT), abs=4)
    # backward starts with the last block's all-gather prefetched at ZeRO-3 only
    extra = two.phases["backward"] - three.phases["backward"]
    assert extra == pytest.approx(2 * (P - ROOT) - 2 * BLOCK, abs=4)


def test_end_of_backward_counts_the_root_and_one_reduce_scatter_input() -> None:
    e = _fsdp(3, "mixed")
    shards = 4 * P / 4 + 8 * P / 4  # FP32 weights and Adam moments
    blocks = 4 * (P - ROOT) / 4  # FP32 gradient shards of the blocks
    root = 2 * ROOT + 3 * 2 * VH  # BF16 gathered root; the embedding's two gradients and sum
    assert e.phases["backward_end"] == pytest.approx(shards + blocks + root + 4 * BLOCK, abs=8)


def test_a_block_backward_counts_the_head_gradient_and_two_blocks() -> None:
    """TinyLlama (untied, 22 blocks of 44,044,288 parameters, a 32,000 x 2,048 embedding and
    LM head), pure BF16 on 8 GPUs at ZeRO-3 with checkpointing, 1 x 512 tokens: the second
    block from the bottom, its gradients complete (a measured peak, 1,822,429,740 bytes)."""
    work = dict(mode="training", precision="pure", dp=8, zero=3, fsdp=True, batch=1, seq=512)
    e = estimate("tinyllama-1.1b", checkpointing="full", **work, **BARE)
    vh, block = 32_000 * 2_048, 44_044_288
    p = 22 * block + 2 * vh + 2_048  # blocks, embedding and LM head, final norm
    shards = (2 + 4) * p / 8  # BF16 weights, two BF16 Adam moments
    inputs = 1 * 512 * 2_048 * 2  # the bottom block's checkpointed input
    gathered = 2 * (2 * vh + 2_048) + 2 * 2 * block  # root, the block and the one prefetched
    grads = 20 * 2 * block / 8 + 2 * block + 2 * vh  # shards above, the block's, the LM head's
    reduce = 2 * block  # the block above's reduce-scatter input
    assert e.phase == "backward_bottom"
    assert e.phases["backward_bottom"] == pytest.approx(
        shards + inputs + gathered + grads + reduce, abs=8
    )


def test_experts_are_padded_to_a_multiple_of_the_gpus() -> None:
    """Qwen1.5-MoE-A2.7B: 60 routed experts of 3 x 2,048 x 1,408 weights and a router row each,
    in 24 layers. Over 8 GPUs every rank holds 8 experts' rows (64, padded), over 4 it holds
    15 (no padding): 24 x 4 x (3 x 2,048 x 1,408 + 2,048) = 830,668,800 parameters more."""
    pad = 24 * 4 * (3 * 2_048 * 1_408 + 2_048)
    work = dict(mode="training", precision="pure", zero=3, fsdp=True, **BARE)
    four = estimate("qwen1.5-moe-a2.7b", dp=4, **work).components
    eight = estimate("qwen1.5-moe-a2.7b", dp=8, **work).components
    assert eight["weights"] - four["weights"] / 2 == pytest.approx(2 * pad / 8, abs=2)
    block = four["all_gather_buffer"]  # one block, BF16
    assert eight["all_gather_buffer"] - block == pytest.approx(2 * pad / 24, abs=2)


def test_without_fsdp_nothing_changes() -> None:
    plain = estimate("qwen2.5-0.5b", mode="training", dp=4, zero=3, **BARE)
    assert not {"gathered_weights", "all_gather_buffer"} & set(plain.components)
    # ZeRO-3 without FSDP2: BF16 weights and an FP32 master copy, both sharded
    assert plain.phases["backward_end"] == pytest.approx((2 + 4 + 8 + 2) * P / 4, abs=8)


@pytest.mark.parametrize(
    ("settings", "field", "accepted"),
    [
        ({"zero": 1}, "zero", "2 or 3 with fsdp"),
        ({"zero": 0}, "zero", "2 or 3 with fsdp"),
        ({"zero": 3, "precision": "amp"}, "precision", "mixed (FSDP2's MixedPrecisionPolicy)"),
        ({"zero": 3, "lora_rank": 8}, "lora_rank", "full training only"),
        ({"zero": 3, "tp": 2}, "tp", "1 with fsdp"),
        ({"zero": 2, "pp": 2}, "pp", "1 with fsdp"),
    ],
)
def test_combinations_fsdp2_does_not_have(settings: dict, field: str, accepted: str) -> None:
    pattern = rf"invalid {field} .*expected .*{re.escape(accepted)}"
    with pytest.raises(InvalidValueError, match=pattern):
        Workload(mode="training", fsdp=True, **settings)


def test_fsdp_is_a_bool_for_training() -> None:
    with pytest.raises(InvalidValueError, match="invalid fsdp 1: expected True or False"):
        Workload(mode="training", zero=3, fsdp=1)
    with pytest.raises(InvalidValueError, match="invalid fsdp True: expected False for inference"):
        Workload(fsdp=True)


def test_command_line_flag(capsys) -> None:
    from gpumem.cli import main

    argv = ["estimate", "qwen2.5-0.5b", "--mode", "training", "--dp", "4", "--zero", "3"]
    assert main([*argv, "--fsdp", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["workload"]["fsdp"] is True and "gathered_weights" in data["components"]
    assert main([*argv[:-1], "1", "--fsdp"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gpumem: error: invalid zero 1: expected 2 or 3 with fsdp")
    assert "\n" not in err
