"""The accelerator table: vendor figures, reported totals, die capacities and error cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpumem import hardware
from gpumem.errors import ConfigError, UnknownNameError
from gpumem.hardware import get_gpu, get_link, gpu_names, link_names

FIRST_ROW = json.loads(Path(hardware._DATA).read_text())["gpus"][0]
REQUIRED = [
    "v100-16gb", "v100-32gb", "t4", "a10", "a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie",
    "h200", "b200", "l4", "l40s", "rtx-3060-12gb", "rtx-3090", "rtx-4060-ti-16gb", "rtx-4090",
    "rtx-5090", "rtx-a6000", "rtx-6000-ada", "mi250x", "mi300x", "mi325x", "rx-7900-xtx",
    "gaudi2", "gaudi3",
    # bought in 2026
    "b300", "rtx-pro-6000", "rtx-5060-ti-16gb", "mi355x", "arc-b580",
    "m4-pro-64gb", "m4-max-128gb", "m3-ultra-512gb",
]  # fmt: skip


def test_table_size_and_required_rows() -> None:
    names = gpu_names()
    assert len(names) >= 36 and set(REQUIRED) <= set(names)


@pytest.mark.parametrize("gpu_id", gpu_names())
def test_rows_are_sane(gpu_id: str) -> None:
    gpu = get_gpu(gpu_id)
    assert gpu.source.startswith("https://") and gpu.memory_source.startswith("https://")
    marketed = gpu.memory_marketed * 10**9
    if gpu.memory_basis == "reported":
        # a total in MiB, quoted as the log prints it, a few percent off the marketed figure
        mib = gpu.memory_bytes // 2**20
        assert gpu.memory_bytes == mib * 2**20 and f"{mib:,} MiB" in gpu.memory_evidence
        assert 0.9 * marketed < gpu.memory_bytes < 1.1 * marketed
    else:
        # whole dies of a binary size, never the marketed figure turned into bytes
        assert gpu.memory_basis == "dies" and gpu.memory_bytes % 2**30 == 0
        assert gpu.memory_bytes != marketed
        count, gib = (int(n) for n in gpu.memory_evidence.split(" GiB")[0].split(" x "))
        assert count * gib * 2**30 == gpu.memory_bytes
    assert 2017 <= gpu.year <= 2025
    assert 1e11 < gpu.bandwidth_bytes_per_s < 1e13
    if gpu.tflops_basis == "none":
        assert gpu.fp16_tflops is None and gpu.bf16_tflops is None
    else:
        assert gpu.fp16_tflops or gpu.bf16_tflops
    if gpu.tflops_basis == "derived":
        assert "derived" in gpu.note


def test_reported_totals() -> None:
    # memory.total in the nvidia-smi logs each row cites
    assert get_gpu("a100-80gb").memory_bytes == 81920 * 2**20 == 85_899_345_920
    assert get_gpu("h100-sxm").memory_bytes == 81559 * 2**20
    assert get_gpu("rtx-5090").memory_bytes == 32607 * 2**20
    assert get_gpu("v100-32gb").memory_bytes == 32480 * 2**20
    assert get_gpu("b200").memory_bytes == 183359 * 2**20
    assert get_gpu("h200").memory_bytes == 143771 * 2**20
    assert get_gpu("t4").memory_bytes == 15 * 2**30
    assert get_gpu("b300").memory_bytes == 275040 * 2**20 == 288_400_343_040
    assert get_gpu("rtx-pro-6000").memory_bytes == 97887 * 2**20  # 417 MiB under 96 GiB
    assert get_gpu("rtx-4080").memory_bytes == 16376 * 2**20
    assert get_gpu("l40").memory_bytes == get_gpu("l40s").memory_bytes == 46068 * 2**20


def test_reported_totals_of_amd_cards_in_bytes() -> None:
    # rocm-smi's VRAM Total Memory (B), a whole number of MiB
    assert get_gpu("rx-7900-xtx").memory_bytes == 25_753_026_560 == 24560 * 2**20
    assert get_gpu("mi355x").memory_bytes == 309_220_868_096 == 294896 * 2**20


def test_capacity_of_dies() -> None:
    # MI325X: eight 32 GiB HBM3e stacks; Arc B580: six 16 Gb GDDR6 chips
    assert get_gpu("mi325x").memory_bytes == 8 * 32 * 2**30
    assert get_gpu("arc-b580").memory_bytes == 6 * 2 * 2**30
    assert get_gpu("mi325x").memory_basis == get_gpu("arc-b580").memory_basis == "dies"


def test_no_row_counts_marketed_gigabytes() -> None:
    # the examples: the PCIe card reports what the SXM card reports, and a V100
    # unlike an RTX 5090
    assert get_gpu("h100-pcie").memory_bytes == get_gpu("h100-sxm").memory_bytes == 81559 * 2**20
    assert get_gpu("v100-32gb").memory_bytes != get_gpu("rtx-5090").memory_bytes
    assert all(get_gpu(n).memory_bytes % 10**9 for n in gpu_names())


def test_unified_memory_flagged() -> None:
    apple = {n for n in gpu_names() if get_gpu(n).vendor == "Apple"}
    assert apple == {n for n in gpu_names() if get_gpu(n).unified_memory}
    assert get_gpu("m4-max-128gb").memory_bytes == 128 * 2**30
    assert get_gpu("m4-max-128gb").bandwidth_bytes_per_s == 546e9


def test_t4_bandwidth_as_its_datasheet_prints() -> None:
    assert get_gpu("t4").bandwidth_bytes_per_s == 300e9


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


def test_unknown_memory_basis_refused(fake_table: Path) -> None:
    fake_table.write_text(json.dumps({"gpus": [row(memory_basis="marketed")]}))
    with pytest.raises(ConfigError, match="memory_basis 'marketed' is not one of reported, dies"):
        gpu_names()


def test_dies_not_whole_gib_refused(fake_table: Path) -> None:
    fake_table.write_text(json.dumps({"gpus": [row(memory_basis="dies", memory_bytes=16 * 10**9)]}))
    with pytest.raises(ConfigError, match="not a whole GiB"):
        gpu_names()


def test_malformed_table_refused(fake_table: Path) -> None:
    fake_table.write_text("[")
    with pytest.raises(ConfigError, match="'gpus' list"):
        gpu_names()


@pytest.mark.parametrize("link_id", link_names())
def test_link_rows_are_sane(link_id: str) -> None:
    link = get_link(link_id)
    assert link.source.startswith("https://") and link.kind in ("pcie", "nvlink")
    assert (link.lanes == 16) == (link.kind == "pcie")  # PCI Express figures are for x16
    # the bandwidth as the row's evidence quotes it, in GB/s or TB/s
    compact = link.evidence.replace(" ", "")
    gb, tb = link.bandwidth_bytes_per_s / 1e9, link.bandwidth_bytes_per_s / 1e12
    assert f"{gb:g}GB/s" in compact or f"{tb:g}TB/s" in compact


def test_link_figures_as_their_sources_print_them() -> None:
    # each PCI Express generation doubles the rate a lane: x16 of 5.0 is 32 GT/s x 16 lanes,
    # 128 GB/s in both directions together; NVLink: 300, 600, 900 GB/s, then 18 x 100 GB/s
    assert get_link("pcie-5.0").bandwidth_bytes_per_s == 128 * 10**9
    assert get_link("pcie-5.0").transfer_rate_gt_per_s == 32
    assert (
        get_link("pcie-6.0").bandwidth_bytes_per_s == 2 * get_link("pcie-5.0").bandwidth_bytes_per_s
    )
    assert get_link("pcie-4.0").bandwidth_bytes_per_s == 64 * 10**9
    nvlink = [get_link(f"nvlink-{n}").bandwidth_bytes_per_s for n in (2, 3, 4, 5)]
    assert nvlink == [300e9, 600e9, 900e9, 18 * 100e9]


def test_unknown_link_suggests() -> None:
    with pytest.raises(UnknownNameError) as caught:
        get_link("pcie-5")
    assert "pcie-5.0" in caught.value.suggestions


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "infiniband"}, "kind 'infiniband' is not one of pcie, nvlink"),
        ({"source": ""}, r"links.json row 'pcie-5.0'.*missing \['source'\]"),
        ({"gbps": 1}, r"unknown \['gbps'\]"),
    ],
)
def test_bad_link_rows_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict, message: str
) -> None:
    path = tmp_path / "links.json"
    path.write_text(json.dumps({"links": [get_link("pcie-5.0").as_dict() | change]}))
    monkeypatch.setattr(hardware, "_LINKS", path)
    hardware._links.cache_clear()
    try:
        with pytest.raises(ConfigError, match=message):
            link_names()
    finally:
        hardware._links.cache_clear()


def test_multiprocessors_and_compute_capability_as_devices_report_them() -> None:
    """Streaming multiprocessors and compute capability as deviceQuery and the vendors print
    them (H100 SXM5 132 / 9.0, A100 108 / 8.0, RTX 4090 128 / 8.9, L4 58 / 8.9, RTX 5090
    170 / 12.0; L40 18,176 CUDA cores / 128 = 142 / 8.9; A10G 80 / 8.6), each with its
    source; none off NVIDIA, with the reason."""
    known = {
        "h100-sxm": (132, "9.0"),
        "a100-80gb": (108, "8.0"),
        "rtx-4090": (128, "8.9"),
        "l4": (58, "8.9"),
        "rtx-5090": (170, "12.0"),
        "l40": (18_176 // 128, "8.9"),
        "a10g": (80, "8.6"),
        "mi300x": (None, None),
    }
    for name, (count, capability) in known.items():
        gpu = get_gpu(name)
        assert (gpu.multiprocessors, gpu.compute_capability) == (count, capability), name
        assert gpu.multiprocessors_evidence and gpu.compute_capability_evidence, name
        assert bool(gpu.multiprocessors_source) == (count is not None), name


def test_peer_link_by_form_factor() -> None:
    """SXM modules reach each other over their baseboard's NVLink, PCI Express cards over PCIe
    (GeForce, workstation and data-centre cards alike, a bridged pair too); not recorded off
    NVIDIA, with the reason."""
    expected = {
        "h100-sxm": "nvlink",
        "h200": "nvlink",
        "a100-80gb": "nvlink",
        "b200": "nvlink",
        "h100-pcie": "pcie",
        "h100-nvl": "pcie",
        "a100-80gb-pcie": "pcie",
        "l40s": "pcie",
        "a10g": "pcie",
        "rtx-a6000": "pcie",
        "rtx-3090": "pcie",
        "rtx-5090": "pcie",
        "mi300x": None,
        "m3-ultra-512gb": None,
    }
    for name, link in expected.items():
        gpu = get_gpu(name)
        assert gpu.peer_link == link, name
        assert gpu.peer_link_evidence, name
        assert bool(gpu.peer_link_source) == (link is not None), name
    for name in gpu_names():
        gpu = get_gpu(name)
        assert (gpu.peer_link is None) == (gpu.vendor != "NVIDIA"), name
        if gpu.peer_link == "nvlink":
            assert "SXM" in gpu.name or "DGX" in gpu.peer_link_evidence, name


def test_bad_peer_link_refused(fake_table: Path) -> None:
    fake_table.write_text(json.dumps({"gpus": [row(peer_link="infiniband")]}))
    with pytest.raises(ConfigError, match="peer_link 'infiniband' is not one of"):
        gpu_names()
    fake_table.write_text(json.dumps({"gpus": [row(peer_link="nvlink", peer_link_source="")]}))
    hardware._gpus.cache_clear()
    with pytest.raises(ConfigError, match="peer_link without peer_link_source"):
        gpu_names()
