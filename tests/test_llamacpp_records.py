"""gpumem against what llama.cpp itself reported loading GGUF files of catalog models
(gpumem/data/llamacpp_measurements.json, written by ``python -m gpumem.measure.llamacpp``).

The weights must match llama.cpp to the byte, the KV cache to the figure it prints; the compute
buffer is compared with a simple model and how far it is reported (the issue's target is 5 %).
No llama.cpp is needed: the records are committed.
"""

from __future__ import annotations

import inspect
import json
from math import prod
from pathlib import Path

import pytest

from gpumem._generated import formulas as fx
from gpumem.catalog import load_model
from gpumem.gguf import GEMMA3, TEXT_FAMILY, ggml_type, layout, storage, tensor_bytes
from gpumem.measure.llamacpp import ADDED, CONTEXTS, MODELS, SHAPES, held_out
from gpumem.offload import KEPT_STATE_FAMILIES

DATA = json.loads(
    (Path(__file__).parents[1] / "gpumem" / "data" / "llamacpp_measurements.json").read_text(
        encoding="utf-8"
    )
)
RECORDS = DATA["records"]
MIB = 2**20


def _id(record: dict) -> str:
    flags = ("-fa" if record["flash_attn"] else "") + ("-swafull" if record.get("swa_full") else "")
    return (
        f"{record['model']}-{record['weights']}-c{record['n_ctx']}-b{record['n_batch']}"
        f"-u{record['n_ubatch']}-{record['kv_type']}{flags}"
    )


def _spec(record: dict):
    """The catalog model with the shapes the record's file was written with."""
    assert record.get("shape", {}) == SHAPES.get(record["model"], {})
    return load_model(record["model"]).with_(**record.get("shape", {}))


def _pad(cells: int) -> int:
    """llama.cpp pads the context, and the windowed cache, to 256 cells (GGML_PAD)."""
    return -(-cells // 256) * 256


def _printed(n_bytes: float) -> str:
    """A byte count as llama.cpp prints it: MiB with two decimals (``%.2f``)."""
    return f"{n_bytes / MIB:.2f}"


def test_provenance_and_split():
    p = DATA["provenance"]
    assert p["llama_cpp_commit"].startswith("ggml-org/llama.cpp@")
    assert p["llama_cpp_python"] == "0.3.36" and p["gguf"] == "0.19.0"
    assert len(RECORDS) >= 20
    assert {r["model"] for r in RECORDS} == set(MODELS)
    for r in RECORDS:  # the split recorded is the rule fixed before fitting
        assert r["held_out"] == held_out(r["model"], r["n_ctx"])
        added = {row[0] for row in ADDED.get(r["model"], ())}
        assert r["n_ctx_loaded"] == r["n_ctx"] and r["n_ctx"] in {*CONTEXTS, *added}
    assert 0 < sum(r["held_out"] for r in RECORDS) < len(RECORDS)


def _tensors(record: dict) -> list[tuple[str, int]]:
    """(ggml type, bytes) of every tensor of the record's file, from shapes and block sizes."""
    spec = _spec(record)
    out = []
    for name, shape in layout(spec):
        kind = ggml_type(storage(name, record["weights"]))
        out.append((kind.name, tensor_bytes(kind, shape)))
    return out


@pytest.mark.parametrize("record", RECORDS, ids=_id)
def test_weights_to_the_byte(record):
    """Tensor bytes from shapes and ggml block sizes = llama_model_size(), and the buffers as
    printed: the mapped file, plus (x86 AVX2) a repacked copy of the Q4_0 / Q4_K matrices."""
    tensors = _tensors(record)
    ours = sum(n for _, n in tensors)
    assert ours == record["model_size"] == record["tensor_bytes"]
    buffers = record["model_buffer"]
    repacked = sum(n for kind, n in tensors if kind in ("q4_0", "q4_K"))
    mapped = ours
    if repacked and not _spec(record).tie_word_embeddings:
        # the input embedding cannot be repacked (get_rows); beside a separate LM head it is
        # left out of the printed mapped buffer (where llama.cpp counts it is not in the log)
        mapped -= tensors[0][1]  # token_embd.weight
    assert f"{buffers['CPU_Mapped']:.2f}" == _printed(mapped)
    if repacked:
        assert f"{buffers['CPU_REPACK']:.2f}" == _printed(repacked - (ours - mapped))
    else:
        assert set(buffers) == {"CPU_Mapped"}


def _call(formula, **values: float) -> float:
    """A generated formula with these inputs; those it has beyond them (layer kinds) are 0."""
    return formula(**{name: values.get(name, 0) for name in inspect.signature(formula).parameters})


@pytest.mark.parametrize("record", RECORDS, ids=_id)
def test_kv_cache_as_printed(record):
    """gpumem's KV formulas with the cache type's ggml bytes per value (f16: 2, q8_0: 34/32).

    Full-attention layers hold the context padded to 256 cells; without ``swa_full`` the
    windowed layers (Gemma 3: 5 of each 6, gpt-oss: every other) hold the window plus one
    micro-batch, padded to 256 (llama.cpp's ``llama_kv_cache_iswa``), printed as a second line.
    """
    spec = _spec(record)
    kind = ggml_type(record["kv_type"])
    values = fx.kv_values_gqa(n_kv=spec.n_kv_heads, d_h=spec.head_dim, N_tp=1)
    same = {"B": 1, "b_kv": kind.size / kind.block, "N_pp": 1, "e_kv": values}
    windowed = spec.n_sliding_layers
    attending = spec.n_layers - windowed - spec.n_recurrent_layers
    caches = [(record["kv_cache"], attending, _pad(record["n_ctx"]))]
    if windowed:
        n_u = min(record["n_ctx"], record["n_batch"], record["n_ubatch"])
        cells = _pad(record["n_ctx"])
        if not record.get("swa_full"):
            cells = _pad(min(record["n_ctx"], spec.sliding_window + n_u))
        caches.append((record["kv_cache_swa"], windowed, cells))
    else:
        assert "kv_cache_swa" not in record
    for kv, layers, cells in caches:
        bytes_ = _call(fx.kv_cache_full, L=layers, s=cells, **same)
        assert (kv["cells"], kv["layers"]) == (cells, layers)
        assert (kv["k_type"], kv["v_type"]) == (record["kv_type"], record["kv_type"])
        assert _printed(bytes_) == f"{kv['mib']:.2f}"
        assert _printed(bytes_ / 2) == f"{kv['k_mib']:.2f}" == f"{kv['v_mib']:.2f}"
    assert ("recurrent_state" in record) == bool(spec.n_recurrent_layers)


# Qwen3.6's and Qwen3-Next's gated DeltaNet layers, by hand from their configs: 16 key heads and
# 48 (27B) or 32 (35B-A3B, Qwen3-Next-80B-A3B) value heads of 128, a convolution of 4 taps. Per
# layer and sequence llama.cpp keeps R, the convolution's last 3 inputs of its 2 x 16 x 128 +
# V x 128 channels, and S, one 128 x 128 matrix per value head, both F32 whatever -ctk/-ctv
# (llama_memory_recurrent).
RECURRENT = {  # model: (R bytes, S bytes) of the file's three DeltaNet layers
    "qwen3.6-27b": (3 * 3 * (4096 + 48 * 128) * 4, 3 * 48 * 128 * 128 * 4),
    "qwen3.6-35b-a3b": (3 * 3 * (4096 + 32 * 128) * 4, 3 * 32 * 128 * 128 * 4),
    "qwen3-next-80b-a3b": (3 * 3 * (4096 + 32 * 128) * 4, 3 * 32 * 128 * 128 * 4),
}


@pytest.mark.parametrize("record", [r for r in RECORDS if r["model"] in RECURRENT], ids=_id)
def test_recurrent_state_as_printed(record):
    """The recurrent-state buffer llama.cpp prints: one cell (one sequence), no rollback rows,
    R and S in F32, to the 0.01 MiB it prints; and gpumem's count of it (its cache formula at
    4 bytes a value, one sequence) equals the hand count."""
    rs = record["recurrent_state"]
    r_bytes, s_bytes = RECURRENT[record["model"]]
    assert (rs["cells"], rs["seqs"], rs["rs_seq"], rs["r_type"], rs["s_type"]) == (
        1, 1, 0, "f32", "f32",
    )  # fmt: skip
    assert (_printed(r_bytes), _printed(s_bytes)) == (f"{rs['r_mib']:.2f}", f"{rs['s_mib']:.2f}")
    assert _printed(r_bytes + s_bytes) == f"{rs['mib']:.2f}"
    spec = _spec(record)
    ours = _call(
        fx.kv_cache_recurrent, B=1, b_kv=4, k_c=1, L_r=spec.n_recurrent_layers, N_pp=1, N_tp=1,
        e_r=spec.recurrent_state,
    )  # fmt: skip
    assert ours == r_bytes + s_bytes


@pytest.mark.parametrize("record", RECORDS, ids=_id)
def test_output_buffer_holds_one_row_of_logits(record):
    """The output buffer reserved at start: one f32 logit per vocabulary entry (one sequence)."""
    assert _printed(4 * _spec(record).vocab_size) == f"{record['output_buffer']['CPU']:.2f}"


def compute_buffer(record: dict) -> int:
    """gpumem's ``llamacpp_compute_buffer`` for a record (one device, which holds the output).

    Its two coefficients (2 and 5.5 hidden states per token) were read off the fitted records
    (Qwen2.5-0.5B and Llama-3.2-1B at 512 and 4,096 tokens), not the held-out ones. The
    shared-expert term is counted from the addresses ggml's allocator gave Qwen1.5-MoE's
    last layer (the routed experts' sum sits above their stacked outputs), not fitted, and its
    placement below them (a_st = 0) from Qwen3.6-35B-A3B's; so is
    gpt-oss's kept last hidden state (above the experts' stacked outputs and the router's
    values without flash attention), from the addresses its 2-layer file got at 512 tokens.
    """
    spec = _spec(record)
    return fx.llamacpp_compute_buffer(
        h=spec.hidden_size,
        n_h=spec.n_heads,
        V=spec.vocab_size,
        s=record["kv_cache"]["cells"],  # the full-attention layers' cells, the most
        n_u=min(record["n_ctx"], record["n_ubatch"], record["n_batch"]),
        o_L=1,
        a_fa=int(record["flash_attn"]),
        n_e=spec.n_experts,
        k_e=spec.n_experts_active,
        a_sh=int(spec.n_shared_experts > 0),
        a_st=int(spec.hidden_size <= 2 * spec.moe_intermediate_size),
        a_kp=int(spec.family in KEPT_STATE_FAMILIES),
    )


def _error(record: dict) -> float:
    reported = record["compute_buffer_exact"]["CPU"] * MIB
    return compute_buffer(record) / reported - 1


#: Held-out models held closer than the 5 % target, at their measured error: the mixtures of
#: the Qwen3.5 generation and Qwen3-Next, whose routed experts' sum takes the block their freed
#: gate and up projections left, below their stacked outputs (h = 4 f_e), as the addresses of a
#: Qwen3.6-35B-A3B run (-c 1024, -ub 256, a setting recorded as held out first) show: from
#: +0.97 % (Qwen3-Next at 512 tokens) to -3.42 % (16,384 tokens, where the attention scores
#: decide); before that placement was counted, +6.2 % to +6.8 % and +12.7 % to +13.8 %.
BOUNDS = {"qwen3.6-35b-a3b": 0.035, "qwen3-next-80b-a3b": 0.035}


@pytest.mark.parametrize("record", RECORDS, ids=_id)
def test_compute_buffer_simple_model(record):
    error = _error(record)
    assert abs(error) <= BOUNDS.get(record["model"], 0.05), f"{error:+.2%}"  # target 5 %
    if not record["held_out"]:
        assert abs(error) <= 0.016  # the records the two coefficients were read from


#: Vision towers of the Qwen3.6 checkpoints, by hand: 27 ViT blocks of 1,152 (qkv and output
#: projections with biases, an MLP of 4,304 with biases, two LayerNorms), the patch embedding
#: (3 x 2 x 16 x 16 -> 1,152 with bias), 2,304 learned positions and the merger (LayerNorm,
#: 4,608 -> 4,608 -> the text width, with biases).
_BLOCK = 4 * 1152 * 1152 + 4 * 1152 + 2 * 1152 * 4304 + 4304 + 1152 + 4 * 1152
_TOWER = 27 * _BLOCK + 1536 * 1152 + 1152 + 2304 * 1152 + 2 * 1152 + 4608 * 4608 + 4608
VISION = {
    "qwen3.6-27b": _TOWER + 4608 * 5120 + 5120,
    "qwen3.6-35b-a3b": _TOWER + 4608 * 2048 + 2048,
}


@pytest.mark.parametrize("model", [m for m in MODELS if m != "gemma-3-4b"])
def test_files_have_the_published_parameter_count(model):
    """The tensors written for llama.cpp hold the catalog's published count, to the digits it
    is published with (gpt-oss: 20.91 billion; Gemma 3's count holds its vision tower, which
    a language model's GGUF file leaves out). Qwen3.6's published totals also hold the vision
    tower (in the projector file) and the MTP module (uncounted_parameters): the tensors are
    the rest, 27,781,427,952 - 424,699,392 - 460,730,096 = 26,895,998,464 (27B)."""
    entry = json.loads(
        (Path(__file__).parents[1] / "gpumem" / "data" / "models" / f"{model}.json").read_text()
    )
    published = entry["published_parameters"] - entry.get("uncounted_parameters", 0)
    published -= VISION.get(model, 0)
    count = sum(prod(shape) for _, shape in layout(load_model(model)))
    assert count == published or (published % 10**7 == 0 and round(count, -7) == published)


@pytest.mark.parametrize("model", MODELS)
def test_written_file_reads_back(tmp_path, model):
    """A file the harness writes (shrunk: 2 layers, small vocabulary and MLPs) reads back into
    the spec it was written from."""
    pytest.importorskip("gguf")
    from gpumem.gguf import read_model, spec_fields
    from gpumem.measure.llamacpp import write_gguf

    spec = load_model(model)
    small = {"n_layers": 2, "vocab_size": 320, "intermediate_size": 256}
    if spec.n_recurrent_layers:  # two DeltaNet layers and the full one closing the group
        small |= {"n_layers": 3, "n_recurrent_layers": 2}
    if spec.sliding_window:  # Gemma 3: both layers windowed (5 of each 6); gpt-oss: the first
        small["n_sliding_layers"] = 2 if spec.family in GEMMA3 else 1
    if spec.is_moe:
        small |= {"n_experts": 8, "moe_intermediate_size": 64, "n_dense_layers": 0}
        small["n_experts_active"] = min(spec.n_experts_active, 8)
        if spec.n_shared_experts:
            small["shared_intermediate_size"] = 128
        if spec.family in ("olmoe", "gpt_oss"):
            small["intermediate_size"] = 64
    spec = spec.with_(**small)
    path = tmp_path / "m.gguf"
    written = write_gguf(spec, "q8_0", path)
    model_file = read_model(path)
    fields = spec_fields(model_file)
    assert model_file.tensor_bytes == written
    assert fields["parameters"] == sum(prod(shape) for _, shape in layout(spec))
    assert fields["family"] == TEXT_FAMILY.get(spec.family, spec.family)
    for name in (
        "sliding_window", "n_sliding_layers", "n_layers", "hidden_size", "n_heads",
        "n_recurrent_layers", "recurrent_state",
        "n_kv_heads", "head_dim",
        "intermediate_size", "vocab_size", "max_context", "tie_word_embeddings", "n_experts",
        "n_experts_active", "moe_intermediate_size", "n_shared_experts",
        "shared_intermediate_size", "n_dense_layers",
    ):  # fmt: skip
        assert fields.get(name, 0) == getattr(spec, name), name


def test_experts_sum_below_their_stacked_outputs_by_hand():
    """Qwen3.6-35B-A3B (h 2,048, experts of 512): a down projection's 8 x 2,048 values per token
    do not fit the 2 x 8 x 512 its gate and up projections left, so the end of the graph holds
    the logits above the experts' sum, three hidden states and the router's 2 x 256 + 8 values
    and the shared expert's gate; Qwen1.5-MoE's (experts of 1,408) do fit, and its stacked
    outputs (4 x 2,048 per token) stay under the logits."""
    n_u = 256
    q36 = {"h": 2048, "V": 248320, "n_e": 256, "k_e": 8, "n_h": 16, "a_st": 0}
    end = 4 * n_u * (248320 + 4 * 2048 + 2 * 256 + 8 + 1)
    ours = _call(fx.llamacpp_compute_buffer, **q36, s=1024, n_u=n_u, o_L=1, a_sh=1)
    assert ours == end
    q15 = {"h": 2048, "V": 151936, "n_e": 60, "k_e": 4, "n_h": 16, "a_st": 1}
    end = 4 * n_u * (151936 + (4 + 4) * 2048 + 2 * 60 + 4 + 1)
    assert _call(fx.llamacpp_compute_buffer, **q15, s=1024, n_u=n_u, o_L=1, a_sh=1) == end
