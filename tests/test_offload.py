"""The llama.cpp placement planner, against values computed by hand from llama.cpp's rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gpumem.catalog import load_model
from gpumem.errors import GpumemError, InvalidValueError, UnknownNameError
from gpumem.hardware import get_gpu
from gpumem.modelspec import ModelSpec
from gpumem.offload import layer_devices, layer_kinds, plan, weights_from_spec, working_set_bytes

MiB, GiB = 2**20, 2**30
RESERVE = 512 * MiB  # the CUDA context counted on each discrete GPU


def test_ngl_counts_the_output_layer_and_offloads_from_the_last_layer() -> None:
    # i_gpu_start = max(L + 1 - ngl, 0): with 4 layers, -ngl 1 is the output layer alone,
    # -ngl 2 adds layer 3, -ngl 5 is everything; -1 is the CPU.
    assert layer_devices(4, 0, [1]) == [-1, -1, -1, -1, -1]
    assert layer_devices(4, 1, [1]) == [-1, -1, -1, -1, 0]
    assert layer_devices(4, 2, [1]) == [-1, -1, -1, 0, 0]
    assert layer_devices(4, 99, [1]) == [0, 0, 0, 0, 0]


def test_tensor_split_takes_the_first_device_whose_cumulative_share_exceeds_the_position() -> None:
    # -ts 1,1 over 5 slots: positions 0, .2, .4, .6, .8 against split points .5, 1.0.
    assert layer_devices(4, 5, [1, 1]) == [0, 0, 0, 1, 1]
    # -ts 3,1 over 4 slots (-ngl 4): positions 0, .25, .5, .75 against .75, 1.0.
    assert layer_devices(4, 4, [3, 1]) == [-1, 0, 0, 0, 1]


def _toy() -> ModelSpec:
    h, V, per_layer = 64, 100, 50_000
    return ModelSpec(
        name="toy",
        family="llama",
        parameters=2 * V * h + h + 2 * per_layer,  # untied embedding + head, final norm, 2 layers
        embedding_parameters=2 * V * h,
        n_layers=2,
        hidden_size=h,
        n_heads=4,
        n_kv_heads=2,
        head_dim=16,
        intermediate_size=128,
        vocab_size=V,
        max_context=4096,
    )


def test_a_two_layer_toy_by_hand() -> None:
    w = weights_from_spec(_toy(), "fp16")
    assert w.input_bytes == 100 * 64 * 2
    assert w.layer_bytes == (100_000, 100_000)
    assert w.output_bytes == (100 * 64 + 64) * 2
    p = plan(_toy(), ["rtx-4090"], ctx=256, ubatch=32, batch=32, dtype="fp16", ngl=2)
    gpu, cpu = p.devices
    assert gpu.layers == (1,) and gpu.output and cpu.layers == (0,) and not cpu.output
    kv_layer = 2 * 2 * 16 * 256 * 2  # K and V, 2 heads of 16, 256 tokens, 2 bytes
    assert gpu.kv_bytes == cpu.kv_bytes == kv_layer
    assert gpu.weights_bytes == 100_000 + 12_928
    assert cpu.weights_bytes == 100_000 + 12_800
    # 32 tokens: FP32 logits and 2 hidden states (228 values) below 5.5 hidden states (352)
    assert gpu.compute_bytes == cpu.compute_bytes == 4 * 32 * 352
    assert gpu.reserve_bytes == RESERVE and cpu.reserve_bytes == 0
    assert p.flags[:2] == ["-ngl", "2"]


# Llama-3.1-8B in FP16: per layer 4096² × 2 + 1024 × 4096 × 2 (attention) + 3 × 4096 × 14,336
# (MLP) + 2 × 4096 (norms) = 218,112,000 parameters.
LAYER = 218_112_000 * 2
EMBED = 128_256 * 4096 * 2
OUTPUT = (128_256 * 4096 + 4096) * 2
KV_16K = 2 * 8 * 128 * 16_384 * 2  # per layer, f16
COMPUTE = 4 * 512 * (128_256 + 2 * 4096)  # logits and 2 hidden states, where the output is


def test_llama_8b_on_a_16gb_card_at_16k_keeps_two_layers_on_the_cpu() -> None:
    p = plan("llama-3.1-8b", ["rtx-4060-ti-16gb"], ram=32 * 10**9, ctx=16_384, dtype="fp16")
    gpu, cpu = p.devices
    # 33 slots need 32 × (LAYER + KV) + OUTPUT + COMPUTE + RESERVE = 18.0 GB > 17,175,674,880;
    # two layers fewer fit: -ngl 31.
    assert 32 * (LAYER + KV_16K) + OUTPUT + COMPUTE + RESERVE > 17_175_674_880
    assert 30 * (LAYER + KV_16K) + OUTPUT + COMPUTE + RESERVE <= 17_175_674_880
    assert p.ngl == 31 and gpu.layers == tuple(range(2, 32)) and cpu.layers == (0, 1)
    assert gpu.weights_bytes == 30 * LAYER + OUTPUT
    assert gpu.kv_bytes == 30 * KV_16K
    assert cpu.weights_bytes == 2 * LAYER + EMBED
    assert cpu.kv_bytes == 2 * KV_16K
    assert gpu.total_bytes == 30 * (LAYER + KV_16K) + OUTPUT + COMPUTE + RESERVE
    assert p.flags == ("-ngl 31 -c 16384 -b 2048 -ub 512 -ctk f16 -ctv f16 -fa on".split())
    # decode: the GPU reads its weights and KV at 288 GB/s, the CPU its own at 89.6 GB/s
    seconds = (30 * (LAYER + KV_16K) + OUTPUT) / 288e9 + 2 * (LAYER + KV_16K) / 89.6e9
    assert p.decode_ceiling == pytest.approx(1 / seconds)


def test_moe_experts_of_the_first_layers_go_to_the_cpu() -> None:
    p = plan("qwen3-30b-a3b", ["rtx-4090"], ctx=4096, dtype="fp16", n_cpu_moe=5, ngl=49)
    gpu, cpu = p.devices
    experts = 128 * 3 * 2048 * 768 * 2  # 128 experts of gate, up, down; FP16
    assert cpu.expert_layers == (0, 1, 2, 3, 4) and gpu.layers == tuple(range(48))
    assert cpu.weights_bytes == 5 * experts + 151_936 * 2048 * 2
    assert "--n-cpu-moe" in p.flags and p.flags[p.flags.index("--n-cpu-moe") + 1] == "5"
    assert p.override_tensor.startswith(r"blk\.(0|1|2|3|4)\.ffn_(up|down|gate|gate_up)")


def test_a_model_that_fits_keeps_everything_on_the_gpu_and_the_largest_context_fits() -> None:
    p = plan("llama-3.1-8b", ["rtx-4090"], ctx=8192, dtype="fp16")
    assert p.ngl == 33 and p.n_cpu_moe == 0 and p.fits
    same = {"ngl": 33, "n_cpu_moe": 0, "dtype": "fp16"}
    assert 8192 < p.max_ctx < 131_072
    assert plan("llama-3.1-8b", ["rtx-4090"], ctx=p.max_ctx, **same).fits
    assert not plan("llama-3.1-8b", ["rtx-4090"], ctx=p.max_ctx + 1, **same).fits


def test_unified_memory_is_one_pool_with_metals_working_set() -> None:
    mac = get_gpu("m4-pro-64gb")
    assert working_set_bytes(mac) == 49_152 * MiB  # recommendedMaxWorkingSetSize, 64 GB Mac
    p = plan("qwen3-30b-a3b", ["m4-pro-64gb"], ctx=32_768)
    gpu, cpu = p.devices
    assert gpu.reserve_bytes == 0 and gpu.capacity_bytes == 49_152 * MiB
    assert cpu.capacity_bytes == 64 * GiB - gpu.total_bytes
    assert p.prefill_ceiling is None  # Apple publishes no GPU FLOPS
    with pytest.raises(InvalidValueError, match="ram"):
        plan("qwen3-30b-a3b", ["m4-pro-64gb"], ram=64 * 10**9)


def test_bad_input_is_refused_by_name() -> None:
    with pytest.raises(UnknownNameError, match="kv_dtype"):
        plan("llama-3.1-8b", ["rtx-4090"], kv_dtype="fp8")
    with pytest.raises(InvalidValueError, match="kv_dtype"):
        plan("llama-3.1-8b", ["rtx-4090"], kv_dtype="q8_0", flash_attn=False)
    with pytest.raises(InvalidValueError, match="ctx"):
        plan("llama-3.1-8b", ["rtx-4090"], ctx=2**41)
    with pytest.raises(InvalidValueError, match="ngl"):
        plan("llama-3.1-8b", ["rtx-4090"], ngl=34)
    with pytest.raises(GpumemError):
        plan("llama-3.1-8b", [])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpumem", "offload", *args], capture_output=True, text=True
    )


def test_cli_prints_flags_and_json_and_one_line_errors() -> None:
    out = _cli("llama-3.1-8b", "--gpu", "rtx-4060-ti-16gb", "--ctx", "16384", "--dtype", "fp16")
    assert out.returncode == 0 and "-ngl 31 -c 16384" in out.stdout
    data = json.loads(_cli("qwen3-30b-a3b", "--gpu", "rtx-4090", "--ram", "32GB", "--json").stdout)
    assert data["flags"][:2] == ["-ngl", "49"] and data["devices"][-1]["name"] == "cpu"
    bad = _cli("llama-3.1-8b", "--gpu", "rtx-4090", "--kv-dtype", "fp8")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "kv_dtype" in bad.stderr


def test_cli_leaves_sympy_out() -> None:
    code = (
        "import sys; from gpumem.cli import main; "
        "main(['offload', 'qwen3-30b-a3b', '--gpu', 'rtx-4070']); "
        "assert 'sympy' not in sys.modules and 'numpy' not in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_a_gguf_file_gives_exact_bytes_per_slot(tmp_path) -> None:
    from test_gguf import _EMBED, _LAYER, _llama

    path = tmp_path / "tiny.gguf"
    _llama(path, tied=True)
    p = plan(path, ["rtx-4090"], ctx=128, ngl=2)  # layer 1 and the output layer
    gpu, cpu = p.devices
    assert p.exact and gpu.layers == (1,) and cpu.layers == (0,)
    # the tied embedding is loaded again as the output layer, with the output norm (64 f32)
    assert gpu.weights_bytes == _LAYER + _EMBED + 64 * 4
    assert cpu.weights_bytes == _LAYER + _EMBED
    with pytest.raises(InvalidValueError, match="dtype"):
        plan(path, ["rtx-4090"], dtype="q4_k_m")
    # one path: the catalog's reader gives the same slots, and a spec read once plans the same
    spec = load_model(str(path))
    assert spec.extra["llamacpp_slots"]["layer_bytes"] == (_LAYER, _LAYER)
    assert plan(spec, ["rtx-4090"], ctx=128, ngl=2).devices == p.devices


def _gpumem(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gpumem", *args], capture_output=True, text=True, timeout=60
    )


def test_fit_on_a_gguf_file_answers_with_llamacpps_conventions(tmp_path) -> None:
    from test_gguf import _LAYER, _llama

    path = tmp_path / "tiny.gguf"
    _llama(path, tied=False)
    done = _gpumem("fit", str(path), "--gpu", "rtx-4090", "--seq", "128", "--json")
    data = json.loads(done.stdout)
    # every slot on the GPU (-ngl 3 of 2 layers + output), -c from --seq, the CUDA context
    assert data["ngl"] == 3 and data["ctx"] == 128 and data["fits"]
    gpu = data["devices"][0]
    assert gpu["layers"] == [0, 1] and gpu["output"] and gpu["reserve_bytes"] == RESERVE
    assert gpu["weights_bytes"] > 2 * _LAYER and data["devices"][1]["weights_bytes"] > 0
    two = _gpumem("fit", str(path), "--gpu", "rtx-4070", "--gpus", "2", "--kv-dtype", "fp16")
    # -ts in MiB of each card: the RTX 4070's nvidia-smi memory.total, 12,282 MiB
    assert two.returncode == 0 and "-ts 12282,12282" in two.stdout and "-ctk f16" in two.stdout
    for refused, word in (
        (["--mode", "training"], "training"),
        (["--batch", "4"], "batch"),
        (["--dtype", "q4_0"], "dtype"),
        (["--tp", "2"], "tp"),
        (["--kv-dtype", "fp16,q8_0"], "kv_dtype"),
        (["--attention", "math"], "flash or eager"),
    ):
        done = _gpumem("fit", str(path), "--gpu", "rtx-4090", *refused)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith("gpumem: error: ") and word in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def _records() -> list[dict]:
    path = Path(__file__).parents[1] / "gpumem" / "data" / "llamacpp_measurements.json"
    return json.loads(path.read_text(encoding="utf-8"))["records"]


@pytest.mark.parametrize("record", _records(), ids=lambda r: f"{r['model']}-{r['n_ctx']}")
def test_cpu_buffers_match_what_llamacpp_reported(record: dict) -> None:
    """With -ngl 0 the CPU holds everything: its KV cache (both caches of a windowed model) is
    what llama.cpp printed (to the 0.01 MiB it prints) and its compute buffer within 5 %."""
    p = plan(
        load_model(record["model"]).with_(**record.get("shape", {})),
        ["rtx-4090"],
        ctx=record["n_ctx"],
        batch=record["n_batch"],
        ubatch=record["n_ubatch"],
        kv_dtype=record["kv_type"],
        flash_attn=record["flash_attn"],
        swa_full=record.get("swa_full", False),
        dtype="fp16",
        ngl=0,
        n_cpu_moe=0,
    )
    cpu = p.devices[-1]
    caches = ("kv_cache", "kv_cache_swa", "recurrent_state")
    printed = sum(record[k]["mib"] for k in caches if k in record)
    assert abs(cpu.kv_bytes / MiB - printed) <= 0.01  # two or three figures rounded
    error = cpu.compute_bytes / (record["compute_buffer_exact"]["CPU"] * MiB) - 1
    # the mixtures of the Qwen3.5 generation are held at their measured error
    from test_llamacpp_records import BOUNDS

    assert abs(error) <= BOUNDS.get(record["model"], 0.05), f"{error:+.2%}"


def test_gemma3_layers_follow_llamacpps_pattern() -> None:
    # set_swa_pattern(6): layers 5, 11, 17, … attend to everything, the others to the window
    kinds = layer_kinds(load_model("gemma-3-27b"))
    assert [i for i, k in enumerate(kinds) if k == "full"] == list(range(5, 62, 6))
    assert kinds.count("sliding") == 52
    # gpt-oss: every other layer, from layer 0 (set_swa_pattern(2))
    kinds = layer_kinds(load_model("gpt-oss-20b"))
    assert kinds[:4] == ("sliding", "full", "sliding", "full") and kinds.count("full") == 12
    # Mistral's window is not applied by llama.cpp (its llama architecture has no SWA)
    assert set(layer_kinds(load_model("mistral-7b-v0.1"))) == {"full"}


def test_each_gpu_holds_the_cache_of_its_own_layers_of_each_kind() -> None:
    # Gemma 3 4B over two equal GPUs, everything offloaded (35 slots, split at 0.5): layers
    # 0-17 on the first (full: 5, 11, 17), 18-33 and the output on the second (full: 23, 29).
    # 16,384 tokens: a full layer holds 16,384 cells, a windowed one pad256(1024 + 512) = 1,536;
    # 4 KV heads x 256 x (K + V) x 2 bytes = 4,096 bytes per cell and layer.
    p = plan("gemma-3-4b", ["rtx-4090", "rtx-4090"], ctx=16384, ngl=35, split=[1, 1])
    first, second, cpu = p.devices
    assert first.layers == tuple(range(18)) and second.layers == tuple(range(18, 34))
    assert first.kv_bytes == 4096 * (3 * 16384 + 15 * 1536)
    assert second.kv_bytes == 4096 * (2 * 16384 + 14 * 1536)
    assert cpu.kv_bytes == 0
    # --swa-full: every layer holds the whole context
    full = plan("gemma-3-4b", ["rtx-4090", "rtx-4090"], ctx=16384, ngl=35, split=[1, 1],
                swa_full=True)  # fmt: skip
    assert full.devices[0].kv_bytes == 4096 * 18 * 16384 and "--swa-full" in full.flags


def test_context_is_padded_to_256_cells_and_the_window_to_256() -> None:
    # -c 5000 gives 5,120 cells; gpt-oss's window: pad256(128 + 512) = 768 cells;
    # 8 KV heads x 64 x 2 x 2 bytes = 2,048 bytes per cell and layer, 12 layers of each kind
    p = plan("gpt-oss-20b", ["rtx-4090"], ctx=5000, ngl=0, n_cpu_moe=0, dtype="q4_0")
    assert p.devices[-1].kv_bytes == 2048 * 12 * (5120 + 768)


def test_chunked_and_recurrent_layers_split_with_their_devices() -> None:
    # A Llama 4-style spec: 12 of 16 layers chunked (every fourth full: 3, 7, 11, 15), chunks of
    # 8,192 tokens: pad256(8192 + 512) = 8,704 cells at a 32k context
    base = load_model("llama-3.2-1b")
    chunked = base.with_(family="llama4_text", attention_chunk=8192, n_chunked_layers=12)
    kinds = layer_kinds(chunked)
    assert [i for i, k in enumerate(kinds) if k == "full"] == [3, 7, 11, 15]
    p = plan(chunked, ["rtx-4090"], ctx=32768, ngl=9, dtype="q4_0")  # layers 8-15 + output
    per_cell = 2 * 8 * 64 * 2  # 8 KV heads x 64 x (K + V) x 2 bytes
    assert p.devices[0].kv_bytes == per_cell * (2 * 32768 + 6 * 8704)
    assert p.devices[1].kv_bytes == per_cell * (2 * 32768 + 6 * 8704)
    # Recurrent layers: a fixed F32 state each, wherever the layer is
    hybrid = base.with_(n_recurrent_layers=12, recurrent_state=10_000)
    p = plan(hybrid, ["rtx-4090"], ctx=32768, ngl=9, dtype="q4_0")
    assert p.devices[0].kv_bytes == per_cell * 2 * 32768 + 4 * 10_000 * 6


def test_a_gpu_known_only_by_its_memory() -> None:
    # --vram 12GiB beside a catalog GPU, in the order given: 12 GiB = 12,288 MiB of -ts, and no
    # decode ceiling since the first GPU's bandwidth is unknown
    done = _gpumem("offload", "qwen2.5-7b", "--vram", "12GiB", "--gpu", "rtx-4070", "--json")
    data = json.loads(done.stdout)
    assert data["devices"][0]["name"] == "12GiB" and data["devices"][1]["name"] == "rtx-4070"
    assert data["devices"][0]["capacity_bytes"] == 12 * 2**30
    assert data["decode_ceiling"] is None and data["devices"][0]["token_seconds"] is None
    alone = _gpumem("offload", "qwen2.5-7b", "--gpu", "rtx-4070")
    assert alone.returncode == 0 and "decode —" not in alone.stdout
    none = _gpumem("offload", "qwen2.5-7b", "--ctx", "4096")
    assert none.returncode == 2 and none.stdout == ""
    assert none.stderr.strip() == "gpumem: error: give one GPU at least: --gpu ID or --vram SIZE"


def test_a_context_beyond_the_trained_one_is_said(tmp_path) -> None:
    from test_gguf import _llama

    path = tmp_path / "tiny.gguf"
    _llama(path, tied=False)  # trained for 128 tokens
    done = _gpumem("offload", str(path), "--gpu", "rtx-4070", "--ctx", "16384")
    assert done.returncode == 0
    assert "-c 16,384 is beyond the 128 tokens the model was trained for" in done.stdout
    within = _gpumem("offload", str(path), "--gpu", "rtx-4070", "--ctx", "128")
    assert "trained for" not in within.stdout


def test_qwen36_as_llamacpp_runs_it_leaves_the_vision_tower_out() -> None:
    """Qwen3.6-27B as llama.cpp runs it: the language model's weights (the vision tower sits in
    the --mmproj file), 16 full-attention layers' KV cache and 48 DeltaNet layers' F32 state.

    By hand: the published 27,781,427,952 less the MTP module (424,699,392) and the vision tower
    (460,730,096) leave 26,895,998,464 language-model parameters, of which 2 x 248,320 x 5,120
    are the embedding and the LM head. At -c 4096, f16: 16 layers x 4,096 cells x 2 x 4 KV
    heads x 256 x 2 bytes; per DeltaNet layer 4 bytes x (3 x (2 x 16 x 128 + 48 x 128) +
    48 x 128 x 128) = 3,268,608 bytes."""
    p = plan("qwen3.6-27b", ["rtx-4090"], ctx=4096, ngl=0, dtype="fp16")
    cpu = p.devices[-1]
    assert p.vision_parameters == 460_730_096
    text = 27_781_427_952 - 424_699_392 - 460_730_096
    # fp16: 2 bytes a value; the CPU holds the embedding, every layer and the output layer
    assert cpu.weights_bytes == 2 * text
    assert cpu.kv_bytes == 16 * 4096 * 2 * 4 * 256 * 2 + 48 * 3_268_608
    assert layer_kinds(load_model("qwen3.6-27b"))[:4] == ("recurrent",) * 3 + ("full",)
    done = subprocess.run(
        [sys.executable, "-m", "gpumem", "offload", "qwen3.6-27b", "--gpu", "rtx-4090"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "vision tower (460,730,096 parameters) not counted" in done.stdout
    assert "--mmproj" in done.stdout
    # a model without a tower says nothing of it
    assert plan("llama-3.2-1b", ["rtx-4090"]).vision_parameters == 0


def test_a_qwen35_gguf_file_keeps_each_layers_cache_where_the_layer_is(tmp_path) -> None:
    """A Qwen3.6-27B-shaped file of four layers (DeltaNet layers 0-2, full attention 3), 256
    wide: the full layer's cache at -c 1024 is 1,024 cells x 2 x 4 KV heads x 256 x 2 bytes;
    each DeltaNet layer's state 4 bytes x (3 x (2 x 16 x 128 + 48 x 128) + 48 x 128 x 128)."""
    pytest.importorskip("gguf")
    from gpumem.measure.llamacpp import write_gguf

    spec = load_model("qwen3.6-27b").with_(
        n_layers=4, n_recurrent_layers=3, hidden_size=256, vocab_size=320, intermediate_size=256
    )
    path = tmp_path / "q.gguf"
    write_gguf(spec, "q8_0", path)
    p = plan(path, ["rtx-4090"], ctx=1024, ngl=2)  # layer 3 and the output layer
    gpu, cpu = p.devices
    assert gpu.layers == (3,) and cpu.layers == (0, 1, 2)
    assert gpu.kv_bytes == 1024 * 2 * 4 * 256 * 2
    assert cpu.kv_bytes == 3 * 4 * (3 * (2 * 16 * 128 + 48 * 128) + 48 * 128 * 128)
    assert p.exact and p.vision_parameters == 0
