"""Fuzzing the file readers: whatever a ``config.json`` or a safetensors header holds, the
reader returns a sane answer or raises :class:`GpumemError` — never another exception, a hang
or an absurd count. Example counts are fixed so the suite runs in seconds."""

from __future__ import annotations

import json
import math
import struct
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpumem.catalog import catalog_entry, load_model, model_names
from gpumem.checkpoint import CheckpointInfo, read_checkpoint
from gpumem.errors import GpumemError
from gpumem.estimate import estimate
from gpumem.modelspec import ModelSpec, from_config

FAST = settings(
    deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)
"""Reproducible runs: the same examples every time (the seed is derived from the test)."""

# JSON values as a careless or hostile author writes them: sizes just in and out of range,
# numbers too large for a float, the wrong type, nesting.
NUMBERS = st.one_of(
    st.integers(-3, 3),
    st.integers(1, 2**17),
    st.sampled_from([0, -1, 2**31, 2**40, 2**53, 2**64, 10**9, 10**12, 10**18, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
)
LEAVES = st.one_of(NUMBERS, st.booleans(), st.none(), st.text(max_size=20))
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)

CONFIGS = {name: catalog_entry(name)["config"] for name in model_names()}
COUNTS = (
    "parameters",
    "n_layers",
    "hidden_size",
    "n_heads",
    "n_kv_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "max_context",
    "active_parameters",
    "embedding_parameters",
    "n_experts",
    "n_experts_active",
    "moe_intermediate_size",
    "n_shared_experts",
    "shared_intermediate_size",
    "n_dense_layers",
    "kv_lora_rank",
    "qk_rope_head_dim",
    "sliding_window",
    "n_sliding_layers",
)


def assert_sane(spec: ModelSpec) -> None:
    """Counts are non-negative integers (not bools, not floats), bounded by the spec's own."""
    for name in COUNTS:
        value = getattr(spec, name)
        assert type(value) is int and value >= 0, (name, value)
    assert 1 <= spec.active_parameters <= spec.parameters <= 10**15
    assert spec.n_dense_layers <= spec.n_layers and spec.n_sliding_layers <= spec.n_layers


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict:
    """A catalog config with a few keys set to arbitrary values or removed."""
    config = dict(CONFIGS[draw(st.sampled_from(sorted(CONFIGS)))])
    keys = sorted(config) + ["num_experts", "head_dim", "sliding_window", "mlp_only_layers"]
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=4)):
        if draw(st.integers(0, 5)) == 0:
            config.pop(key, None)
        else:
            config[key] = draw(VALUES)
    return config


@settings(FAST, max_examples=300)
@given(config=mutated_configs())
def test_config_mutations_give_a_sane_spec_or_a_gpumem_error(config: dict) -> None:
    try:
        spec = from_config(config, name="fuzz", source="fuzz/config.json")
    except GpumemError as error:
        assert str(error) and len(str(error)) < 2000
        return
    assert_sane(spec)


@settings(FAST, max_examples=40)
@given(config=mutated_configs())
def test_config_files_through_load_model(config: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "config.json").write_text(json.dumps(config))
        try:
            spec = load_model(folder)
        except GpumemError:
            return
    assert_sane(spec)


DTYPE_CODES = ["BOOL", "F4", "F6_E2M3", "U8", "F8_E8M0", "F16", "BF16", "F32", "C64", "I64"]
BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "U8": 8, "F8_E8M0": 8, "F16": 16, "BF16": 16}
BITS |= {"F32": 32, "C64": 64, "I64": 64}


@st.composite
def headers(draw: st.DrawFn) -> dict:
    """Headers that are mostly well-formed, with a chance of a hostile field in each entry."""
    header: dict[str, object] = {}
    if draw(st.booleans()):
        header["__metadata__"] = draw(VALUES)
    offset = 0
    for index in range(draw(st.integers(0, 5))):
        dtype = draw(st.sampled_from(DTYPE_CODES) | st.just("F17") | VALUES)
        shape = draw(
            st.lists(st.integers(0, 64), max_size=4)
            | st.lists(NUMBERS, max_size=3)
            | VALUES
            | st.just([2] * 100)
        )
        try:
            size = int(math.prod(shape) * BITS[dtype] // 8)
        except (KeyError, TypeError, ValueError, OverflowError):  # a hostile shape or dtype
            size = 0
        offsets = draw(st.just([offset, offset + size]) | VALUES)
        name = draw(st.sampled_from([f"t{index}", f"w{index}_blocks", f"w{index}_scales"]))
        header[name] = draw(
            st.just({"dtype": dtype, "shape": shape, "data_offsets": offsets}) | VALUES
        )
        offset += size
    return header


def write_header(folder: str, raw: bytes, name: str = "model.safetensors") -> Path:
    path = Path(folder) / name
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    return path


def assert_sane_info(info: CheckpointInfo) -> None:
    assert type(info.parameters) is int and info.parameters >= 0
    assert info.parameters == sum(info.dtypes.values()) and info.dtype in info.dtypes
    assert all(type(n) is int and n >= 0 for n in info.dtypes.values()) and info.scales >= 0


@settings(FAST, max_examples=200)
@given(header=headers())
def test_safetensors_headers_give_a_count_or_a_gpumem_error(header: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_header(folder, json.dumps(header).encode())
        try:
            info = read_checkpoint([path])
        except GpumemError:
            return
    assert_sane_info(info)


VALID = json.dumps(
    {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "BF16", "shape": [4, 8], "data_offsets": [0, 64]},
        "b_blocks": {"dtype": "U8", "shape": [2, 16], "data_offsets": [64, 96]},
        "b_scales": {"dtype": "U8", "shape": [2], "data_offsets": [96, 98]},
    }
).encode()


@settings(FAST, max_examples=300)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 3), st.binary(max_size=4)),
        min_size=1,
        max_size=4,
    )
)
def test_corrupted_header_bytes_give_a_count_or_a_gpumem_error(edits: list) -> None:
    raw = bytearray(VALID)
    for at, cut, insert in edits:
        raw[at : at + cut] = insert
    with tempfile.TemporaryDirectory() as folder:
        path = write_header(folder, bytes(raw))
        try:
            info = read_checkpoint([path])
        except GpumemError:
            return
    assert_sane_info(info)


WIDTHS = ["num_hidden_layers", "intermediate_size", "vocab_size"]


@settings(FAST, max_examples=30)
@given(
    name=st.sampled_from(["llama-3.2-1b", "qwen2.5-0.5b", "olmoe-1b-7b", "gpt2"]),
    key=st.sampled_from(WIDTHS),
    factor=st.integers(2, 8),
    mode=st.sampled_from(["inference", "training"]),
)
def test_totals_grow_with_the_parameters(name: str, key: str, factor: int, mode: str) -> None:
    config = CONFIGS[name]
    key = {"num_hidden_layers": "n_layer"}.get(key, key) if name == "gpt2" else key
    assume(isinstance(config.get(key), int))
    small = from_config(config, name=name)
    large = from_config(config | {key: config[key] * factor}, name=name)
    assert large.parameters > small.parameters
    assert (
        estimate(large, mode=mode, seq=128).total_bytes
        >= estimate(small, mode=mode, seq=128).total_bytes
    )


@settings(FAST, max_examples=60)
@given(
    weight_map=VALUES | st.dictionaries(st.text(max_size=6), st.text(max_size=12) | VALUES),
    shards=st.lists(st.sampled_from(["a.safetensors", "b.safetensors"]), max_size=2, unique=True),
)
def test_model_directories_with_any_index(weight_map: object, shards: list) -> None:
    """A directory with config, any ``weight_map`` and some shards: a spec whose warnings
    explain any count it did not take from the files, or a GpumemError."""
    config = CONFIGS["qwen2.5-0.5b"]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "config.json").write_text(json.dumps(config))
        index = json.dumps({"weight_map": weight_map})
        (Path(folder) / "model.safetensors.index.json").write_text(index)
        for shard in shards:
            write_header(folder, VALID.replace(b'"a"', f'"{shard}"'.encode()), shard)
        try:
            spec = load_model(folder)
        except GpumemError:
            return
    assert_sane(spec)
    assert spec.parameters_source == "safetensors" or spec.warnings or not shards


# --- GGUF metadata of the gated DeltaNet architectures ---------------------------------------

_U32_VALUES = st.one_of(st.integers(0, 8), st.sampled_from([64, 2**16, 2**31, 2**32 - 1]))


@FAST
@given(
    values=st.dictionaries(
        st.sampled_from(
            [
                "block_count",
                "nextn_predict_layers",
                "ssm.conv_kernel",
                "ssm.inner_size",
                "ssm.state_size",
                "ssm.time_step_rank",
                "ssm.group_count",
                "full_attention_interval",
                "attention.head_count_kv",
            ]
        ),
        _U32_VALUES,
        max_size=4,
    ),  # fmt: skip
    flags=st.none() | st.lists(st.booleans(), max_size=7),
    arch=st.sampled_from(["qwen35", "qwen35moe", "qwen3next"]),
)
def test_deltanet_gguf_metadata_gives_a_spec_or_a_gpumem_error(values, flags, arch) -> None:
    """Any sizes in a Qwen3.5 / Qwen3-Next file's keys: a spec whose recurrent layers are
    counted among its layers, or a GpumemError."""
    from test_gguf import _kv_flags, _kv_u32, _qwen35

    from gpumem import gguf

    extra = [_kv_u32(f"{arch}.{key}", value) for key, value in values.items()]
    if flags is not None:
        extra.append(_kv_flags(f"{arch}.attention.recurrent_layers", flags))
    raw = _qwen35(arch, drop=tuple(values), extra=extra)  # the file's own keys replaced
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.gguf"
        path.write_bytes(raw)
        try:
            spec = ModelSpec(**gguf.spec_fields(gguf.read_model(path)))
        except GpumemError:
            return
    assert 0 <= spec.n_recurrent_layers <= spec.n_layers
    assert spec.recurrent_state >= 0
