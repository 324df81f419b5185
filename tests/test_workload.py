"""Workload validation: every field named with its value and accepted range, in both modes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpumem.errors import GpumemError, InvalidValueError, UnknownNameError
from gpumem.workload import MAX_COUNT, Workload

np = pytest.importorskip("numpy")


@pytest.mark.parametrize("field", ["batch", "seq", "dp", "tp", "pp", "cuda_context"])
def test_numpy_integers_are_taken_as_the_numbers_they_are(field: str) -> None:
    work = Workload(**{field: np.int64(4)})
    assert getattr(work, field) == 4 and type(getattr(work, field)) is int
    assert work == Workload(**{field: 4})


def test_numpy_integers_for_training_fields() -> None:
    work = Workload(mode="training", zero=np.int64(2), lora_rank=np.int32(8), dp=np.uint8(2))
    assert (work.zero, work.lora_rank, work.dp) == (2, 8, 2)
    assert all(type(v) is int for v in (work.zero, work.lora_rank, work.dp))


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("batch", 0, "a positive integer up to 9007199254740992"),
        ("batch", 10**400, "a positive integer up to"),
        ("batch", MAX_COUNT + 1, "a positive integer up to"),
        ("batch", 4.0, "a positive integer"),
        ("batch", "4", "a positive integer"),
        ("batch", True, "a positive integer"),
        ("batch", None, "a positive integer"),
        ("seq", -1, "a positive integer"),
        ("new_tokens", 0, "a positive integer"),
        ("new_tokens", 2.5, "a positive integer"),
        ("tp", np.float64(2), "a positive integer"),
        ("cuda_context", -1, "bytes, an integer from 0 to"),
        ("cuda_context", float("inf"), "bytes, an integer from 0 to"),
        ("zero", 4, "a ZeRO stage 0, 1, 2 or 3"),
        ("zero", 2.0, "a ZeRO stage"),
    ],
)
def test_bad_counts(field: str, value: object, accepted: str) -> None:
    with pytest.raises(InvalidValueError, match=f"invalid {field} ") as caught:
        Workload(**{field: value})
    assert accepted in str(caught.value) and caught.value.name == field


@pytest.mark.parametrize("value", ["0.1", None, float("nan"), float("inf"), -0.01, 1, True])
def test_allocator_reserve_must_be_a_fraction(value: object) -> None:
    with pytest.raises(InvalidValueError, match="expected a number from 0 up to"):
        Workload(allocator_reserve=value)


@pytest.mark.parametrize("value", [0, 0.5, np.float32(0.25), np.float64(0.1)])
def test_allocator_reserve_accepts_real_fractions(value: object) -> None:
    assert Workload(allocator_reserve=value).allocator_reserve == float(value)


@pytest.mark.parametrize(
    ("field", "value"), [("mode", ["x"]), ("dtype", None), ("attention", 3), ("kv_dtype", b"fp8")]
)
def test_names_must_be_strings(field: str, value: object) -> None:
    with pytest.raises(InvalidValueError, match=f"invalid {field} .*expected a string"):
        Workload(**{field: value})


def test_unknown_names_suggest() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'training'"):
        Workload(mode="trainng")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kv_dtype": "fp8"}, "kv_dtype"),
        ({"logits": "all"}, "logits"),
        ({"new_tokens": 16}, "new_tokens"),
    ],
)
def test_inference_fields_are_refused_in_training(change: dict, field: str) -> None:
    with pytest.raises(InvalidValueError, match=f"invalid {field} .*nothing in training"):
        Workload(mode="training", **change)


@pytest.mark.parametrize(
    "change",
    [
        {"precision": "mixed"},
        {"optimizer": "adamw"},
        {"optimizer_impl": "fused"},
        {"checkpointing": "full"},
        {"lora_rank": 8},
        {"zero": 1},
    ],
)
def test_training_fields_are_refused_in_inference(change: dict) -> None:
    with pytest.raises(GpumemError, match="invalid"):
        Workload(**change)


def test_defaults_are_valid_in_both_modes() -> None:
    assert Workload().allocator_reserve == 0.05
    assert Workload(mode="training").zero == 0


ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from([2**53, 2**53 + 1, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["training", "inference", "bf16", "fp8", "full", "adamw", "all", "mixed"]),
    st.lists(st.integers(), max_size=2),
    st.builds(np.int64, st.integers(-3, 3)),
)
FIELDS = [
    "mode", "dtype", "kv_dtype", "batch", "seq", "precision", "optimizer", "optimizer_impl",
    "checkpointing", "attention", "logits", "lora_rank", "adapter_dtype", "lora_dropout", "dp",
    "tp", "pp", "zero",
    "cuda_context", "allocator_reserve",
]  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(fields=st.dictionaries(st.sampled_from(FIELDS), ANY, max_size=4))
def test_any_fields_give_a_valid_workload_or_a_gpumem_error(fields: dict) -> None:
    try:
        work = Workload(**fields)
    except GpumemError as error:
        assert str(error)
        return
    for name in ("batch", "dp", "tp", "pp", "zero", "cuda_context"):
        assert type(getattr(work, name)) is int and 0 <= getattr(work, name) <= MAX_COUNT
    assert type(work.allocator_reserve) is float and 0 <= work.allocator_reserve < 1
    assert work.kv_dtype is None or not work.training


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lora_targets": "q_proj"}, "invalid lora_targets 'q_proj': expected nothing: it applies"),
        ({"mode": "training", "lora_targets": "q_proj"}, "expected nothing without lora_rank"),
        ({"mode": "training", "lora_rank": 8, "lora_targets": "q_prj"}, "did you mean 'q_proj'"),
        ({"mode": "training", "lora_rank": 8, "lora_targets": "q_proj,q_proj"}, "each once"),
        ({"mode": "training", "lora_rank": 8, "lora_targets": "all-linear,q_proj"}, "each once"),
        ({"mode": "training", "lora_rank": 8, "lora_targets": ["q_proj"]}, "expected a string"),
    ],
)
def test_bad_lora_targets(fields: dict, message: str) -> None:
    with pytest.raises(GpumemError, match=message):
        Workload(**fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mode": "training", "adapter_dtype": "bf16"}, "expected nothing without lora_rank"),
        ({"adapter_dtype": "bf16"}, "expected nothing: it applies to training"),
        ({"mode": "training", "lora_dropout": 0.1}, "expected nothing without lora_rank"),
        ({"mode": "training", "lora_rank": 8, "dtype": "fp32", "adapter_dtype": "bf16"}, "fp32"),
        ({"mode": "training", "lora_rank": 8, "adapter_dtype": "fp8"}, "adapter_dtype 'fp8'"),
        ({"mode": "training", "lora_rank": 8, "lora_dropout": 1.0}, "up to \\(not including\\) 1"),
        ({"mode": "training", "lora_rank": 8, "dtype": "int4"}, "nf4 for QLoRA"),
    ],
)
def test_bad_lora_settings(fields: dict, message: str) -> None:
    with pytest.raises(GpumemError, match=message):
        Workload(**fields)


def test_lora_adapter_dtype_and_qlora() -> None:
    lora = {"mode": "training", "lora_rank": 8}
    assert Workload(**lora).resolved_adapter_dtype == "fp32"
    assert Workload(**lora, adapter_dtype="fp16", dtype="fp16").resolved_adapter_dtype == "fp16"
    qlora = Workload(**lora, dtype="nf4", adapter_dtype="bf16")
    assert qlora.qlora and qlora.compute_dtype == "bf16"
    assert not Workload(**lora).qlora
    assert Workload(**lora, lora_dropout=0).lora_dropout == 0.0


def test_lora_targets() -> None:
    lora = {"mode": "training", "lora_rank": 8}
    assert Workload(**lora, lora_targets="v_proj,q_proj").adapted == ("v_proj", "q_proj")
    assert Workload(**lora, lora_targets="all-linear").adapted is None
    assert Workload(**lora).adapted is None
