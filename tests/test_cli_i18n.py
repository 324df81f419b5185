"""The command line speaks the user's language: Chinese under a Chinese locale, else English."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from gpumem import i18n
from gpumem.cli import main
from gpumem.errors import UnknownNameError

LOCALE_VARIABLES = ("GPUMEM_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
CHINESE = [{"GPUMEM_LANG": "zh_CN"}, {"LANG": "zh_CN.UTF-8"}]


def gpumem(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``gpumem ARGV`` in a fresh process with only the locale variables ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in LOCALE_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "gpumem", *argv],
        env={**clean, "PYTHONIOENCODING": "utf-8", **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
    )


@pytest.fixture
def speak(monkeypatch):
    """``speak(language)``: run the in-process command in ``language``, then put it back."""
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    previous = i18n.use_language(None)
    yield i18n.use_language
    i18n.use_language(previous)


@pytest.mark.parametrize("env", CHINESE)
def test_estimate_in_chinese(env) -> None:
    done = gpumem("estimate", "llama-3.1-8b", "--mode", "training", **env)
    assert done.returncode == 0 and not done.stderr
    out = done.stdout
    for words in ("组成部分", "权重", "FP32 主权重", "优化器状态", "梯度", "合计", "占比"):
        assert words in out, words
    assert "训练 · bf16 · 混合精度，AdamW · 批大小 1 × 2,048 个 token · 1 个 GPU" in out
    assert "每个 GPU 的峰值出现于：" in out and "经验法则（参数量" in out
    assert " GB = " in out and " GiB" in out  # units stay Latin
    assert "weights" not in out and "total" not in out


@pytest.mark.parametrize("env", CHINESE)
def test_unknown_model_is_one_chinese_line(env) -> None:
    done = gpumem("estimate", "llama-3.1-8", **env)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("gpumem：错误：模型 'llama-3.1-8' 不存在；是否指的是 'llama-3.1-8b'")
    assert "gpumem models" in line


@pytest.mark.parametrize("env", CHINESE)
def test_help_in_chinese(env) -> None:
    done = gpumem("estimate", "--help", **env)
    assert done.returncode == 0
    for words in (
        "用法：gpumem estimate",
        "每个 GPU 上的序列数",
        "显示这条帮助信息并退出",
        "示例：",
    ):
        assert words in done.stdout, words
    top = gpumem("--help", **env).stdout
    assert "估算 Transformer 模型推理或训练所需的 GPU 显存。" in top and "列出模型目录" in top


def test_argument_errors_in_chinese() -> None:
    done = gpumem("estimate", "llama-3.1-8b", "--batch", "0", GPUMEM_LANG="zh_CN")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "gpumem estimate：错误：参数 --batch：应为正整数，得到的是 '0'"
        "（见 'gpumem estimate --help'）"
    ]


def test_json_stays_english() -> None:
    done = gpumem("estimate", "llama-3.1-8b", "--json", GPUMEM_LANG="zh_CN")
    data = json.loads(done.stdout)
    assert "weights" in data["components"] and data["phase"] == "prefill"
    assert json.loads(gpumem("formats", "--json", LANG="zh_CN.UTF-8").stdout)[0]["kind"] == "float"


@pytest.mark.parametrize("env", [{"LANG": "C"}, {}, {"LANG": "zh_CN.UTF-8", "GPUMEM_LANG": "en"}])
def test_english_otherwise(env) -> None:
    done = gpumem("estimate", "llama-3.1-8b", **env)
    assert "component" in done.stdout and "peak per GPU during: prefill" in done.stdout
    error = gpumem("estimate", "llama-3.1-8", **env).stderr
    assert error.startswith("gpumem: error: unknown model 'llama-3.1-8'; did you mean")
    assert "usage: gpumem estimate" in gpumem("estimate", "--help", **env).stdout


@pytest.mark.parametrize(
    ("env", "language"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_TW.UTF-8"}, "en"),  # no Traditional catalog: English, not Simplified
        ({"LANG": "zh_HK.UTF-8"}, "en"),
        ({"LC_ALL": "zh_Hant_TW"}, "en"),
        ({"GPUMEM_LANG": "zh-TW"}, "en"),
        ({"LANGUAGE": "zh_TW:zh_CN"}, "zh_CN"),  # Simplified asked for as the fallback
        ({"LANG": "zh_SG.UTF-8"}, "zh_CN"),
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),  # the first variable set decides
        ({"LANGUAGE": "fr:zh_CN", "LANG": "en_US.UTF-8"}, "zh_CN"),  # no French: next one
        ({"LANGUAGE": "en:zh_CN"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "GPUMEM_LANG": "en"}, "en"),
        ({"LANG": "C", "GPUMEM_LANG": "zh_CN"}, "zh_CN"),
        ({"GPUMEM_LANG": "zh"}, "zh_CN"),
    ],
)
def test_language_from_env(env, language) -> None:
    assert i18n.language_from_env(env) == language


def test_chinese_table_columns_line_up(speak, capsys) -> None:
    speak("zh_CN")
    assert main(["estimate", "llama-3.1-8b"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[1].splitlines()

    def width(line: str) -> int:  # as a terminal draws it (Unicode's East Asian Width)
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)

    assert len({width(line) for line in table}) == 1  # every share ends in the same column


@pytest.mark.parametrize("text", ["KV 缓存", "（FP32）", "ascii", "권한", "かな"])
def test_columns_agree_with_unicode(text) -> None:
    expected = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    assert i18n.columns(text) == expected


def test_python_api_stays_english(speak) -> None:
    speak("zh_CN")
    from gpumem import estimate

    with pytest.raises(UnknownNameError) as caught:
        estimate("llama-3.1-8")
    assert str(caught.value).startswith("unknown model 'llama-3.1-8'; did you mean")
    assert caught.value.suggestions[0] == "llama-3.1-8b"


def test_docs_help_has_the_page_language(speak) -> None:
    pytest.importorskip("sphinx")
    from gpumem.sphinxext.cli_help import help_text

    speak("zh_CN")
    assert "usage: gpumem estimate" in help_text("estimate")
    assert "用法：gpumem estimate" in help_text("estimate", language="zh_CN")
    assert i18n.current_language() == "zh_CN"  # put back


def test_cli_catalog_is_complete() -> None:
    """Every message the command can show is translated, with the same placeholders."""
    babel = pytest.importorskip("babel.messages.extract")
    from babel.messages.pofile import read_po

    package = Path(__file__).parents[1] / "gpumem"
    keywords = {"_": None, "N_": None, "Text": None}
    used = set()
    for module in package.glob("*.py"):  # all but the Sphinx extension's
        with module.open("rb") as file:
            used |= {m[1] for m in babel.extract("python", file, keywords=keywords)}
    with (package / "locale" / "zh_CN" / "LC_MESSAGES" / "gpumem.po").open("rb") as file:
        po = {m.id: m.string for m in read_po(file) if m.id and m.string and not m.fuzzy}
    assert used <= set(po), f"translate: {sorted(used - set(po))} (nox -s i18n, then gpumem.po)"
    fields = re.compile(r"\{[^{}]*\}|%(?:\(\w+\))?[sr]")
    for message in used:
        assert sorted(fields.findall(message)) == sorted(fields.findall(po[message])), message
