"""The local-inference tables and role quantities, against values worked out by hand."""

from __future__ import annotations

import pytest

from gpumem.errors import UnknownNameError
from gpumem.sphinxext import local
from gpumem.sphinxext.options import dtype_groups
from gpumem.sphinxext.selection import Selection


def test_gguf_sizes_compare_the_file_with_parameters_times_the_named_bits() -> None:
    selection = Selection.from_options({"dtypes": dtype_groups("q8_0 q4_k_m")}, "GB")
    title, header, rows = local.gguf_sizes_table(selection, "en")
    assert "Llama-3-8B" in title and "8,030,261,248" in title
    # llama-quantize prints 7.96 GiB and 4.58 GiB; 8,030,261,248 x 8 / 8 / 2^30 = 7.48 GiB
    assert rows[0][1:] == ["8", "8.51", "7.96", "7.48"]
    assert rows[1][1:] == ["4", "4.90", "4.58", "3.74"]


def test_working_set_of_the_64gb_mac_is_three_quarters() -> None:
    selection = Selection.from_options({"gpus": ("m4-pro-64gb",)}, "GB")
    _, _, rows = local.working_set_table(selection, "en")
    assert rows == [["Apple M4 Pro (64GB)", "64\xa0GiB", "48\xa0GiB", "75%", "273\xa0GB/s"]]
    assert local.working_set(language="en", gpu="m4-pro-64gb") == "48\xa0GiB"


def test_offload_quantity_shows_a_figure_of_the_placement() -> None:
    # Llama 3.1 8B in FP16 on 16 GB at 16,384 tokens: two layers stay on the CPU (-ngl 31)
    args = {"model": "llama-3.1-8b", "gpu": "rtx-4060-ti-16gb", "ctx": "16384", "dtype": "fp16"}
    assert local.offload(language="en", show="ngl", **args) == "31"
    with pytest.raises(UnknownNameError):
        local.offload(language="en", show="speed", **args)


def test_placements_table_has_a_row_per_model_and_gpu() -> None:
    selection = Selection.from_options(
        {"models": ("llama-3.1-8b",), "gpus": ("rtx-4090", "rtx-4070"), "seqs": (8192,)}, "GB"
    )
    title, header, rows = local.placements_table(selection, "en")
    assert "8,192" in title and len(rows) == 2 and rows[0][2] == "-ngl 33"
