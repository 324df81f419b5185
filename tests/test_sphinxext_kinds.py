"""Table, chart and role kinds of the Sphinx extension, with values checked independently."""

from __future__ import annotations

import gettext

import pytest

pytest.importorskip("myst_parser")
from sphinx import locale  # noqa: E402

from gpumem.errors import GpumemError, InvalidValueError, UnknownNameError  # noqa: E402
from gpumem.estimate import estimate  # noqa: E402
from gpumem.plotting import LineChart, ScatterChart, StackedBarChart  # noqa: E402
from gpumem.sphinxext.chart import CHARTS  # noqa: E402
from gpumem.sphinxext.labels import workload_label  # noqa: E402
from gpumem.sphinxext.quantities import compute  # noqa: E402
from gpumem.sphinxext.selection import OPTION_SPEC, Selection  # noqa: E402
from gpumem.sphinxext.table import TABLES  # noqa: E402
from gpumem.sphinxext.translation import CATALOG, LOCALE_DIR  # noqa: E402

NBSP = "\u00a0"
H100_BANDWIDTH = 3.35e12  # bytes/s, NVIDIA's H100 SXM5 datasheet
LLAMA_2_7B = 6_738_415_616  # parameters


@pytest.fixture
def language(monkeypatch):
    """Switch the extension's labels to a language for one test, then restore them."""

    def switch(code: str) -> str:
        key = ("general", CATALOG)
        if code == "en":
            monkeypatch.delitem(locale.translators, key, raising=False)
        else:
            translation = gettext.translation(CATALOG, str(LOCALE_DIR), [code])
            monkeypatch.setitem(locale.translators, key, translation)
        return code

    return switch


def select(options: dict[str, str], default_unit: str = "GB") -> Selection:
    """The selection of options written as in a directive."""
    converted = {key: OPTION_SPEC[key](text) for key, text in options.items()}
    return Selection.from_options(converted, default_unit)


def table(kind: str, language: str = "en", **options: str):
    return TABLES[kind](select(options), language)


def test_workloads_option_parses_several_workloads() -> None:
    selection = select(
        {"workloads": "mode=inference seq=8192 | mode=training seq=4e3 checkpointing=full"}, "GB"
    )
    assert selection.workloads == (
        (("mode", "inference"), ("seq", 8192)),
        (("mode", "training"), ("seq", 4000), ("checkpointing", "full")),
    )
    assert select({"seqs": "1e3 4096"}, "GB").seqs == (1000, 4096)
    with pytest.raises(UnknownNameError, match="'sequence'"):
        select({"workloads": "sequence=5"}, "GB")
    with pytest.raises(GpumemError, match="'infer'"):
        select({"workloads": "mode=infer"}, "GB")


def test_breakdown_labels_components_and_phase(language) -> None:
    options = {"models": "llama-2-7b", "workloads": "seq=4096 | mode=training checkpointing=full"}
    title, header, rows = table("breakdown", language("en"), unit="GiB", **options)
    assert header == [
        "Component",
        "Inference, 4,096 tokens",
        "Training, batch 1 × 2,048 tokens, full checkpointing",
    ]
    cells = {row[0]: row[1:] for row in rows}
    assert cells["KV cache"] == ["2.00", ""]  # 2 × 32 layers × 4096 × 4096 × 2 B = 2 GiB
    assert cells["Weights"][0] == f"{LLAMA_2_7B * 2 / 2**30:.1f}"
    assert cells["Peak during"] == ["prefill", "optimizer step"]
    assert "Total" in cells and title == "Memory of Llama-2-7B per GPU (GiB)"
    _, header, rows = table("breakdown", language("zh_CN"), **options)
    assert header[1:] == ["推理，4096 个 token", "训练，批大小 1 × 2048 个 token，完全检查点"]
    assert rows[-1] == ["峰值出现于", "预填充", "优化器更新"]


def test_workload_label_names_every_field() -> None:
    spec = (
        *(("mode", "training"), ("batch", 4), ("seq", 4096), ("dtype", "bf16")),
        *(("optimizer", "adamw_8bit"), ("lora_rank", 16), ("dp", 8), ("tp", 2), ("pp", 4)),
        *(("zero", 3), ("zero", 0), ("checkpointing", "full")),
        *(("cuda_context", 2**29), ("allocator_reserve", 0.05)),
    )
    assert workload_label(spec, "en") == (
        "Training, batch 4 × 4,096 tokens, BF16, AdamW 8-bit, LoRA rank 16, 8 data-parallel "
        "GPUs, tensor parallel over 2 GPUs, 4 pipeline stages, ZeRO stage 3, full "
        f"checkpointing, CUDA context 0.5{NBSP}GiB, allocator reserve 5%"
    )  # ZeRO stage 0 is no ZeRO: not named
    assert workload_label((("kv_dtype", "fp8"), ("seq", 1)), "en") == (
        "Inference, 1 token, FP8 (E4M3) KV cache"
    )


def test_kv_cache_table() -> None:
    _, header, rows = table(
        "kv-cache", models="llama-2-7b llama-3.1-8b deepseek-v3", seqs="4096 32768", unit="GiB"
    )
    assert header[3:] == ["Per token (KiB)", "4,096 tokens (GiB)", "32,768 tokens (GiB)"]
    llama2, llama3, deepseek = rows
    assert llama2[1:4] == ["MHA", "32", f"{2 * 32 * 32 * 128 * 2 / 1024:.0f}"]  # 512 KiB
    assert llama2[5] == "—"  # beyond Llama-2's window of 4,096 tokens
    assert llama3[1:4] == ["GQA", "8", "128"]
    assert deepseek[1] == "MLA" and deepseek[3] == f"{61 * (512 + 64) * 2 / 1024:.1f}"


def test_fit_and_max_context_cells() -> None:
    _, header, rows = table(
        "fit", models="llama-2-7b llama-3.1-70b", dtypes="bf16 int4", gpus="h100-sxm", unit="GiB"
    )
    assert header == ["Model", "Format", "H100 SXM5 80GB"]
    assert rows[0][2].startswith("✓ +") and rows[2][2].startswith("✗ −")
    # 70B in BF16 needs at least its weights: 141 GB, far above the 79.6 GiB of an H100
    missing = float(rows[2][2].split("−")[1])
    assert missing > (70_553_706_496 * 2 - 85_520_809_984) / 2**30
    _, _, rows = table("max-context", models="llama-2-7b llama-3.1-405b", gpus="h100-sxm")
    assert rows[0][2] == "4,096 (whole window)"
    assert rows[1][2] == "—"


def test_decode_is_bandwidth_over_bytes_read() -> None:
    _, _, rows = table("decode", models="llama-2-7b", gpus="h100-sxm", workloads="seq=1")
    kv_one_token = 2 * 32 * 32 * 128 * 2
    expected = H100_BANDWIDTH / (LLAMA_2_7B * 2 + kv_one_token)
    assert rows[0][2] == f"{expected:.0f}"  # ≈ 3.35 TB/s ÷ 13.48 GB ≈ 249
    assert compute("decode model=llama-2-7b gpu=h100-sxm seq=1", "en", "GB") == rows[0][2]


def test_gpus_table_and_ridge_point() -> None:
    _, header, rows = table("gpus", gpus="h100-sxm gaudi2")
    h100, gaudi = (dict(zip(header, row, strict=True)) for row in rows)
    assert h100["Bandwidth"] == f"3.35{NBSP}TB/s"
    assert h100["FLOP per byte"] == f"{989.4e12 / H100_BANDWIDTH:.0f}"
    assert h100["Memory (marketed)"] == f"80{NBSP}GB"
    assert gaudi["Memory reported (GiB)"] == "—"


def test_rule_of_thumb_table() -> None:
    _, _, rows = table("rule-of-thumb", models="llama-2-7b", workloads="mode=training")
    assert rows[0][3] == "×2"
    assert rows[0][4] == f"{LLAMA_2_7B * 2 * 2 / 1e9:.1f}"  # 26.95 → "27.0"
    # at the optimizer step: 2 + 4 (master) + 8 (moments) + 2 (gradients) + 4 (temporaries)
    # bytes per parameter, 5 % allocator reserve on top, and the 512 MiB CUDA context
    total = 20 * LLAMA_2_7B * 1.05 + 2**29
    assert rows[0][5] == f"{total / 1e9:.0f}" == "142"
    assert rows[0][6] == "×5.3"  # 142 ÷ 26.95


def test_savings_table_and_its_errors(language) -> None:
    _, header, rows = table(
        "savings",
        language("en"),
        models="llama-2-7b",
        workloads="mode=inference seq=4096",
        variants="int4 fp8-kv model:llama-3.2-1b",
        unit="GiB",
    )
    assert header[0] == "Technique" and rows[0][0].startswith("Baseline: Inference")
    assert [row[0] for row in rows[1:]] == ["INT4 weights", "FP8 KV cache", "Llama-3.2-1B"]
    assert rows[2][2] == "1.05"  # FP8 halves the 2 GiB KV cache: 1 GiB, plus its 5 % reserve
    with pytest.raises(InvalidValueError, match="training"):
        table("savings", models="llama-2-7b", variants="lora")
    with pytest.raises(InvalidValueError, match="eager"):
        table("savings", models="llama-2-7b", variants="flash")
    with pytest.raises(UnknownNameError, match="'int3'"):
        table("savings", models="llama-2-7b", variants="int3")


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("gpu-bandwidth gpu=h100-sxm", f"3.35{NBSP}TB/s", f"3.35{NBSP}TB/s"),
        ("gpu-bandwidth gpu=h100-sxm unit=GB", f"3,350{NBSP}GB/s", f"3350{NBSP}GB/s"),
        ("gpu-tflops gpu=h100-sxm", "989.4", "989.4"),
        ("ridge gpu=h100-sxm", "295", "295"),
        ("kv-per-token model=llama-2-7b", f"512{NBSP}KiB", f"512{NBSP}KiB"),
        ("rule model=llama-2-7b mode=training", f"26.95{NBSP}GB", f"26.95{NBSP}GB"),
        ("max-context model=llama-2-7b gpu=h100-sxm", "4,096", "4096"),
        ("gpus-needed model=llama-3.1-405b gpu=h100-sxm dtype=fp8", "8", "8"),
    ],
)
def test_role_quantities(text: str, en: str, zh: str) -> None:
    assert compute(text, "en", "GB") == en
    assert compute(text, "zh_CN", "GB") == zh


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        # config.json values: Llama 2 7B 32 layers x 32 heads of 128; Mistral 7B 8 KV heads and a
        # 4,096-token window; Llama 3.1 max_position_embeddings 131,072; Qwen2.5-0.5B vocab_size
        ("model-fact model=llama-2-7b field=layers", "32", "32"),
        ("model-fact model=llama-2-7b field=kv-heads", "32", "32"),
        ("model-fact model=llama-2-7b field=head-dim", "128", "128"),
        ("model-fact model=mistral-7b-v0.1 field=kv-heads", "8", "8"),
        ("model-fact model=mistral-7b-v0.1 field=sliding-window", "4,096", "4096"),
        ("model-fact model=llama-3.1-8b field=context", "131,072", "131072"),
        ("model-fact model=qwen2.5-0.5b field=vocabulary", "151,936", "151936"),
        # keys and values of 32 heads of 128: 2 x 32 x 128
        ("model-fact model=llama-2-7b field=kv-values", "8,192", "8192"),
        # DeepSeek-V3: kv_lora_rank 512 + qk_rope_head_dim 64
        ("model-fact model=deepseek-v3 field=layers", "61", "61"),
        ("model-fact model=deepseek-v3 field=kv-values", "576", "576"),
        ("gpu-fact gpu=v100-32gb field=year", "2018", "2018"),
        ("gpu-fact gpu=rtx-a6000 field=year", "2020", "2020"),
        ("gpu-fact gpu=h100-sxm field=marketed", f"80{NBSP}GB", f"80{NBSP}GB"),
        ("gpu-fact gpu=rtx-4090 field=bus-width", "384", "384"),
        ("gpu-fact gpu=h100-sxm field=bus-width", "5,120", "5120"),
    ],
)
def test_role_model_and_gpu_facts(text: str, en: str, zh: str) -> None:
    assert compute(text, "en", "GB") == en
    assert compute(text, "zh_CN", "GB") == zh


def test_role_facts_refuse_what_is_not_there() -> None:
    with pytest.raises(UnknownNameError, match="'width'"):
        compute("model-fact model=llama-2-7b field=width", "en", "GB")
    with pytest.raises(InvalidValueError, match="sliding-window"):
        compute("model-fact model=llama-2-7b field=sliding-window", "en", "GB")
    with pytest.raises(UnknownNameError, match="'pcie'"):
        compute("gpu-fact gpu=h100-sxm field=pcie", "en", "GB")


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        # PCI-SIG's 5.0 release: 32 GT/s a lane, 128 GB/s over x16 in both directions together
        ("link-fact link=pcie-5.0 field=bandwidth", f"128{NBSP}GB/s", f"128{NBSP}GB/s"),
        ("link-fact link=pcie-5.0 field=transfer-rate", f"32{NBSP}GT/s", f"32{NBSP}GT/s"),
        ("link-fact link=pcie-4.0 field=lanes", "16", "16"),
        # NVIDIA's NVLink page: 18 links of 100 GB/s on a Blackwell GPU
        ("link-fact link=nvlink-5 field=bandwidth unit=GB", f"1,800{NBSP}GB/s", f"1800{NBSP}GB/s"),
    ],
)
def test_role_link_facts(text: str, en: str, zh: str) -> None:
    assert (compute(text, "en", "GB"), compute(text, "zh_CN", "GB")) == (en, zh)


def test_role_link_fact_a_source_does_not_give() -> None:
    with pytest.raises(InvalidValueError, match="transfer-rate"):
        compute("link-fact link=nvlink-4 field=transfer-rate", "en", "GB")
    with pytest.raises(UnknownNameError, match="pcie-5.0"):
        compute("link-fact link=pcie-5 field=lanes", "en", "GB")


def test_role_ratio_and_saving() -> None:
    assert compute("ratio model=llama-2-7b mode=training", "en", "GB") == "×5.3"
    # INT4 stores half a byte per parameter instead of two; the reserve is 5 % of the tensors
    saved = 1.5 * LLAMA_2_7B * 1.05
    base = estimate("llama-2-7b", seq=4096).total_bytes
    expected = f"{100 * saved / base:.1f}%"
    assert compute("saving model=llama-2-7b variant=int4 seq=4096", "en", "GB") == expected


CHART_OPTIONS = {
    "breakdown": {"models": "llama-2-7b", "workloads": "seq=4096 | mode=training"},
    "kv-cache": {"models": "llama-2-7b llama-3.1-8b", "dtypes": "bf16 fp8"},
    "activations": {"models": "llama-2-7b", "workloads": "mode=training"},
    "gpus": {"gpus": "h100-sxm l40 l40s rtx-4090"},
    "memory-wall": {},
    "roofline": {"gpus": "h100-sxm rtx-4090", "dtypes": "bf16 int4"},
    "rule-of-thumb": {"models": "llama-3.2-1b llama-2-7b", "workloads": "mode=inference"},
}


def chart(kind: str, unit: str = "GB", **options: str):
    return CHARTS[kind](select(options or CHART_OPTIONS[kind], unit), "en")


def test_weights_chart_against_gpu_memory() -> None:
    figure, alt = chart("weights", params="7e9 70e9", dtypes="fp16 int4", gpus="h100-sxm")
    assert figure.categories == (f"7{NBSP}billion", f"70{NBSP}billion")
    assert figure.series == (("FP16", (14.0, 140.0)), ("INT4", (3.5, 35.0)))  # P × bits ÷ 8
    assert figure.lines == (("H100 SXM5 80GB", 81_559 * 2**20 / 1e9),)  # nvidia-smi: 81,559 MiB
    assert alt.endswith("with dashed lines at the memory of H100 SXM5 80GB.")


def test_breakdown_chart_stacks_the_components() -> None:
    figure, alt = chart("breakdown")
    assert isinstance(figure, StackedBarChart)
    assert figure.categories == ("Inference, 4,096 tokens", "Training, batch 1 × 2,048 tokens")
    stacks = {label: values for label, values, _ in figure.series}
    assert stacks["Weights"] == (LLAMA_2_7B * 2 / 1e9,) * 2
    assert stacks["KV cache"] == (2**31 / 1e9, 0.0)  # 2 × 32 layers × 4,096² × 2 B
    assert stacks["Gradients"] == (0.0, LLAMA_2_7B * 2 / 1e9)
    assert stacks["Optimizer states"] == (0.0, LLAMA_2_7B * 8 / 1e9)  # AdamW: two FP32 moments
    assert figure.series[0][0] == "Weights"  # the bottom of each bar
    assert "Llama-2-7B" in alt


def test_kv_cache_chart() -> None:
    figure, alt = chart("kv-cache", unit="GiB")
    assert isinstance(figure, LineChart)
    label, xs, ys = figure.series[0]
    assert label == "Llama-2-7B, BF16" and xs[-1] == 4096 and ys[-1] == 2.0
    assert figure.series[1][2][-1] == 1.0  # the same model with an FP8 cache
    assert figure.styles == ("-", "--", "-", "--")  # FP8 dashed, in its model's colour
    assert alt.endswith("for Llama-2-7B, Llama-3.1-8B.")


def test_activations_grow_with_the_square_of_the_sequence_when_eager() -> None:
    figure, _ = chart("activations", models="llama-2-7b", seqs="512 1024 2048")
    (_, xs, fused), (_, _, eager) = figure.series
    assert xs == (512.0, 1024.0, 2048.0)
    assert fused[1] == pytest.approx(2 * fused[0]) and fused[2] == pytest.approx(4 * fused[0])
    extra = [e - f for e, f in zip(eager, fused, strict=True)]  # the attention matrices
    assert extra[1] == pytest.approx(4 * extra[0]) and extra[2] == pytest.approx(16 * extra[0])


def test_gpus_chart_points() -> None:
    figure, alt = chart("gpus")
    assert isinstance(figure, ScatterChart)
    assert figure.points[0] == ("H100 SXM5 80GB", 3.35, 81_559 / 1024, "HBM3")  # TB/s, GiB
    assert figure.points[3][0] == "RTX 4090"  # "GeForce" left out
    assert alt == "Scatter chart of the memory of 4 GPUs against their bandwidth."


def test_memory_wall_is_relative_to_the_oldest_gpu() -> None:
    figure, _ = chart("memory-wall", gpus="h100-sxm v100-16gb")
    compute_, ridge, bandwidth, capacity = (ys for _, _, ys in figure.series)
    assert compute_ == (1.0, 989.4 / 125)  # dense FP16 TFLOPS: V100 125, H100 989.4
    assert bandwidth == (1.0, 3.35e12 / 0.9e12)
    assert ridge[1] == pytest.approx(compute_[1] / bandwidth[1])
    assert capacity == (1.0, 81_559 / 16_160)  # the MiB each reports
    assert [label for _, label in figure.xticks] == ["V100\n2017", "H100\n2022"]


def test_roofline_bends_at_the_ridge_point() -> None:
    figure, _ = chart("roofline")
    label, xs, ys = figure.series[0]
    assert label == "H100 SXM5 80GB (ridge at 295 FLOP/B)"
    assert xs == (0.25, pytest.approx(989.4e12 / H100_BANDWIDTH), 4096.0)
    assert ys == (3.35 * 0.25, 989.4, 989.4)  # TB/s × FLOP/B below the ridge, the peak above
    assert [x for _, x in figure.vlines] == [1.0, 4.0]  # 2 FLOP per parameter ÷ bytes


def test_rule_of_thumb_chart() -> None:
    figure, _ = chart("rule-of-thumb")
    (rule_label, rules), (gpumem_label, _) = figure.series
    assert rule_label == "Rule of thumb, Inference" and gpumem_label == "gpumem, Inference"
    assert rules[1] == pytest.approx(LLAMA_2_7B * 2 * 1.2 / 1e9)  # parameters × 2 bytes × 1.2
    assert figure.colours == ("#3a87c880", "#3a87c8")  # the rule of thumb half transparent


PAGE = """# Kinds

```{gpumem-table} breakdown
:models: llama-2-7b
:workloads: mode=inference seq=4096 | mode=training seq=4096 checkpointing=full
:unit: GiB
```

```{gpumem-table} savings
:models: llama-2-7b
:workloads: mode=training
:variants: lora qlora zero3
```

```{gpumem-chart} breakdown
:models: llama-2-7b
:workloads: mode=inference seq=4096 | mode=training

Where the memory goes.
```

Decoding reaches {gpumem}`decode model=llama-2-7b gpu=h100-sxm` tokens per second.
"""

BAD = """---
orphan: true
---
# Bad

```{gpumem-table} savings
:models: llama-2-7b
:variants: lora
```
"""


def test_build_in_chinese_without_warnings(build_root) -> None:
    out, warnings = build_root("test-gpumem", "html", "zh_CN", {"index.md": PAGE, "bad.md": BAD})
    assert warnings.count("WARNING") == 1 and "bad.md" in warnings and "'lora'" in warnings
    page = (out / "index.html").read_text(encoding="utf-8")
    for text in ("组成部分", "推理，4096 个 token", "LoRA，秩 16", "峰值出现于", 'alt="堆叠柱状图'):
        assert text in page
    assert len(list((out / "_images").glob("gpumem-*.svg"))) == 1
