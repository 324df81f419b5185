"""Shell completion: the script completes commands, options, catalog ids and format lists."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from gpumem.cli import main

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("completion") / "gpumem.bash"
    argv = [sys.executable, "-m", "gpumem", "completion", "bash"]
    path.write_text(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    return str(path)


def complete(script: str, *words: str) -> list[str]:
    """What <Tab> offers after ``words`` (the last one is being typed)."""
    line = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _gpumem;"
        ' printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return [w for w in done.stdout.splitlines() if w]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("gpumem", "f"), ["fit", "formats"]),
        (("gpumem", "fit", "llama-3.1-8"), ["llama-3.1-8b"]),
        (("gpumem", "fit", "x", "--gpu", "rtx-409"), ["rtx-4090"]),
        (("gpumem", "fit", "x", "--dtype", "bf16,q4_k"), ["bf16,q4_k_m"]),
        (("gpumem", "fit", "x", "--kv-dtype", "=", "fp8_e4"), ["fp8_e4m3"]),
        (("gpumem", "estimate", "x", "--mode", "t"), ["training"]),
        (("gpumem", "estimate", "x", "--grad"), ["--grad-checkpointing"]),
        (("gpumem", "fit", "x", "--go"), ["--goal"]),
        (("gpumem", "fit", "x", "--goal", ""), ["context", "quality"]),
        (("gpumem", "estimate", "x", "--batch", ""), []),
        (("gpumem", "completion", ""), ["bash", "zsh"]),
    ],
)
def test_completes(script, words, expected) -> None:
    assert complete(script, *words) == expected


def test_zsh_runs_the_same_script_through_bashcompinit(capsys) -> None:
    assert main(["completion", "zsh"]) == 0
    zsh = capsys.readouterr().out
    assert zsh.startswith("autoload -U +X bashcompinit && bashcompinit\n")
    assert main(["completion", "bash"]) == 0
    assert zsh.endswith(capsys.readouterr().out.replace("# bash", "# zsh", 1))


def test_unknown_shell(capsys) -> None:
    assert main(["completion", "fish"]) == 2
    assert "invalid choice: 'fish'" in capsys.readouterr().err
