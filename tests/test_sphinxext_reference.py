"""The reference directives: CLI help, sources, examples, and the API kept out of the catalogs."""

from __future__ import annotations

from functools import partial

import pytest

pytest.importorskip("myst_parser")

from gpumem.cli import help_text  # noqa: E402
from gpumem.sphinxext.sources import linked  # noqa: E402


@pytest.fixture
def build(build_root):
    """Build this file's test root: ``build(builder, language="en", extra=None)``."""
    return partial(build_root, "test-gpumem-reference")


def test_english_page(build) -> None:
    out, warnings = build("html")
    assert warnings == ""
    page = (out / "index.html").read_text(encoding="utf-8")
    # the CLI's help, printed from the parser at a fixed width
    assert "usage: gpumem estimate" in page and "--json" in page
    # the sources, with their addresses as links
    url = "https://huggingface.co/meta-llama/Llama-2-7b-hf/blob/main/config.json"
    assert f'href="{url}"' in page
    assert 'href="https://arxiv.org/abs/2209.05433"' in page
    assert "Published parameter count" in page
    # the example: its code, its real output, a download link and the image it wrote
    assert "hello: 248,879,616 bytes" in page
    assert "weight_bytes" in page
    (download,) = (out / "_downloads").glob("*/hello.py")
    assert download.name in page and "_downloads/" in page
    assert (out / "_images" / "square.svg").is_file()
    assert 'alt="Image written by examples/hello.py"' in page
    # the API reference
    assert "to_unit" in page and "expressed in" in page


DATA = "# Data\n\n" + "".join(
    f"```{{gpumem-sources}} {kind}\n```\n\n" for kind in ("gpus", "links", "measurements")
)


def test_chinese_labels(build) -> None:
    out, warnings = build("html", "zh_CN", extra={"data.md": f"---\norphan: true\n---\n{DATA}"})
    assert warnings == ""
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "公布的参数量" in page and "下载" in page
    assert "hello: 248,879,616 bytes" in page  # the output is the script's, in any language
    data = (out / "data.html").read_text(encoding="utf-8")
    # the data files' notes and the measurements' conventions, in Chinese
    assert "Volta 不支持 BF16，也不支持稀疏" in data and "Volta has no" not in data
    assert "设备报告值：nvidia-smi memory.total 81,559 MiB" in data
    assert "注意力实现" in data and "约定" in data and "权重随机" in data
    assert "Decoders are" not in data and "attn_implementation" not in data
    # every link generation with the figure its source prints, translated, and the source
    assert "数字与来源" in data and "A100 数据手册，互连：NVIDIA NVLink 600GB/s" in data
    assert "PCI Express 6.0 x16 (pcie-6.0)" in data and "interconnect:" not in data


def test_catalog_holds_no_generated_text(build) -> None:
    out, warnings = build("gettext")
    assert warnings == ""
    pot = (out / "index.pot").read_text(encoding="utf-8")
    assert "The command's help." in pot and "One function of the API." in pot
    for generated in (
        "usage:",
        "--json",
        "huggingface.co",
        "Published parameter count",
        "hello:",
        "weight_bytes",
        "Download",
        "expressed in",
        "Image written",
    ):
        assert generated not in pot, generated


def test_failing_example_fails_the_build(build) -> None:
    failing = "---\norphan: true\n---\n# Broken\n\n```{gpumem-example} broken\n```\n"
    script = "raise SystemExit('no GPU here')\n"
    with pytest.raises(Exception, match="exited with status 1"):
        build("html", extra={"broken.md": failing, "examples/broken.py": script})


def test_unknown_names_warn(build) -> None:
    bad = "---\norphan: true\n---\n# Bad\n\n```{gpumem-cli} estimat\n```\n\n"
    bad += "```{gpumem-sources} modles\n```\n"
    _, warnings = build("html", extra={"bad.md": bad})
    assert "'estimat'" in warnings and "did you mean 'estimate'" in warnings
    assert "'modles'" in warnings


def test_help_has_a_fixed_width(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    text = help_text("estimate", width=100)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert any(len(line) > 80 for line in text.splitlines())


def test_links_leave_punctuation_out() -> None:
    parts = linked("see https://example.org/a_(b). and arXiv:1711.05101;")
    refs = [p["refuri"] for p in parts if hasattr(p, "attributes") and "refuri" in p]
    assert refs == ["https://example.org/a_(b)", "https://arxiv.org/abs/1711.05101"]
