"""The accuracy page's table, chart and role quantity, checked against the measurements file."""

from __future__ import annotations

import gettext
import json
import statistics

import pytest

pytest.importorskip("myst_parser")
from sphinx import locale  # noqa: E402
from test_sphinxext_kinds import select  # noqa: E402

from gpumem._data import path  # noqa: E402
from gpumem.errors import GpumemError  # noqa: E402
from gpumem.estimate import estimate  # noqa: E402
from gpumem.plotting import ErrorChart, render_svg  # noqa: E402
from gpumem.sphinxext.chart import CHARTS  # noqa: E402
from gpumem.sphinxext.formatting import signed_percent  # noqa: E402
from gpumem.sphinxext.quantities import compute  # noqa: E402
from gpumem.sphinxext.table import TABLES  # noqa: E402
from gpumem.sphinxext.translation import CATALOG, LOCALE_DIR  # noqa: E402
from gpumem.validation import (  # noqa: E402
    CPU_ONLY_BEHAVIOUR,
    FITTED,
    KNOWN_MISSES,
    comparisons,
    summary,
)

RECORDS = json.loads(open(path("measurements.json"), encoding="utf-8").read())["records"]
LLAMA_2_7B = 6_738_415_616  # parameters


@pytest.fixture
def chinese(monkeypatch):
    translation = gettext.translation(CATALOG, str(LOCALE_DIR), ["zh_CN"])
    monkeypatch.setitem(locale.translators, ("general", CATALOG), translation)


def table(kind: str, language: str = "en", **options: str):
    return TABLES[kind](select(options, "GB"), language)


def test_one_training_row_from_the_json() -> None:
    # Llama 2 7B, BF16, 4 x 2,048 tokens, fused AdamW: found by its scenario, recomputed here.
    (record,) = [
        r
        for r in RECORDS
        if r["model"] == "llama-2-7b"
        and r["scenario"]["mode"] == "train"
        and r["scenario"]["dtype"] == "bf16"
        and r["scenario"]["optimizer"] == "fused"
    ]
    measured = record["peak_bytes"]
    predicted = estimate(
        "llama-2-7b",
        mode="training",
        dtype="bf16",
        precision="pure",
        batch=4,
        seq=2048,
        optimizer="adamw",
        optimizer_impl="fused",
        cuda_context=0,
        allocator_reserve=0.0,
    ).tensor_bytes
    rule = LLAMA_2_7B * 2 * 2  # BF16 bytes x 2
    _, header, rows = table("accuracy", models="llama-2-7b", kinds="train", unit="GiB")
    assert header[2:5] == ["Measured (GiB)", "gpumem (GiB)", "Error"]
    label = "Training, BF16, batch 4 × 2,048 tokens, fused AdamW"
    (row,) = [r for r in rows if r[1] == label]
    error = (predicted - measured) / measured
    assert row[2] == f"{measured / 2**30:.1f}" and row[3] == f"{predicted / 2**30:.1f}"
    assert row[4] == ("−" if error < 0 else "+") + f"{abs(100 * error):.2f}%"
    assert row[5] == f"{rule / 2**30:.1f}"
    assert row[6] == f"−{100 * (measured - rule) / measured:.1f}%"
    assert rows[0][0] == "Llama-2-7B" and all(r[0] == "" for r in rows[1:])


def test_table_groups_models_and_marks_runs_that_failed(chinese) -> None:
    _, _, rows = table("accuracy", "zh_CN", models="mixtral-8x7b", kinds="train")
    failed = [r for r in rows if r[2] == "未能运行"]
    assert len(failed) == 6 and all(r[3:] == ["—"] * 4 for r in failed)
    assert "训练，FP32 权重，BF16 自动混合精度，批大小 4 × 2048 个 token" in failed[3][1]


def test_table_options() -> None:
    _, _, rows = table("accuracy", kinds="weights generate")
    assert len(rows) == sum(r["scenario"]["mode"] in ("weights", "generate") for r in RECORDS)
    assert rows[0][1] == "Weights only, FP32" and rows[0][4] == "0%"  # GPT-2: exact
    with pytest.raises(GpumemError, match="'decode'"):
        table("accuracy", kinds="decode")
    with pytest.raises(GpumemError, match="'llama-3.1-8b'"):
        table("accuracy", models="llama-3.1-8b")


def test_summary_agrees_with_validation() -> None:
    rows = comparisons()
    figures = summary(rows)
    _, header, cells = table("accuracy-summary")
    assert header[0] == "Kind of scenario" and cells[-1][0] == "All"
    assert cells[-1][1] == f"{len(rows)}"
    assert cells[-1][2] == compute("accuracy stat=median", "en", "GB")
    assert compute("accuracy stat=count", "en", "GB") == str(len(rows))
    assert compute("accuracy stat=failed", "en", "GB") == str(len(RECORDS) - len(rows))
    for stat in ("median", "worst", "rule_median", "rule_worst"):
        text = compute(f"accuracy stat={stat} digits=6", "en", "GB")
        assert float(text.rstrip("%")) == pytest.approx(100 * figures[stat], rel=1e-5)
    trains = [abs(r.rule_error) for r in rows if r.kind == "train" and r.rule_error is not None]
    text = compute("accuracy stat=rule_median kind=train digits=6", "zh_CN", "GB")
    assert float(text.rstrip("%")) == pytest.approx(100 * statistics.median(trains), rel=1e-5)
    weights = dict(zip(header, cells[0], strict=True))
    assert weights["Rule of thumb: median |error|"] == "—"  # no rule for weights alone
    with pytest.raises(GpumemError, match="rule_median"):
        compute("accuracy stat=rule_median kind=weights", "en", "GB")
    with pytest.raises(GpumemError, match="'mean'"):
        compute("accuracy stat=mean", "en", "GB")


def test_signed_percent() -> None:
    assert signed_percent(0, 2) == "0%"
    assert signed_percent(-0.00004, 2) == "−0.00%"
    assert signed_percent(0.0157, 2) == "+1.57%"
    assert signed_percent(-0.883, 1) == "−88.3%"


def test_chart_is_deterministic_and_complete(chinese) -> None:
    figure, alt = CHARTS["accuracy"](select({"unit": "GiB"}, "GB"), "zh_CN")
    assert isinstance(figure, ErrorChart)
    rows = comparisons()
    assert len(figure.points) == len(rows) + sum(r.rule_error is not None for r in rows)
    assert figure.ylabel == "估算误差" and f"共 {len(rows)} 个场景" in alt
    first = render_svg(figure)
    assert first.startswith(b"<?xml") and render_svg(figure) == first


def test_split_selects_records_and_claims_rest_on_held_out() -> None:
    held = [r for r in RECORDS if r["split"] == "held_out" and r.get("peak_bytes")]
    errors = sorted(
        abs(c.error) for c in comparisons() if c.split == "held_out"
    )  # the same records, by the other door
    assert compute("accuracy stat=count split=held_out", "en", "GB") == str(len(held))
    assert len(errors) == len(held)
    text = compute("accuracy stat=worst split=held_out digits=6", "en", "GB")
    assert float(text.rstrip("%")) == pytest.approx(100 * errors[-1], rel=1e-5)
    models = {r["model"] for r in RECORDS if r["split"] == "fitted" and r.get("peak_bytes")}
    assert compute("accuracy stat=models split=fitted", "en", "GB") == str(len(models))
    _, _, rows = table("accuracy", kinds="train", split="held_out")
    assert len(rows) == sum(r["scenario"]["mode"] == "train" for r in held)
    with pytest.raises(GpumemError, match="'test'"):
        compute("accuracy stat=median split=test", "en", "GB")
    with pytest.raises(GpumemError, match="'some'"):
        compute("accuracy stat=median misses=some", "en", "GB")


def test_worst_without_known_misses() -> None:
    # every held-out record except the (model, label) pairs named in KNOWN_MISSES and the CPU
    # training steps of the models whose tensors there are not a GPU's
    rows = [
        c
        for c in comparisons("held_out")
        if (c.model, c.scenario) not in KNOWN_MISSES
        and not (c.kind == "train" and c.model in CPU_ONLY_BEHAVIOUR)
    ]
    worst = max(abs(c.error) for c in rows)
    text = compute("accuracy stat=worst split=held_out misses=without digits=6", "en", "GB")
    assert float(text.rstrip("%")) == pytest.approx(100 * worst, rel=1e-5)
    assert worst <= float(compute("accuracy stat=worst split=held_out digits=6", "en", "GB")[:-1])


def test_family_table_counts_each_family_and_split() -> None:
    _, header, rows = table("accuracy-families")
    assert header[:3] == ["Kind of scenario", "Split", "Scenarios compared"]
    lora = [
        r
        for r in RECORDS
        if r["scenario"].get("lora_rank") and r["split"] == "held_out" and r.get("peak_bytes")
    ]
    (row,) = [r for r in rows if r[0] == "LoRA training step"]
    assert row[1] == "Held out" and row[2] == str(len(lora))
    assert sum(int(r[2]) for r in rows) == len(comparisons())
    _, _, held = table("accuracy-families", split="held_out")
    assert {r[1] for r in held} == {"Held out"}


def test_fitted_and_misses_are_listed_in_both_languages(chinese) -> None:
    _, _, fitted = table("accuracy-fitted", "zh_CN")
    assert [(r[0], r[1]) for r in fitted] == list(FITTED)
    _, _, misses = table("accuracy-misses", "zh_CN")
    assert len(misses) == len(KNOWN_MISSES)
    po = open(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{CATALOG}.po", encoding="utf-8").read()
    for text in {*FITTED.values(), *KNOWN_MISSES.values()}:
        assert f'msgid "{text}"' in po.replace('"\n"', "")
        assert text not in {r[2] for r in fitted} | {r[3] for r in misses}  # shown translated
    _, _, trains = table("accuracy", "zh_CN", kinds="train", split="held_out")
    assert any("LoRA 秩 16" in r[1] for r in trains)


def test_llamacpp_figures_follow_the_records(chinese) -> None:
    from test_llamacpp_records import RECORDS as LOADS
    from test_llamacpp_records import _error

    assert compute("llamacpp stat=count", "en", "GB") == str(len(LOADS))
    # weights from shapes and block sizes, KV from the formula: all equal (test_llamacpp_records)
    assert compute("llamacpp stat=weights_exact", "en", "GB") == str(len(LOADS))
    assert compute("llamacpp stat=kv_exact", "en", "GB") == str(len(LOADS))
    for split, held in (("held_out", True), ("fitted", False)):
        worst = max(abs(_error(r)) for r in LOADS if r["held_out"] == held)
        text = compute(f"llamacpp stat=compute_worst split={split} digits=6", "en", "GB")
        assert float(text.rstrip("%")) == pytest.approx(100 * worst, rel=1e-3)
    _, header, rows = table("llamacpp-summary", "zh_CN", split="held_out")
    assert header[0] == "数据集划分" and [r[0] for r in rows] == ["留出集"]
    with pytest.raises(GpumemError, match="'mean'"):
        compute("llamacpp stat=mean", "en", "GB")


def test_llamacpp_rows_by_model_name_the_layers_written(chinese) -> None:
    from test_llamacpp_records import RECORDS as LOADS

    _, header, rows = table("llamacpp-models", "zh_CN", split="held_out")
    assert header[:2] == ["模型", "数据集划分"]
    by_name = {r[0]: r for r in rows}
    # gpt-oss-20b written with 2 of its 24 layers (one windowed, one full), all 13 loads held out
    assert by_name["gpt-oss-20b，2 层"][2] == "13"
    assert sum(int(r[2]) for r in rows) == sum(r["held_out"] for r in LOADS)
    _, _, rows = table("llamacpp-models", "zh_CN", split="fitted")
    assert {r[0] for r in rows} == {
        "Qwen2.5-0.5B，24 层",
        "Llama-3.2-1B，16 层",
        "Qwen1.5-MoE-A2.7B，24 层",
    }


def test_family_narrows_the_figures_to_fsdp2() -> None:
    fsdp = [abs(c.error) for c in comparisons("held_out") if c.family == "FSDP2"]
    assert compute("accuracy stat=count family=FSDP2 split=held_out", "en", "GB") == str(len(fsdp))
    text = compute("accuracy stat=worst family=FSDP2 split=held_out digits=6", "en", "GB")
    assert float(text.rstrip("%")) == pytest.approx(100 * max(fsdp), rel=1e-5)
    with pytest.raises(GpumemError, match="'DDP'"):
        compute("accuracy stat=median family=DDP", "en", "GB")


#: The held-out prompts that ran sdpa's math kernel: DeepSeek-V2-Lite's three.
MATH = [
    r["model"]
    for r in RECORDS
    if r["split"] == "held_out" and r["scenario"]["mode"] == "prefill"
    if r["scenario"].get("attention") == "math"
]


def _saying(language: str, words: str) -> int:
    _, _, rows = table("accuracy", language, kinds="prefill", split="held_out")
    return sum(words in r[1] for r in rows)


def test_rows_name_the_kernel_sdpa_ran() -> None:
    assert MATH == ["deepseek-v2-lite"] * 3
    assert _saying("en", "sdpa's math kernel") == len(MATH)


def test_rows_name_the_kernel_sdpa_ran_in_chinese(chinese) -> None:
    assert _saying("zh_CN", "sdpa 的 math 内核") == len(MATH)


# Measured on a GPU ------------------------------------------------------------------------------

CUDA = json.loads(open(path("cuda_measurements.json"), encoding="utf-8").read())
#: GPT-2 trained in FP32 on 4 x 1,024 tokens with foreach AdamW, on the GPU.
(GPT2_TWIN,) = [
    r
    for r in CUDA["records"]
    if r["model"] == "gpt2"
    and r["scenario"]
    | {"dtype": "fp32", "amp": None, "batch": 4, "seq": 1024, "optimizer": "foreach"}
    == r["scenario"]
    and r["scenario"]["mode"] == "train"
    and not r["scenario"]["grad_checkpointing"]
]


def _key(record: dict) -> tuple:
    """A scenario as both files write it (the GPU's file writes every field, the unset ones
    empty), the kernel sdpa chose left out."""
    scenario = {k: v for k, v in record["scenario"].items() if k != "attention" and v}
    return record["model"], json.dumps(scenario, sort_keys=True)


def test_cuda_source_selects_the_gpu_records() -> None:
    ran = [r for r in CUDA["records"] if r.get("peak_bytes")]
    assert compute("accuracy stat=count source=cuda", "en", "GB") == str(len(ran))
    assert compute("accuracy stat=failed source=cuda", "zh_CN", "GB") == str(
        len(CUDA["records"]) - len(ran)
    )
    _, header, rows = table("accuracy-families", source="cuda", split="held_out")
    assert header == table("accuracy-families")[1]  # the CPU's columns
    lora = [r for r in ran if r["split"] == "held_out" and r["scenario"]["lora_rank"]]
    (row,) = [r for r in rows if r[0] == "LoRA training step"]
    assert row[2] == str(len(lora))
    held = sum(r["split"] == "held_out" for r in ran)
    assert sum(int(r[2]) for r in rows) == held
    with pytest.raises(GpumemError, match="'rocm'"):
        compute("accuracy stat=count source=rocm", "en", "GB")
    with pytest.raises(GpumemError, match="'rocm'"):
        table("accuracy-families", source="rocm")


def test_cuda_misses_name_their_mechanism(chinese) -> None:
    from gpumem.validation import CUDA_KNOWN_MISSES

    _, _, rows = table("accuracy-misses", "zh_CN", source="cuda")
    assert len(rows) == len(CUDA_KNOWN_MISSES)  # each names a scenario that ran on the GPU
    known = compute("accuracy stat=known_misses source=cuda", "zh_CN", "GB")
    assert known == str(len(CUDA_KNOWN_MISSES))
    assert not {r[3] for r in rows} & set(CUDA_KNOWN_MISSES.values())  # shown translated


def test_twins_pair_the_same_scenario_on_both() -> None:
    cpu = {_key(r): r["peak_bytes"] for r in RECORDS if r.get("peak_bytes")}
    pairs = [
        (cpu[_key(r)], r["peak_bytes"])
        for r in CUDA["records"]
        if r.get("peak_bytes") and _key(r) in cpu
    ]
    agree = sum(abs(b / a - 1) <= 0.005 for a, b in pairs)
    assert compute("twins stat=count", "en", "GB") == str(len(pairs))
    assert compute("twins stat=agree", "en", "GB") == str(agree)
    assert compute("twins stat=differ", "en", "GB") == str(len(pairs) - agree)
    assert compute("twins stat=tolerance", "en", "GB") == "0.5%"
    with pytest.raises(GpumemError, match="'mean'"):
        compute("twins stat=mean", "en", "GB")


def test_gpt2_twins_differ_by_their_dropout_masks() -> None:
    # GPT-2's 12 blocks keep two hidden-dropout masks each, the embeddings one: 25 masks of
    # 4 x 1,024 x 768 elements, in FP32 on the CPU (4 bytes) and in one byte on the GPU
    masks = 25 * 4 * 1024 * 768 * (4 - 1)
    (cpu,) = [
        r["peak_bytes"]
        for r in RECORDS
        if r["model"] == "gpt2" and _key(r)[1] == _key(GPT2_TWIN)[1]
    ]
    assert cpu - GPT2_TWIN["peak_bytes"] == pytest.approx(masks, abs=4096)
    _, header, rows = table("accuracy-twins")
    assert header == ["Why", "Models", "Scenarios", "GPU against the CPU"]
    (dropout,) = [r for r in rows if r[0].startswith("dropout masks")]
    assert dropout[1] == "GPT-2 (124M)" and "−2.8%" in dropout[3]
    assert sum(int(r[2]) for r in rows) == int(compute("twins stat=differ", "en", "GB"))
    assert not [r for r in rows if "not traced" in r[0]]


def test_twins_table_in_chinese(chinese) -> None:
    _, header, rows = table("accuracy-twins", "zh_CN")
    assert header[0] != "Why" and all("dropout masks" not in r[0] for r in rows)
    assert any("、" in r[1] for r in rows)  # several models, listed the Chinese way


def test_gpu_overheads_from_the_probe() -> None:
    # 552,402,944 B of context after initialisation, a 32 MiB cuBLAS workspace; nvidia-smi's
    # 143,771 MiB less cudaMemGetInfo's 150,109,880,320 B
    assert compute("cuda-overhead key=context_after_init unit=MiB", "en", "GB") == "526.81\xa0MiB"
    assert compute("cuda-overhead key=cublas_workspace unit=MiB", "en", "GB") == "32\xa0MiB"
    driver = 143_771 * 2**20 - 150_109_880_320
    text = compute("cuda-overhead key=driver_share unit=MiB", "en", "GB")
    assert text == f"{driver / 2**20:.2f}\xa0MiB"
    assert compute("cuda-overhead key=default_context unit=MiB", "en", "GB") == "512\xa0MiB"
    assert compute("cuda-overhead key=default_reserve", "en", "GB") == "5%"
    with pytest.raises(GpumemError, match="'context'"):
        compute("cuda-overhead key=context unit=MiB", "en", "GB")


def test_measurement_facts_and_sources_table(chinese) -> None:
    assert compute("measurement-fact key=device_name", "en", "GB") == "NVIDIA H200"
    assert compute("measurement-fact key=torch", "en", "GB") == "2.11.0+cu130"
    assert compute("measurement-fact key=torch source=cpu", "en", "GB") == "2.13.0+cpu"
    with pytest.raises(GpumemError, match="'driver'"):
        compute("measurement-fact key=driver source=cpu", "en", "GB")
    with pytest.raises(GpumemError, match="'total'"):
        compute("measurement-fact key=total", "en", "GB")
    from gpumem.sphinxext.sources import TABLES as SOURCES_TABLES

    title, _, rows = SOURCES_TABLES["cuda-measurements"]("zh_CN")
    cells = {r[0]: r[1] for r in rows}
    assert cells["记录"] == str(len(CUDA["records"]))
    assert "150109880320" in cells.values() and "NVIDIA H200" in cells.values()


def test_cpu_only_steps_are_listed_apart() -> None:
    # GPT-2's and BERT's CPU training steps, counted from the measurements file
    steps = {
        model: [r for r in RECORDS if r["model"] == model and r["scenario"]["mode"] == "train"]
        for model in ("gpt2", "bert-base-uncased")
    }
    _, header, rows = table("accuracy-cpu-only")
    assert header == ["Model", "Why", "Training steps", "Error"]
    assert [(r[0], r[2]) for r in rows] == [
        ("GPT-2 (124M)", str(sum(bool(r.get("peak_bytes")) for r in steps["gpt2"]))),
        (
            "BERT-base (uncased)",
            str(sum(bool(r.get("peak_bytes")) for r in steps["bert-base-uncased"])),
        ),
    ]
    assert table("accuracy-cpu-only", source="cuda")[2] == []  # the GPU runs what gpumem counts


def test_cpu_only_steps_in_chinese(chinese) -> None:
    _, header, rows = table("accuracy-cpu-only", "zh_CN")
    assert header[2] == "训练步数"
    assert set(CPU_ONLY_BEHAVIOUR.values()).isdisjoint(r[1] for r in rows)  # shown translated
