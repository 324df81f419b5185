"""The command line: output, JSON, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gpumem.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def gpumem(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    """``python -m gpumem ARGV`` in a process of its own (for its real stdout)."""
    return subprocess.run(
        [sys.executable, "-m", "gpumem", *argv], capture_output=True, text=True, **kwargs
    )


def test_estimate_table_states_units(capsys) -> None:
    code, out, err = run(capsys, "estimate", "llama-2-7b", "--dtype", "fp16")
    assert code == 0 and not err
    assert "GB" in out and "GiB" in out and "Weights" in out
    assert "13.48" in out  # 6,738,415,616 x 2 bytes = 13.48 GB


def test_estimate_new_tokens(capsys) -> None:
    # 1,000-token prompt + 1,000 new tokens on Llama 3.1 8B: 2,000 tokens x 131,072 bytes of
    # KV cache at the last decoding step = 0.26 GB
    code, out, err = run(
        capsys, "estimate", "llama-3.1-8b", "--seq", "1000", "--new-tokens", "1000", "--json"
    )
    assert code == 0 and not err
    data = json.loads(out)
    assert data["components"]["kv_cache"] == 262_144_000 and data["phase"] == "decode"
    code, _, err = run(
        capsys, "estimate", "llama-3.1-8b", "--mode", "training", "--new-tokens", "8"
    )
    assert code == 2 and err.startswith("gpumem: error: invalid new_tokens 8")


def test_estimate_lora_targets(capsys) -> None:
    # Llama 2 7B, rank 8 on q_proj and v_proj: 4,194,304 FP32 adapter parameters
    argv = ("estimate", "llama-2-7b", "--mode", "training", "--lora-rank", "8", "--json")
    code, out, _ = run(capsys, *argv, "--lora-targets", "q_proj,v_proj")
    assert code == 0 and json.loads(out)["components"]["adapter_weights"] == 4 * 4_194_304
    code, _, err = run(capsys, *argv, "--lora-targets", "qproj")
    assert code == 2 and err.startswith("gpumem: error: unknown lora_targets 'qproj'")


def test_estimate_math_attention(capsys) -> None:
    argv = ("estimate", "deepseek-v2-lite", "--seq", "8192", "--json")
    code, out, _ = run(capsys, *argv, "--attention", "math")
    _, fused, _ = run(capsys, *argv)
    assert code == 0
    assert json.loads(out)["workload"]["attention"] == "math"
    # 2 x 16 heads x 8,192^2 FP32 scores and probabilities, at least
    grown = json.loads(out)["tensor_bytes"] - json.loads(fused)["tensor_bytes"]
    assert grown > 2 * 16 * 8192**2 * 4 - 2 * 10**9
    code, _, err = run(capsys, "estimate", "llama-2-7b", "--attention", "sdpa")
    assert code == 2 and err.startswith("gpumem: error:")
    assert "'sdpa'" in err and "flash, eager, math" in err
    # in training: 32 layers x 32 heads x 4,096^2 FP32 probabilities saved, at least
    training = ("estimate", "llama-2-7b", "--mode", "training", "--seq", "4096", "--json")
    code, out, _ = run(capsys, *training, "--attention", "math")
    _, fused, _ = run(capsys, *training)
    assert code == 0
    forward = (json.loads(x)["phases"]["forward"] for x in (out, fused))
    assert next(forward) - next(forward) > 32 * 32 * 4096**2 * 4


def test_estimate_json(capsys) -> None:
    code, out, _ = run(
        capsys,
        "estimate",
        "llama-2-7b",
        "--mode",
        "training",
        "--batch",
        "2",
        "--grad-checkpointing",
        "--zero",
        "3",
        "--dp",
        "8",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert isinstance(data["total_bytes"], int)
    assert data["total_bytes"] == sum(data["components"].values())
    assert data["model"]["parameters"] == 6_738_415_616
    assert data["model"]["n_layers"] == 32
    assert data["workload"]["checkpointing"] == "full"


def test_config_file_and_directory(capsys, tmp_path) -> None:
    from gpumem.catalog import catalog_entry

    config = tmp_path / "config.json"
    config.write_text(json.dumps(catalog_entry("gpt2")["config"]))
    code, out, _ = run(capsys, "estimate", str(config), "--json")
    assert code == 0 and json.loads(out)["model"]["parameters"] == 124_439_808
    code, out, _ = run(capsys, "estimate", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)["model"]["parameters"] == 124_439_808


def test_fit_and_listings(capsys) -> None:
    code, out, _ = run(capsys, "fit", "llama-2-7b", "--gpu", "rtx-4090", "--dtype", "q4_k_m")
    assert code == 0 and "fits" in out and "largest batch" in out
    code, out, _ = run(capsys, "fit", "llama-2-70b", "--gpu", "rtx-4090", "--json")
    data = json.loads(out)
    # 68,976,648,192 BF16 parameters (138 GB) cannot fit in 24 GB; tensor parallelism over
    # 8 cards holds 17 GB of weights each, so the smallest layout needs more than one GPU.
    assert data["fits"] is False and data["max_batch"] is None
    assert data["layout"]["gpus"] > 1 and data["layout"]["total_bytes_per_gpu"] < 24e9
    for listing in ("models", "gpus", "formats"):
        code, out, _ = run(capsys, listing)
        assert code == 0 and len(out.splitlines()) > 10
    code, out, _ = run(capsys, "gpus", "--json")
    assert len(json.loads(out)) >= 25


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["estimate", "llama-2-7x"], "did you mean 'llama-2-7b'"),
        (["estimate", "llama-2-7b", "--dtype", "fp9"], "q4_k_m"),
        (["estimate", "llama-2-7b", "--batch", "0"], "positive integer, got '0'"),
        (["estimate", "llama-2-7b", "--batch", "-3"], "positive integer"),
        (["estimate", "llama-2-7b", "--seq", "many"], "got 'many'"),
        (["estimate", "llama-2-7b", "--tp", "3"], "does not divide"),
        (["estimate", "llama-2-7b", "--pp", "64"], "64"),
        (["estimate", "llama-2-7b", "--zero", "5", "--mode", "training"], "0, 1, 2 or 3"),
        (["estimate", "llama-2-7b", "--optimizer", "adamw"], "applies to training"),
        (["estimate", "llama-2-7b", "--mode", "serve"], "training"),
        (["estimate", "llama-2-7b", "--cuda-context", "lots"], "512MiB"),
        # Sizes need their unit: a bare 512 is not taken for 512 bytes (nor for MiB).
        (["estimate", "gpt2", "--cuda-context", "512"], "with its unit"),
        (["estimate", "gpt2", "--cuda-context", "inf"], "got 'inf'"),
        (["estimate", "gpt2", "--cuda-context", "1e400"], "got '1e400'"),
        (["estimate", "gpt2", "--cuda-context", "nan"], "got 'nan'"),
        (["estimate", "gpt2", "--cuda-context", "-1GiB"], "got '-1GiB'"),
        (["estimate", "gpt2", "--cuda-context", "nanGiB"], "got 'nanGiB'"),
        (["estimate", "gpt2", "--allocator-reserve", "nan"], "got 'nan'"),
        (["estimate", "gpt2", "--batch", "1" + "0" * 5000], "positive integer"),
        # Counts of any size: one line, not an OverflowError.
        (["estimate", "gpt2", "--batch", "1" + "0" * 400], "invalid batch ~1.0e+400"),
        (["fit", "gpt2", "--gpu", "a10", "--seq", "9" * 40], "up to 9007199254740992"),
        (["estimate", "gpt2", "--cuda-context", "1e30GiB"], "invalid cuda_context"),
        # Options of the other mode are refused in both modes.
        (["estimate", "gpt2", "--mode", "training", "--kv-dtype", "fp8"], "no KV cache"),
        (["estimate", "gpt2", "--mode", "training", "--logits", "all"], "invalid logits"),
        (["estimate", "gpt2", "--checkpointing", "full"], "applies to training"),
        # Two flags that say different things are refused, never one silently dropped.
        (
            [
                "estimate",
                "gpt2",
                "--mode",
                "training",
                "--grad-checkpointing",
                "--checkpointing",
                "none",
            ],
            "--grad-checkpointing and --checkpointing none contradict each other",
        ),
        (["fit", "gpt2", "--gpu", "a10", "--gpus", "2", "--tp", "2"], "--gpus 2 and --tp 2"),
        (["fit", "gpt2", "--gpu", "a10", "--vram", "24GB"], "not allowed with argument"),
        (["fit", "gpt2"], "--gpu"),
        (["fit", "gpt2", "--vram", "24"], "with its unit"),
        (["fit", "gpt2", "--vram", "0GB"], "24GB"),
        (["fit", "gpt2", "--gpu", "a10", "--goal", "quality"], "comma-separated"),
        (["fit", "gpt2", "--gpu", "a10", "--goal", "speed"], "invalid choice"),
        (["fit", "gpt2", "--gpu", "a10", "--dtype", "bf16,,q8_0"], "comma-separated list"),
        (["fit", "gpt2", "--gpu", "a10", "--dtype", "bf16,fp9"], "unknown dtype 'fp9'"),
        (["fit", "gpt2", "--gpu", "a10", "--batch", "1,0"], "positive integer, got '0'"),
        (["estimate", "gpt2", "--dtype", "bf16,q8_0"], "unknown dtype 'bf16,q8_0'"),
        (["fit", "llama-2-7b", "--gpu", "h1000"], "gpu"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert not out
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and words in err


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "JSON"),
        (json.dumps({"model_type": "mamba", "hidden_size": 8}), "mamba"),
        (json.dumps({"model_type": "llama"}), "hidden_size"),
    ],
)
def test_bad_config_file(capsys, tmp_path, content, words) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    code, _, err = run(capsys, "estimate", str(path))
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err


def test_cli_does_not_import_sympy_or_matplotlib() -> None:
    probe = (
        "import sys; from gpumem.cli import main; main(['estimate', 'llama-2-7b', '--json']);"
        "print(sorted(m for m in ('sympy', 'matplotlib', 'numpy') if m in sys.modules),"
        " file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stderr.strip() == "[]"


def test_help_teaches_units_and_examples() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gpumem", "estimate", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "GiB = 2^30 bytes" in result.stdout and "examples:" in result.stdout


def test_estimate_imports_only_cheap_modules() -> None:
    """The command stays quick to start: none of these modules is imported on its way.

    Modules the interpreter loaded before (site, an editable install's finder) do not count.
    """
    heavy = (
        "dataclasses",
        "pathlib",
        "importlib.resources",
        "fractions",
        "typing",
        "shutil",
        "sympy",
        "matplotlib",
        "numpy",
    )
    probe = (
        "import sys; before = set(sys.modules); from gpumem.cli import main;"
        "main(['estimate', 'llama-3.1-8b']);"
        f"print(sorted(m for m in {heavy!r} if m in set(sys.modules) - before), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "[]"


def test_bare_gpumem_prints_the_help(capsys) -> None:
    code, out, err = run(capsys)
    assert code == 0 and not err
    assert out.startswith("usage: gpumem") and "estimate" in out and "fit" in out


def test_help_text_of_each_command() -> None:
    from gpumem.cli import help_text
    from gpumem.errors import UnknownNameError

    assert help_text(None).startswith("usage: gpumem [-h] COMMAND")
    assert "--kv-dtype" in help_text("fit")
    assert help_text("estimate", "zh_CN").startswith("用法：gpumem estimate")
    options = help_text("estimate", width=70).split("examples:")[0]  # the epilog is as written
    assert max(len(line) for line in options.splitlines()) <= 70
    with pytest.raises(UnknownNameError, match="unknown command 'esimate'; did you mean"):
        help_text("esimate")
    with pytest.raises(UnknownNameError, match="unknown language 'fr'"):
        help_text("fit", "fr")


def test_serve_help_names_the_release_the_default_row_follows() -> None:
    from pathlib import Path

    from gpumem.cli import help_text

    data = Path(__file__).parents[1] / "gpumem" / "data" / "serving.json"
    row = next(r for r in json.loads(data.read_text())["engines"] if r["id"] == "vllm")
    release = row["model_runner"]["row_release"]  # 0.33.0 when written
    english = " ".join(help_text("serve", width=1000).split())
    assert f"vllm (0.20 and later, the default, following {release}, the newest" in english
    assert f"按已读到的最新版本 {release}" in help_text("serve", "zh_CN", width=1000)


def test_grad_checkpointing_is_full_checkpointing(capsys) -> None:
    _, flag, _ = run(
        capsys, "estimate", "gpt2", "--mode", "training", "--grad-checkpointing", "--json"
    )
    _, word, _ = run(
        capsys, "estimate", "gpt2", "--mode", "training", "--checkpointing", "full", "--json"
    )
    assert flag == word and json.loads(flag)["workload"]["checkpointing"] == "full"


def test_sizes_with_units_and_negative_values(capsys) -> None:
    _, out, _ = run(capsys, "estimate", "gpt2", "--cuda-context", "0.5GiB", "--json")
    assert json.loads(out)["components"]["cuda_context"] == 2**29
    _, out, _ = run(capsys, "estimate", "gpt2", "--cuda-context", "0", "--json")
    assert "cuda_context" not in json.loads(out)["components"]
    # A negative number after an option is its (bad) value, not an unknown option.
    code, _, err = run(capsys, "estimate", "gpt2", "--seq", "-5")
    assert code == 2 and "positive integer, got '-5'" in err


def test_vram_budget_instead_of_a_gpu(capsys) -> None:
    code, out, _ = run(capsys, "fit", "llama-2-7b", "--vram", "16GiB", "--json")
    data = json.loads(out)
    assert code == 0 and data["available_bytes"] == 16 * 2**30 and data["gpu"] == "16 GiB"
    # 6,738,415,616 BF16 parameters = 13.48 GB of weights fit in 16 GiB = 17.18 GB.
    assert data["fits"] is True


def test_gpus_spreads_the_model(capsys) -> None:
    _, out, _ = run(capsys, "fit", "llama-2-70b", "--gpu", "h100-sxm", "--gpus", "2", "--json")
    inference = json.loads(out)["estimate"]["workload"]
    assert (inference["tp"], inference["dp"]) == (2, 1)
    argv = ("fit", "llama-2-7b", "--gpu", "h100-sxm", "--gpus", "4", "--mode", "training")
    _, out, _ = run(capsys, *argv, "--json")
    training = json.loads(out)["estimate"]["workload"]
    assert (training["tp"], training["dp"], training["zero"]) == (1, 4, 3)


def test_comparison_table(capsys) -> None:
    argv = ["fit", "llama-2-7b", "--vram", "12GB", "--dtype", "bf16,q4_k_m", "--kv-dtype"]
    code, out, err = run(capsys, *argv, "bf16,fp8_e4m3")
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0] == "Llama-2-7B · Inference · 2,048 tokens · 12 GB (11.18 GiB, as given)"
    header, *rows = lines[2 : 6 + 1]
    assert header.split()[:3] == ["weights", "KV", "cache"]
    # 13.48 GB of BF16 weights cannot fit in 12 GB; Q4_K_M (4.9 bits: 4.13 GB) fits, and its
    # context reaches the model's window of 4,096 tokens with either KV-cache format.
    assert [row.split()[:2] for row in rows] == [
        ["bf16", "bf16"],
        ["bf16", "fp8_e4m3"],
        ["q4_k_m", "bf16"],
        ["q4_k_m", "fp8_e4m3"],
    ]
    assert [" no " in row for row in rows] == [True, True, False, False]
    assert rows[2].split()[5] == "4,096" and rows[3].split()[5] == "4,096"
    assert rows[2].endswith("best")  # same context: the more precise KV cache wins
    assert sum(row.endswith("best") for row in rows) == 1


def test_json_gives_the_cache_of_each_kind_of_layer(capsys) -> None:
    # gpt-oss-20b: 12 full and 12 sliding-window (128-token) layers, 8 KV heads of 64 values,
    # a key and a value each, 2 bytes per value in BF16: 2,048 bytes per token and layer.
    code, out, _ = run(capsys, "estimate", "gpt-oss-20b", "--seq", "8192", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["kv_cache_layers"] == {"full": 12 * 8192 * 2048, "sliding": 12 * 128 * 2048}
    assert data["components"]["kv_cache"] == 204_472_320


def test_comparison_json_is_the_api(capsys) -> None:
    from gpumem.compare import best, compare
    from gpumem.report import compare_json, to_json

    argv = ["fit", "qwen2.5-7b", "--gpu", "rtx-4090", "--dtype", "bf16,q8_0", "--batch", "1,4"]
    code, out, _ = run(capsys, *argv, "--seq", "8192", "--goal", "quality", "--json")
    options = compare("qwen2.5-7b", "rtx-4090", seq=8192, dtypes=["bf16", "q8_0"], batches=[1, 4])
    assert code == 0 and out == to_json(compare_json(options, best(options, "quality")))
    rows = json.loads(out)
    assert [(r["dtype"], r["batch"]) for r in rows] == [
        ("bf16", 1),
        ("bf16", 4),
        ("q8_0", 1),
        ("q8_0", 4),
    ]
    assert [r["best"] for r in rows].count(True) == 1


def test_comparison_in_chinese(capsys) -> None:
    argv = ["fit", "qwen2.5-7b", "--gpu", "rtx-4090", "--dtype", "bf16,q4_k_m"]
    done = gpumem(*argv, env={**os.environ, "GPUMEM_LANG": "zh_CN"})
    assert done.returncode == 0 and "最长上下文" in done.stdout and "最佳" in done.stdout


def test_output_that_cannot_be_written() -> None:
    with open("/dev/full", "w") as full:  # noqa: PTH123
        done = subprocess.run(
            [sys.executable, "-m", "gpumem", "estimate", "gpt2"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "gpumem: error: cannot write the output: No space left on device"
    ]


def test_closed_stdout_and_closed_pipe() -> None:
    closed = subprocess.run(
        [sys.executable, "-m", "gpumem", "estimate", "gpt2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == 2 and len(closed.stderr.splitlines()) == 1
    assert "standard output is closed" in closed.stderr
    with subprocess.Popen(
        [sys.executable, "-m", "gpumem", "models"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        process.stdout.close()  # the reader goes away before the first byte
        assert process.wait(timeout=60) == 1
        assert process.stderr.read() == b""


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_ascii_terminal(language) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "GPUMEM_LANG": language}
    done = gpumem("fit", "llama-3.1-8b", "--gpu", "rtx-4090", env=env)
    assert done.returncode == 0 and not done.stderr
    assert done.stdout.startswith("Llama-3.1-8B - Inference - bf16 - batch 1 x 2,048 tokens")


def _model_dir(tmp_path, shape: list[int]):
    """gpt2's config.json next to a safetensors header holding one BF16 tensor of ``shape``."""
    import struct

    from gpumem.catalog import catalog_entry

    (tmp_path / "config.json").write_text(json.dumps(catalog_entry("gpt2")["config"]))
    size = 2 * shape[0]
    header = json.dumps({"w": {"dtype": "BF16", "shape": shape, "data_offsets": [0, size]}})
    data = header.encode()
    body = struct.pack("<Q", len(data)) + data + bytes(size)
    (tmp_path / "model.safetensors").write_bytes(body)
    return tmp_path


def test_suspicious_checkpoint_warns_on_stderr_and_in_json(capsys, tmp_path) -> None:
    model = str(_model_dir(tmp_path, [10]))
    code, out, err = run(capsys, "estimate", model, "--json")
    data = json.loads(out)
    # 10 values in the header, 124,439,808 by GPT-2's architecture: the architecture counts.
    assert code == 0 and data["model"]["parameters"] == 124_439_808
    assert len(data["model"]["warnings"]) == 1 and "10" in data["model"]["warnings"][0]
    assert err.startswith("gpumem: warning: ") and len(err.splitlines()) == 1
    code, out, err = run(capsys, "estimate", model, "--params-from", "safetensors", "--json")
    assert code == 0 and json.loads(out)["model"]["parameters"] == 10
    assert err.startswith("gpumem: warning: ")  # still far from the architecture
    code, out, err = run(capsys, "estimate", model, "--params-from", "config", "--json")
    assert code == 0 and json.loads(out)["model"]["parameters"] == 124_439_808
    assert json.loads(out)["model"]["warnings"] == [] and not err


def test_params_from_refused_where_there_is_nothing_to_choose(capsys) -> None:
    code, out, err = run(capsys, "estimate", "gpt2", "--params-from", "safetensors")
    assert code == 2 and not out and len(err.splitlines()) == 1
    assert "params_from is 'safetensors'" in err
    code, _, err = run(capsys, "estimate", "gpt2", "--params-from", "weights")
    assert code == 2 and "invalid choice: 'weights'" in err


def test_serve_prints_vllm_startup_figures(capsys) -> None:
    code, out, err = run(capsys, "serve", "llama-3.1-8b", "--gpu", "rtx-4090")
    assert code == 0 and not err
    # 8,030,261,248 BF16 parameters = 16,060,522,496 bytes, and vLLM's 131,072 x 128 BF16
    # rotary cache (32 MiB): 14.99 GiB, as vLLM 0.19 printed it on an H100.
    assert "Model loading took 14.99 GiB" in out
    assert "GPU KV cache size: " in out and "Maximum concurrency for 131,072 tokens" in out
    assert "does NOT start" in out and "--max-model-len" in out  # 24 GB holds no 128k request


def test_serve_names_the_raised_block_of_a_hybrid_model(capsys) -> None:
    # Qwen3-Next over two GPUs: one gated-DeltaNet state is (3 x 4,096 + 16 x 128 x 128) x 2 B
    # = 548,864 B and one attention token 1,024 B, so the block is 16 x ceil(33.5) = 544 tokens;
    # 12 attention and 36 DeltaNet layers in groups of 12: one attention, three recurrent.
    argv = ("serve", "qwen3-next-80b-a3b", "--gpu", "h200", "--tp", "2")
    code, out, err = run(capsys, *argv, "--engine", "0.29.0")
    assert code == 0 and not err
    assert "Setting attention block size to 544 tokens" in out
    # vLLM 0.26 and later cache prefixes of hybrid models too: two blocks a recurrent group
    assert "(3 of 4 KV-cache groups hold two blocks of recurrent state per request" in out
    # from 0.33 on an H200 FlashInfer runs the DeltaNet prefill and keeps a checkpoint: blocks
    # of 64 x ceil(548,864 / (64 x 1,024)) = 576 tokens, a third block a recurrent group
    code, out, err = run(capsys, *argv)
    assert code == 0 and not err
    assert "Setting attention block size to 576 tokens" in out
    assert "(3 of 4 KV-cache groups hold three blocks of recurrent state per request" in out
    code, out, _ = run(capsys, *argv, "--no-enable-prefix-caching")
    assert code == 0 and "(3 of 4 KV-cache groups hold one recurrent state per request)" in out
    code, out, _ = run(capsys, *argv, "--engine", "0.25.0")
    assert code == 0 and "hold one recurrent state per request" in out
    code, out, _ = run(capsys, *argv, "--engine", "0.25.0", "--enable-prefix-caching")
    assert code == 0 and "mamba_cache_mode 'align'" in out
    code, out, _ = run(capsys, "serve", "llama-3.1-8b", "--gpu", "h100-sxm")
    assert code == 0 and "Setting attention block size" not in out


def test_serve_says_when_the_vision_encoder_is_profiled(capsys) -> None:
    # Qwen3.5's largest image, 4,096 x 4,096 pixels, is 65,536 patches of 16 x 16, merged 2 x 2
    # into 16,384 tokens; the encoder budget (the larger of 2,048 batched tokens and one image)
    # holds one
    argv = ("serve", "qwen3.8-27b", "--gpu", "rtx-5090", "--tp", "2", "--dtype", "fp8")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "1 dummy item(s) of 16,384 tokens" in out
    code, out, _ = run(capsys, *argv, "--language-model-only")
    assert code == 0 and "Vision encoder" not in out
    code, out, _ = run(capsys, "serve", "llama-3.1-8b", "--gpu", "h100-sxm")
    assert code == 0 and "Vision encoder" not in out


def test_serve_refuses_prefix_caching_of_a_mamba2_model(capsys, tmp_path) -> None:
    # Nemotron-H under vLLM 0.26 and 0.27: prefix caching is on by default and caches a block
    # of Mamba-2 state per block of tokens ('all' mode), which gpumem does not follow
    source = os.path.join(os.path.dirname(__file__), "configs", "nemotron-nano-9b-v2.json")
    with open(source) as f:
        config = json.load(f)["config"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    code, out, err = run(capsys, "serve", str(path), "--gpu", "h100-sxm", "--engine", "0.27.1")
    assert code == 2 and not out
    assert err.startswith("gpumem: error: ") and err.count("\n") == 1
    assert "enable_prefix_caching" in err and "'all' mode" in err
    code, out, _ = run(
        capsys, "serve", str(path), "--gpu", "h100-sxm", "--no-enable-prefix-caching"
    )
    assert code == 0 and "hold one recurrent state per request" in out


def test_serve_json_is_the_api(capsys) -> None:
    from gpumem.report import serve_json, to_json
    from gpumem.serve import serve

    argv = ("serve", "qwen2.5-7b", "--gpu", "h100-sxm", "--max-model-len", "auto", "--json")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out == to_json(
        serve_json(serve("qwen2.5-7b", "h100-sxm", max_model_len="auto"))
    )
    data = json.loads(out)
    # A block of 16 tokens holds K and V of 4 KV heads x 128 values in BF16 per layer:
    # 16 x 2 x 4 x 128 x 2 = 32,768 bytes; the cache holds whole blocks of 16 tokens.
    assert data["page_bytes"] == 32_768 and data["kv_tokens"] == 16 * data["blocks"]
    assert data["fits"] is True


def test_serve_cudagraph_memory_comes_out_of_the_kv_cache(capsys) -> None:
    argv = ("serve", "qwen3-8b", "--gpu", "h100-sxm", "--json")
    _, plain, _ = run(capsys, *argv)
    _, none, _ = run(capsys, *argv, "--cudagraph-memory", "0GiB")
    code, graphs, err = run(capsys, *argv, "--cudagraph-memory", "0.5GiB")
    assert code == 0 and not err
    # a given value (the log's 'Estimated CUDA graph memory') replaces gpumem's model of it:
    # 0.5 GiB = 536,870,912 bytes less than none; by default the modelled estimate comes out
    default, zero, given = json.loads(plain), json.loads(none), json.loads(graphs)
    assert zero["available_kv_bytes"] - given["available_kv_bytes"] == 536_870_912
    assert given["cudagraph_bytes"] == 536_870_912
    estimate = default["cudagraph_estimate_bytes"]
    assert default["cudagraph_bytes"] == estimate == given["cudagraph_estimate_bytes"] > 0
    assert zero["available_kv_bytes"] - default["available_kv_bytes"] == estimate
    code, text, _ = run(capsys, *argv[:-1], "--cudagraph-memory", "0.5GiB")
    assert "CUDA-graph memory taken from the budget: 0.50 GiB (--cudagraph-memory)" in text


def test_serve_engine_by_release_or_generation(capsys) -> None:
    argv = ("serve", "qwen3-8b", "--gpu", "h100-sxm", "--json")
    outputs = {
        engine: run(capsys, *argv, "--engine", engine)[1]
        for engine in ("vllm", "0.21.0", "0.33.1rc1.dev17+gd2d649e67", "vllm-0.17", "0.19.1")
        + ("0.20.0", "0.18.0", "vllm-0.8", "0.9.2", "0.8.5")
    }
    _, default, _ = run(capsys, *argv)
    # 0.20 and later take the CUDA-graph estimate from the budget, 0.17 to 0.19 do not, 0.8.5
    # to 0.12 have another accounting (a larger profile run); the generation vllm follows its
    # newest release read (0.33.0), whose second model runner runs every model, where 0.20 and
    # 0.21 run the first
    current = ("vllm", "0.33.1rc1.dev17+gd2d649e67")
    assert all(outputs[name] == default for name in current)
    assert outputs["0.20.0"] == outputs["0.21.0"] != default
    assert json.loads(default)["model_runner"] == "v2"
    assert json.loads(outputs["0.21.0"])["model_runner"] == "v1"
    assert outputs["vllm-0.17"] == outputs["0.19.1"] == outputs["0.18.0"] != default
    assert outputs["vllm-0.8"] == outputs["0.9.2"] == outputs["0.8.5"] != default


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["serve", "gpt2", "--gpu", "a10", "--engine", "0.7.3"], "'0.7.3'"),
        (
            ["serve", "gpt2", "--gpu", "a10", "--engine", "sglang"],
            "vllm, vllm-0.17, vllm-0.13, vllm-0.8 or a vLLM",
        ),
        (["serve", "gpt2", "--gpu", "a10", "--cudagraph-memory", "1"], "with its unit"),
        (["serve", "gpt2", "--gpu", "a10", "--gpu-memory-utilization", "nan"], "(0, 1]"),
        (["serve", "gpt2", "--gpu", "a10", "--max-model-len", "many"], "positive integer"),
        (["serve", "gpt2", "--gpu", "a10", "--kv-cache-memory", "4"], "with its unit"),
        (["serve", "gpt2"], "--gpu"),
    ],
)
def test_serve_bad_input(capsys, argv, words) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and not out and len(err.splitlines()) == 1 and words in err


def test_estimate_gguf_file(capsys, tmp_path) -> None:
    from test_catalog import write_toy_gguf

    path = tmp_path / "toy.gguf"
    exact = write_toy_gguf(path)
    code, out, err = run(capsys, "estimate", str(path), "--json")
    assert code == 0 and not err
    result = json.loads(out)
    assert result["components"]["weights"] == exact
    # K and V: 2 layers x 2 KV heads x 16 values x 2,048 tokens x 2 bytes (f16)
    assert result["components"]["kv_cache"] == 2 * 2 * 2 * 16 * 2048 * 2
    assert result["model"]["parameters_source"] == "gguf"
    code, out, _ = run(capsys, "estimate", str(path))
    assert code == 0 and "weights as stored, bf16 activations" in out.splitlines()[0]
    raw = path.read_bytes()
    path.write_bytes(raw[:100])
    code, out, err = run(capsys, "estimate", str(path))
    assert code == 2 and not out
    assert err.count("\n") == 1 and err.startswith(f"gpumem: error: {path}: ")


@pytest.mark.parametrize(("option", "value"), [("--dtype", "q4_k_m"), ("--mode", "training")])
def test_gguf_file_refuses_what_it_cannot_honour(capsys, tmp_path, option, value) -> None:
    from test_catalog import write_toy_gguf

    path = tmp_path / "toy.gguf"
    write_toy_gguf(path)
    code, out, err = run(capsys, "estimate", str(path), option, value)
    assert code == 2 and not out
    assert err.startswith("gpumem: error: ") and "GGUF file" in err and err.count("\n") == 1


def test_serve_says_which_model_runner(capsys) -> None:
    # vLLM 0.21 runs Qwen3-8B with its first model runner; 0.22 with its second (Qwen3ForCausalLM
    # in DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES); VLLM_USE_V2_MODEL_RUNNER's choice by hand
    argv = ("serve", "qwen3-8b", "--gpu", "h100-sxm")
    first = "model runner: the first (V1, gpu_model_runner.py)"
    second = "model runner: the second (V2, vllm/v1/worker/gpu/)"
    assert first in run(capsys, *argv, "--engine", "0.21.0")[1]
    assert second in run(capsys, *argv, "--engine", "0.22.0")[1]
    assert first in run(capsys, *argv, "--engine", "0.22.0", "--model-runner", "v1")[1]
    code, _, err = run(capsys, *argv, "--engine", "0.21.0", "--model-runner", "v2")
    assert code == 2 and "gpumem: error:" in err and "0.22.0" in err
    done = gpumem(*argv, "--engine", "0.22.0", env={**os.environ, "GPUMEM_LANG": "zh_CN"})
    assert "模型运行器：第二代（V2，vllm/v1/worker/gpu/）" in done.stdout


def test_serve_says_which_start(capsys) -> None:
    # a first torch.compile runs inside the second runner's memory profile (its fitted 0.99
    # GiB for Qwen3-8B's hidden size of 4,096): the figures are a first start's by default
    argv = ("serve", "qwen3-8b", "--gpu", "l40s", "--max-model-len", "9000")
    first = run(capsys, *argv, "--engine", "0.27.1", "--json")[1]
    restart = run(capsys, *argv, "--engine", "0.27.1", "--compile-cache", "warm", "--json")[1]
    cold, warm = json.loads(first), json.loads(restart)
    assert (cold["compile_cache"], warm["compile_cache"]) == ("cold", "warm")
    assert cold["other_start_kv_tokens"] == warm["kv_tokens"] > cold["kv_tokens"]
    line = "first start (compiles the model inside the memory profile: 0.99 GiB more peak"
    text = run(capsys, *argv, "--engine", "0.27.1")[1]
    assert line in text and f"restart with the compile cache: {warm['kv_tokens']:,}" in text
    again = run(capsys, *argv, "--engine", "0.27.1", "--compile-cache", "warm")[1]
    assert f"restart with the compile cache: {warm['kv_tokens']:,} tokens; a first" in again
    assert "first start" not in run(capsys, *argv, "--engine", "0.21.0")[1]
    code, _, err = run(capsys, *argv, "--engine", "0.21.0", "--compile-cache", "warm")
    assert code == 2 and "gpumem: error:" in err and "first model runner" in err
    env = {**os.environ, "GPUMEM_LANG": "zh_CN"}
    done = gpumem(*argv, "--engine", "0.27.1", env=env)
    assert "首次启动（在显存剖析期间编译模型：峰值多 0.99 GiB，为拟合值）" in done.stdout
    done = gpumem(*argv, "--engine", "0.27.1", "--compile-cache", "warm", env=env)
    assert f"带编译缓存的重启：{warm['kv_tokens']:,} 个 token" in done.stdout


def test_serve_under_wsl2_takes_the_whole_card(capsys) -> None:
    # under WSL2 CUDA reports an RTX 4090's 24,564 MiB whole: 0.92 x 23.99 GiB of budget leaves
    # more cache than on Linux, where the driver holds about 0.45 GiB back
    argv = ("serve", "qwen2.5-0.5b", "--gpu", "rtx-4090", "--json")
    linux = json.loads(run(capsys, *argv)[1])
    wsl2 = json.loads(run(capsys, *argv, "--wsl2")[1])
    assert wsl2["budget_bytes"] == pytest.approx(0.92 * 24564 * 2**20, abs=1)
    assert wsl2["kv_tokens"] > linux["kv_tokens"]
