"""The command line: output, JSON, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gpumem.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse exits on usage errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_estimate_table_states_units(capsys) -> None:
    code, out, err = run(capsys, "estimate", "llama-2-7b", "--dtype", "fp16")
    assert code == 0 and not err
    assert "GB" in out and "GiB" in out and "Weights" in out
    assert "13.48" in out  # 6,738,415,616 x 2 bytes = 13.48 GB


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
