"""The accelerator table: vendor figures, reported totals and error cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpumem import hardware
from gpumem.errors import ConfigError, UnknownNameError
from gpumem.hardware import get_gpu, gpu_names

FIRST_ROW = json.loads(Path(hardware._DATA).read_text())["gpus"][0]
REQUIRED = [
    "v100-16gb", "v100-32gb", "t4", "a10", "a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie",
    "h200", "b200", "l4", "l40s", "rtx-3060-12gb", "rtx-3090", "rtx-4060-ti-16gb", "rtx-4090",
    "rtx-5090", "rtx-a6000", "rtx-6000-ada", "mi250x", "mi300x", "mi325x", "rx-7900-xtx",
    "gaudi2", "gaudi3",
]  # fmt: skip


def test_table_size_and_required_rows() -> None:
    names = gpu_names()
    assert len(names) >= 28 and set(REQUIRED) <= set(names)


@pytest.mark.parametrize("gpu_id", gpu_names())
def test_rows_are_sane(gpu_id: str) -> None:
    gpu = get_gpu(gpu_id)
    assert gpu.source.startswith("https://")
    marketed = gpu.memory_marketed * 10**9
    if gpu.memory_basis.startswith("reported"):
        # what the device reports lies within a few percent of the marketed figure
        assert 0.9 * marketed < gpu.memory_bytes < 1.1 * marketed
    else:
        assert gpu.memory_basis.startswith("marketed") and gpu.memory_bytes == marketed
    assert 2017 <= gpu.year <= 2025
    assert 1e11 < gpu.bandwidth_bytes_per_s < 1e13
    assert gpu.fp16_tflops or gpu.bf16_tflops


def test_reported_totals() -> None:
    # nvidia-smi memory.total: A100 80GB 81920 MiB, H100 SXM 81559 MiB, H200 143771 MiB
    assert get_gpu("a100-80gb").memory_bytes == 81920 * 2**20 == 85_899_345_920
    assert get_gpu("h100-sxm").memory_bytes == 81559 * 2**20
    assert get_gpu("H200").memory_bytes == 143771 * 2**20


def test_dense_not_sparse_figures() -> None:
    # H100 SXM datasheet: 1,979 TFLOPS FP16 "with sparsity"; dense is half
    assert get_gpu("h100-sxm").bf16_tflops == pytest.approx(1979 / 2, abs=0.2)
    assert get_gpu("a100-80gb").fp16_tflops == 312  # 624 with sparsity
    assert get_gpu("v100-16gb").bf16_tflops is None  # Volta has no BF16


def test_unknown_gpu_suggests() -> None:
    with pytest.raises(UnknownNameError) as caught:
        get_gpu("h100-sx")
    assert "h100-sxm" in caught.value.suggestions


@pytest.fixture
def fake_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "gpus.json"
    monkeypatch.setattr(hardware, "_DATA", path)
    hardware._gpus.cache_clear()
    yield path
    hardware._gpus.cache_clear()


def row(**changes: object) -> dict[str, object]:
    """The first real row of the table, with ``changes``."""
    return {**FIRST_ROW, **changes}


def test_row_without_source_refused(fake_table: Path) -> None:
    fake_table.write_text(json.dumps({"gpus": [row(source="")]}))
    with pytest.raises(ConfigError, match=r"missing \['source'\]"):
        gpu_names()


def test_duplicate_id_refused(fake_table: Path) -> None:
    fake_table.write_text(json.dumps({"gpus": [row(id="x"), row(id="X")]}))
    with pytest.raises(ConfigError, match="duplicate id"):
        gpu_names()


def test_unknown_memory_type_refused(fake_table: Path) -> None:
    fake_table.write_text(json.dumps({"gpus": [row(memory_type="HBM9")]}))
    with pytest.raises(ConfigError, match="memory_type 'HBM9'"):
        gpu_names()


def test_malformed_table_refused(fake_table: Path) -> None:
    fake_table.write_text("[")
    with pytest.raises(ConfigError, match="'gpus' list"):
        gpu_names()
