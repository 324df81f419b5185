"""The GGUF reader: exact tensor bytes by ggml type, the architecture, hostile headers."""

from __future__ import annotations

import os
import struct
import time

import numpy as np
import pytest

from gpumem import gguf
from gpumem.errors import ConfigError, InvalidValueError, UnknownNameError
from gpumem.modelspec import ModelSpec

# --- Hand-made files ------------------------------------------------------------------------


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _kv_u32(key: str, value: int) -> bytes:
    return _string(key) + struct.pack("<II", 4, value)


def _kv_str(key: str, value: str) -> bytes:
    return _string(key) + struct.pack("<I", 8) + _string(value)


def _info(name: str, shape: tuple[int, ...], type_id: int, offset: int) -> bytes:
    dims = struct.pack("<I", len(shape)) + b"".join(struct.pack("<q", n) for n in shape)
    return _string(name) + dims + struct.pack("<IQ", type_id, offset)


def _file(entries: list[bytes], infos: list[bytes], data: int, *, version: int = 3) -> bytes:
    head = b"GGUF" + struct.pack("<IQQ", version, len(infos), len(entries))
    body = head + b"".join(entries) + b"".join(infos)
    body += b"\0" * (-len(body) % 32)
    return body + b"\0" * data


_ARCH = _kv_str("general.architecture", "llama")


def _write(tmp_path, raw: bytes, name: str = "m.gguf"):
    path = tmp_path / name
    path.write_bytes(raw)
    return path


def test_exact_bytes_of_a_hand_made_file(tmp_path):
    # a: f32 4 x 2 = 32 bytes; b: q8_0 64 x 3 = 6 blocks of 34 = 204 bytes, starting at 32
    raw = _file(
        [_ARCH, _kv_u32("llama.block_count", 1)],
        [_info("a", (4, 2), 0, 0), _info("b", (64, 3), 8, 32)],
        32 + 204,
    )
    model = gguf.read_model(_write(tmp_path, raw))
    assert model.architecture == "llama"
    assert [(t.name, t.shape, t.type.name, t.nbytes) for t in model.tensors] == [
        ("a", (4, 2), "f32", 32),
        ("b", (64, 3), "q8_0", 204),
    ]
    assert model.tensor_bytes == 236
    assert model.parameters == 8 + 192
    assert model.bytes_by_type == {"f32": 32, "q8_0": 204}
    assert model.files[0].data_offset % 32 == 0


# Bytes per block of 256 values of the K- and I-quants, from their bits per weight as
# llama.cpp's README and quantize tool list them (Q4_K 4.5, Q6_K 6.5625, IQ4_XS 4.25, …), and
# the 32-value formats from their layout: an f16 scale plus the packed values.
@pytest.mark.parametrize(
    ("name", "values", "nbytes"),
    [
        ("f32", 1, 4),
        ("f16", 1, 2),
        ("bf16", 1, 2),
        ("q4_0", 32, 18),
        ("q4_1", 32, 20),
        ("q5_0", 32, 22),
        ("q5_1", 32, 24),
        ("q8_0", 32, 34),
        ("q2_K", 256, 2.625 * 32),
        ("q3_K", 256, 3.4375 * 32),
        ("q4_K", 256, 4.5 * 32),
        ("q5_K", 256, 5.5 * 32),
        ("q6_K", 256, 6.5625 * 32),
        ("q8_K", 256, 292),
        ("iq2_xxs", 256, 2.0625 * 32),
        ("iq2_xs", 256, 2.3125 * 32),
        ("iq2_s", 256, 2.5625 * 32),
        ("iq3_xxs", 256, 3.0625 * 32),
        ("iq3_s", 256, 3.4375 * 32),
        ("iq1_s", 256, 1.5625 * 32),
        ("iq1_m", 256, 1.75 * 32),
        ("iq4_nl", 32, 18),
        ("iq4_xs", 256, 4.25 * 32),
        ("tq1_0", 256, 1.6875 * 32),
        ("tq2_0", 256, 2.0625 * 32),
        ("mxfp4", 32, 17),  # 32 e2m1 values + one e8m0 exponent
    ],
)
def test_type_sizes(name, values, nbytes):
    kind = gguf.ggml_type(name.upper())
    assert (kind.block, kind.size) == (values, nbytes)
    assert gguf.tensor_bytes(kind, (values * 2, 3)) == 6 * nbytes


def test_type_table_agrees_with_the_gguf_package():
    constants = pytest.importorskip("gguf.constants")
    ours = {k.name.lower(): (k.block, k.size) for k in gguf.GGML_TYPES.values()}
    theirs = {t.name.lower(): v for t, v in constants.GGML_QUANT_SIZES.items()}
    # gguf 0.19.0 still sizes Q8_1 with two f32 scales (40 bytes); llama.cpp's block_q8_1 holds
    # two f16 (static_assert in ggml-common.h: 2 * sizeof(ggml_half) + 32 = 36)
    assert theirs.pop("q8_1") == (32, 40) and ours["q8_1"] == (32, 36)
    assert {k: ours[k] for k in theirs} == theirs  # every type the package knows, same sizes


def test_unknown_type_and_partial_blocks():
    with pytest.raises(UnknownNameError, match="q4_3"):
        gguf.ggml_type("q4_3")
    with pytest.raises(InvalidValueError, match="q4_K"):
        gguf.tensor_bytes(gguf.ggml_type("q4_K"), (128, 2))


# --- Files written by the gguf package ------------------------------------------------------


def _llama(path, *, tied: bool, experts: int = 0, split: int = 0):
    """A 2-layer Llama-shaped model (64 wide, 4 heads, 2 KV heads, MLP 96, 100 tokens) written
    by llama.cpp's own gguf package, the attention in q8_0 (raw bytes), the rest f16/f32."""
    writer_module = pytest.importorskip("gguf")
    w = writer_module.GGUFWriter(os.fspath(path), "llama")
    w.add_name("tiny")
    w.add_block_count(2)
    w.add_context_length(128)
    w.add_embedding_length(64)
    w.add_feed_forward_length(96)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_tokenizer_model("none")
    if experts:
        w.add_expert_count(experts)
        w.add_expert_used_count(2)

    def f16(name, *shape):  # numpy shape: rows last in ggml order
        w.add_tensor(name, np.zeros(shape[::-1], dtype=np.float16))

    def q8(name, *shape):
        rows = shape[0] // 32 * 34
        w.add_tensor(
            name,
            np.zeros((*shape[1:][::-1], rows), dtype=np.uint8),
            raw_dtype=writer_module.GGMLQuantizationType.Q8_0,
        )

    f16("token_embd.weight", 64, 100)
    for i in range(2):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(64, dtype=np.float32))
        q8(f"blk.{i}.attn_q.weight", 64, 64)
        q8(f"blk.{i}.attn_k.weight", 64, 32)
        q8(f"blk.{i}.attn_v.weight", 64, 32)
        q8(f"blk.{i}.attn_output.weight", 64, 64)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(64, dtype=np.float32))
        if experts:
            f16(f"blk.{i}.ffn_gate_inp.weight", 64, experts)
            for part, shape in (("gate", (64, 96)), ("up", (64, 96)), ("down", (96, 64))):
                f16(f"blk.{i}.ffn_{part}_exps.weight", *shape, experts)
        else:
            for part, shape in (("gate", (64, 96)), ("up", (64, 96)), ("down", (96, 64))):
                f16(f"blk.{i}.ffn_{part}.weight", *shape)
    w.add_tensor("output_norm.weight", np.ones(64, dtype=np.float32))
    if not tied:
        f16("output.weight", 64, 100)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# Per layer: 2 norms of 64 f32 (512 B); q and o 64 x 64 q8_0 (2 x 128 blocks x 34 B);
# k and v 64 x 32 (2 x 64 blocks); MLP 3 x 64 x 96 f16 (36,864 B).
_LAYER = 2 * 64 * 4 + 2 * 128 * 34 + 2 * 64 * 34 + 3 * 64 * 96 * 2
_EMBED = 64 * 100 * 2


def test_gguf_package_file_bytes_and_spec(tmp_path):
    path = tmp_path / "tiny.gguf"
    _llama(path, tied=False)
    model = gguf.read_model(path)
    assert model.tensor_bytes == 2 * _EMBED + 2 * _LAYER + 64 * 4
    per_layer = 2 * 64 + 2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 96
    assert model.parameters == 2 * 6400 + 2 * per_layer + 64
    fields = gguf.spec_fields(model)
    spec = ModelSpec(**fields)
    assert (spec.family, spec.n_layers, spec.hidden_size, spec.n_heads, spec.n_kv_heads) == (
        "llama",
        2,
        64,
        4,
        2,
    )
    assert (spec.head_dim, spec.intermediate_size, spec.vocab_size, spec.max_context) == (
        16,
        96,
        100,
        128,
    )
    assert not spec.tie_word_embeddings and spec.embedding_parameters == 2 * 6400
    assert spec.name == "tiny" and spec.checkpoint_dtype == "f16"


def test_tied_and_mixture_of_experts(tmp_path):
    path = tmp_path / "moe.gguf"
    _llama(path, tied=True, experts=4)
    spec = ModelSpec(**gguf.spec_fields(gguf.read_model(path)))
    assert spec.family == "mixtral" and spec.tie_word_embeddings
    assert (spec.n_experts, spec.n_experts_active, spec.moe_intermediate_size) == (4, 2, 96)
    assert spec.n_dense_layers == 0
    # two of four experts idle per token: 2 layers x 2 experts x 3 x 64 x 96
    assert spec.parameters - spec.active_parameters == 2 * 2 * 3 * 64 * 96


def test_split_set_is_summed(tmp_path):
    head = [_ARCH, _kv_u32("split.count", 2), _kv_u32("split.tensors.count", 2)]

    def part(no: int, name: str) -> bytes:
        entries = [_ARCH, _kv_u32("split.no", no), _kv_u32("split.count", 2)]
        return _file(head if no == 0 else entries, [_info(name, (32, 2), 2, 0)], 36)

    raw0 = _file(head + [_kv_u32("split.no", 0)], [_info("a", (32, 2), 2, 0)], 36)
    _write(tmp_path, raw0, "m-00001-of-00002.gguf")
    with pytest.raises(ConfigError, match="missing part"):
        gguf.read_model(tmp_path / "m-00001-of-00002.gguf")
    _write(tmp_path, part(1, "b"), "m-00002-of-00002.gguf")
    model = gguf.read_model(tmp_path / "m-00002-of-00002.gguf")
    assert [t.name for t in model.tensors] == ["a", "b"]
    assert model.tensor_bytes == 2 * 2 * 18  # two tensors of two q4_0 blocks


# --- Hostile headers ------------------------------------------------------------------------


def _fast(call, match: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=match):
        call()
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"GGML" + bytes(40), "magic"),
        (b"GGUF" + struct.pack("<IQQ", 1, 0, 0), "version 1"),
        (b"GGUF" + struct.pack("<IQQ", 3, 2**63, 0) + bytes(64), "tensor count"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 2**64 - 1) + bytes(64), "metadata count"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**62) + bytes(64), "long"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 3) + _ARCH, "truncated"),
        (
            b"GGUF"
            + struct.pack("<IQQ", 3, 0, 1)
            + _string("k")
            + struct.pack("<IIIQ", 9, 9, 9, 2**40)
            + bytes(64),
            "array of arrays",
        ),
        (
            b"GGUF"
            + struct.pack("<IQQ", 3, 0, 1)
            + _string("k")
            + struct.pack("<IIQ", 9, 4, 2**40)
            + bytes(64),
            "length of array",
        ),
        (_file([_ARCH], [_info("a", (4, 2, 1, 1, 1), 0, 0)], 32), "dimensions"),
        (_file([_ARCH], [_info("a", (4,), 99, 0)], 32), "ggml type 99"),
        (_file([_ARCH], [_info("a", (48,), 8, 0)], 64), "whole q8_0 blocks"),
        (_file([_ARCH], [_info("a", (4,), 0, 8)], 32), "expected 0"),
        (_file([_ARCH], [_info("a", (4,), 0, 0), _info("a", (4,), 0, 32)], 64), "repeated"),
        (_file([_ARCH], [_info("a", (2**20,), 0, 0)], 32), "past the end"),
        (_file([_ARCH, _ARCH], [], 0), "repeated"),
        (_file([_ARCH], [_info("x" * 64, (4,), 0, 0)], 32), "64 bytes long"),
        (_file([_kv_u32("general.alignment", 24)], [], 0), "power of two"),
    ],
)
def test_hostile_headers_refused_fast(tmp_path, raw, match):
    path = _write(tmp_path, raw)
    _fast(lambda: gguf.read_model(path), match)


def test_truncated_everywhere(tmp_path):
    raw = _file(
        [_ARCH, _kv_u32("llama.block_count", 1)],
        [_info("a", (4, 2), 0, 0), _info("b", (64, 3), 8, 32)],
        236,
    )
    header = len(raw) - 236
    for cut in range(0, header, 7):
        path = _write(tmp_path, raw[:cut])
        _fast(lambda path=path: gguf.read_model(path), "GGUF|truncated|past the end")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_fifo_and_directory_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    _fast(lambda: gguf.read_model(fifo), "not a regular file")
    _fast(lambda: gguf.read_model(tmp_path), "not a regular file")


def test_unsupported_architecture_named(tmp_path):
    raw = _file([_kv_str("general.architecture", "mamba")], [], 0)
    with pytest.raises(ConfigError, match="'mamba' is not supported"):
        gguf.spec_fields(gguf.read_model(_write(tmp_path, raw)))
    raw = _file([_ARCH, _kv_u32("llama.block_count", 0)], [], 0)
    with pytest.raises(ConfigError, match="llama.block_count"):
        gguf.spec_fields(gguf.read_model(_write(tmp_path, raw)))


def _strings(key: str, items: list[bytes]) -> bytes:
    return _string(key) + struct.pack("<IIQ", 9, 8, len(items)) + b"".join(map(_string, items))


def test_long_string_arrays_kept_by_length(tmp_path):
    tokens = [b"t%d" % i for i in range(300_000)]  # > 1 MiB: crosses the read buffer
    raw = _file([_ARCH, _strings("tokenizer.ggml.tokens", tokens)], [_info("a", (4,), 0, 0)], 16)
    model = gguf.read_model(_write(tmp_path, raw))
    assert model.metadata["tokenizer.ggml.tokens"] == gguf.Array("string", 300_000)
    assert [t.name for t in model.tensors] == ["a"]
    hostile = tokens[:5000] + [b"x"]
    raw = _file([_ARCH, _strings("k", hostile)], [], 0)
    cut = raw.rindex(_string(b"x"))
    raw = raw[:cut] + struct.pack("<Q", 2**40) + raw[cut + 8 :]
    _fast(lambda: gguf.read_model(_write(tmp_path, raw)), "a string in array 'k'")


def test_deepseek_shared_experts_from_stacked_rows(tmp_path):
    # two shared experts of width 48 stored as one 64 x 96 matrix; latent attention sizes
    entries = [
        _kv_str("general.architecture", "deepseek2"),
        *(
            _kv_u32(f"deepseek2.{k}", v)
            for k, v in [
                ("block_count", 1), ("embedding_length", 64), ("attention.head_count", 4),
                ("context_length", 128), ("expert_count", 4), ("expert_used_count", 2),
                ("expert_feed_forward_length", 48), ("expert_shared_count", 2),
                ("attention.kv_lora_rank", 32), ("rope.dimension_count", 16),
                ("attention.key_length", 48), ("attention.value_length", 32),
            ]
        ),
    ]  # fmt: skip
    raw = _file(
        entries,
        [
            _info("token_embd.weight", (64, 10), 0, 0),
            _info("blk.0.ffn_gate_inp.weight", (64, 4), 0, 2560),
            _info("blk.0.ffn_up_shexp.weight", (64, 96), 0, 3584),
        ],
        3584 + 64 * 96 * 4,
    )
    fields = gguf.spec_fields(gguf.read_model(_write(tmp_path, raw)))
    assert (fields["family"], fields["n_shared_experts"], fields["shared_intermediate_size"]) == (
        "deepseek_v2",
        2,
        48,
    )
    assert (fields["kv_lora_rank"], fields["qk_rope_head_dim"], fields["head_dim"]) == (32, 16, 48)
    assert fields["extra"]["qk_nope_head_dim"] == 32 and fields["extra"]["v_head_dim"] == 32


@pytest.mark.parametrize(("arch", "sliding"), [("gemma2", (4096, 21)), ("phi3", (0, 0))])
def test_sliding_windows_as_llama_cpp_applies_them(tmp_path, arch, sliding):
    """Gemma 2 (42 layers): every other layer local; Phi-3: llama.cpp disables its window."""
    keys = [("block_count", 42), ("embedding_length", 64), ("attention.head_count", 4)]
    keys += [("context_length", 8192), ("attention.sliding_window", 4096)]
    entries = [_kv_str("general.architecture", arch)]
    entries += [_kv_u32(f"{arch}.{k}", v) for k, v in keys]
    raw = _file(entries, [_info("token_embd.weight", (64, 10), 0, 0)], 2560)
    fields = gguf.spec_fields(gguf.read_model(_write(tmp_path, raw)))
    assert (fields.get("sliding_window", 0), fields.get("n_sliding_layers", 0)) == sliding


def _kv_flags(key: str, flags: list[bool]) -> bytes:
    return _string(key) + struct.pack("<IIQ", 9, 7, len(flags)) + bytes(map(int, flags))


def _qwen35(arch: str = "qwen35", drop: tuple[str, ...] = (), extra: list[bytes] = ()) -> bytes:
    """A Qwen3.5-shaped file: 5 blocks of which the last is the MTP layer, 64 wide, DeltaNet
    layers of 2 key heads and 4 value heads of 16, a convolution of 4 taps."""
    keys = [
        ("block_count", 5), ("nextn_predict_layers", 1), ("embedding_length", 64),
        ("attention.head_count", 4), ("attention.head_count_kv", 2),
        ("attention.key_length", 16), ("context_length", 128), ("ssm.conv_kernel", 4),
        ("ssm.inner_size", 64), ("ssm.state_size", 16), ("ssm.time_step_rank", 4),
        ("ssm.group_count", 2), ("full_attention_interval", 4),
    ]  # fmt: skip
    entries = [_kv_str("general.architecture", arch)]
    entries += [_kv_u32(f"{arch}.{k}", v) for k, v in keys if k not in drop] + list(extra)
    infos = [  # f32: the embedding 64 x 10 (2,560 B), a norm of layer 0 and one of the MTP layer
        _info("token_embd.weight", (64, 10), 0, 0),
        _info("blk.0.attn_norm.weight", (64,), 0, 2560),
        _info("blk.4.attn_norm.weight", (64,), 0, 2816),
    ]
    return _file(entries, infos, 3072)


def test_qwen35_deltanet_layers_and_their_state(tmp_path):
    model = gguf.read_model(_write(tmp_path, _qwen35()))
    fields = gguf.spec_fields(model)
    # the MTP layer (block 4) is not loaded: 4 layers, its 256 bytes apart
    assert fields["n_layers"] == 4 and fields["extra"]["mtp_bytes"] == 256
    assert fields["extra"]["tensor_bytes"] == 2560 + 256 and fields["parameters"] == 640 + 64
    # every fourth layer is full attention: layers 0, 1, 2 are DeltaNet ones
    assert fields["extra"]["recurrent_layers"] == (0, 1, 2)
    assert fields["n_recurrent_layers"] == 3
    # per layer: R = 3 taps x (64 values + 2 x 2 key heads x 16) = 384, S = 16 x 64 = 1,024
    assert fields["recurrent_state"] == 3 * 128 + 1024
    assert fields["family"] == "qwen3_5_text"
    assert (fields["n_kv_heads"], fields["head_dim"]) == (2, 16)
    spec = ModelSpec(**fields)
    from gpumem.offload import layer_kinds

    assert layer_kinds(spec) == ("recurrent", "recurrent", "recurrent", "full")
    # a flag per layer names them instead (llama.cpp's attention.recurrent_layers)
    flags = _kv_flags("qwen35moe.attention.recurrent_layers", [True, False, True, False, False])
    fields = gguf.spec_fields(
        gguf.read_model(_write(tmp_path, _qwen35("qwen35moe", extra=[flags])))
    )
    assert fields["extra"]["recurrent_layers"] == (0, 2)
    assert fields["family"] == "qwen3_5_moe_text"
    assert layer_kinds(ModelSpec(**fields)) == ("recurrent", "full", "recurrent", "full")


@pytest.mark.parametrize("key", ["ssm.state_size", "ssm.conv_kernel", "ssm.group_count"])
def test_qwen35_missing_state_key_named(tmp_path, key):
    model = gguf.read_model(_write(tmp_path, _qwen35(drop=(key,))))
    with pytest.raises(ConfigError, match=f"missing metadata key 'qwen35.{key}'"):
        gguf.spec_fields(model)


def test_qwen35_bad_flags_and_counts_named(tmp_path):
    flags = _kv_flags("qwen35.attention.recurrent_layers", [True, False])
    model = gguf.read_model(_write(tmp_path, _qwen35(extra=[flags])))
    with pytest.raises(ConfigError, match="one flag per layer"):
        gguf.spec_fields(model)
    bad = [_kv_u32("qwen3next.full_attention_interval", 0)]
    raw = _qwen35("qwen3next", drop=("full_attention_interval",), extra=bad)
    with pytest.raises(ConfigError, match="qwen3next.full_attention_interval"):
        gguf.spec_fields(gguf.read_model(_write(tmp_path, raw)))
