"""The ``gpumem-sources`` directive: where every fact in the package's data files comes from.

``gpumem-sources models`` (or ``gpus``, ``links``, ``formats``, ``optimizers``, ``activations``,
``measurements``, ``cuda-measurements``) renders one table read from ``gpumem/data`` at build
time, so a new row in a data file shows up with its source without anyone editing the page.
Web addresses in the source texts become links. Headers are the extension's labels, in the
page's language; cells are ``translatable=False`` and stay out of the documents' catalogs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import partial

from docutils import nodes
from sphinx.application import Sphinx

from .. import _data, vocabulary
from ..catalog import catalog_entry, model_names
from ..errors import UnknownNameError
from ..hardware import GPU, get_gpu, get_link, gpu_names, link_names
from ..validation import SOURCES
from ..vocabulary import label
from .datatext import translated
from .directive import Cell, GpumemDirective, table_node
from .formatting import format_int, join_names
from .translation import gettext as _

URL = re.compile(r"https?://[^\s,;]+|arXiv:(\d{4}\.\d{4,5})")
Table = tuple[str, list[str], list[list[Cell]]]


def linked(text: str) -> list[nodes.Node]:
    """``text`` as text and links: web addresses and arXiv numbers become references."""
    result: list[nodes.Node] = []
    position = 0
    for match in URL.finditer(text):
        shown = match.group()
        while shown[-1] in ".'\")" and shown.count("(") < shown.count(")") + (shown[-1] != ")"):
            shown = shown[:-1]  # punctuation after the address, not part of it
        url = f"https://arxiv.org/abs/{match.group(1)}" if match.group(1) else shown
        start, end = match.start(), match.start() + len(shown)
        if start > position:
            result.append(nodes.Text(text[position:start]))
        result.append(nodes.reference(shown, shown, refuri=url))
        position = end
    if position < len(text):
        result.append(nodes.Text(text[position:]))
    return result


def models_table(language: str) -> Table:
    """Catalog models: the config they are read from and the published parameter count."""
    rows: list[list[Cell]] = []
    for name in model_names():
        entry = catalog_entry(name)
        count = f"{entry['published_parameters']:,}"
        rows.append(
            [
                f"{entry['name']} ({name})",
                entry["source"],
                [count, entry["published_parameters_source"]],
            ]
        )
    header = [_("Model"), _("Configuration"), _("Published parameter count")]
    return _("Models"), header, rows


def gpus_table(language: str) -> Table:
    """GPUs: the vendor's page or datasheet, what the memory figure is, and notes."""
    rows: list[list[Cell]] = []
    for name in gpu_names():
        gpu = get_gpu(name)
        basis = label(vocabulary.MEMORY_BASES, gpu.memory_basis, _)
        memory = _("{basis}: {evidence}").format(
            basis=basis, evidence=translated(gpu.memory_evidence)
        )
        notes = [memory, gpu.memory_source, *([translated(gpu.note)] if gpu.note else [])]
        notes += _device_facts(gpu)
        rows.append([f"{gpu.name} ({name})", gpu.source, notes])
    return _("GPUs"), [_("GPU"), _("Source"), _("Memory and notes")], rows


def _device_facts(gpu: GPU) -> list[str]:
    """An NVIDIA GPU's streaming multiprocessors and compute capability (what ``gpumem
    serve`` reads for vLLM's sampler), and where each was read."""
    if gpu.compute_capability is None:
        return []
    if gpu.multiprocessors is None:
        fact = _("compute capability {capability}; streaming multiprocessors not on record")
    else:
        fact = _("{count} streaming multiprocessors, compute capability {capability}")
    sources = [gpu.multiprocessors_source, gpu.compute_capability_source]
    return [
        fact.format(count=gpu.multiprocessors, capability=gpu.compute_capability),
        *dict.fromkeys(source for source in sources if source),
    ]


def links_table(language: str) -> Table:
    """Links: PCI Express and NVLink generations, the figure their source prints and where."""
    rows: list[list[Cell]] = []
    for name in link_names():
        link = get_link(name)
        rows.append([f"{link.name} ({name})", [translated(link.evidence), link.source]])
    return _("Links"), [_("Link"), _("Figure and source")], rows


def formats_table(language: str) -> Table:
    """Number formats: the specification or paper behind each size."""
    raw = _data.load_json(_data.path("precisions.json"))
    rows: list[list[Cell]] = [
        [f"{row['label']} ({row['id']})", row["source"]]
        for row in raw["formats"]  # type: ignore[index]
    ]
    reference = raw.get("gguf_reference")  # type: ignore[union-attr]
    if reference:
        rows.append([_("GGUF reference model"), f"{reference['model']}: {reference['source']}"])
    return _("Number formats"), [_("Format"), _("Source")], rows


def optimizers_table(language: str) -> Table:
    """Optimizers: the paper and the implementation behind the state per parameter."""
    raw = _data.load_json(_data.path("optimizers.json"))
    rows: list[list[Cell]] = [
        [f"{row['label']} ({row['id']})", row["source"]]
        for row in raw["optimizers"]  # type: ignore[index]
    ]
    return _("Optimizers"), [_("Optimizer"), _("Source")], rows


def activations_table(language: str) -> Table:
    """Activation profiles: the model code that was read, tensor by tensor."""
    raw = _data.load_json(_data.path("activation_profiles.json"))
    rows: list[list[Cell]] = [
        [row["id"], join_names(row["families"], language), [row["source"], row["derivation"]]]
        for row in raw["profiles"]  # type: ignore[index]
    ]
    header = [_("Profile"), _("Model families"), _("Source and derivation")]
    return _("Activation profiles"), header, rows


def provenance_label(key: str) -> str:
    """Name of a field of the measurements' provenance: ``"attn_implementation"`` →
    ``"Attention implementation"`` / ``"注意力实现"``."""
    return {
        "torch": "PyTorch",
        "transformers": "Transformers",
        "attn_implementation": _("Attention implementation"),
        "date": _("Date"),
        "conventions": _("Conventions"),
        "method": _("Method"),
        "cuda": "CUDA",
        "driver": _("Driver"),
        "device_name": _("GPU"),
        "compute_capability": _("Compute capability"),
        "nvidia_smi_total_mib": _("Total memory by nvidia-smi (MiB)"),
        "mem_get_info_total_bytes": _("Total memory by cudaMemGetInfo (bytes)"),
        "context_bytes_after_init": _("Outside the allocator after CUDA starts (bytes)"),
        "cublas_workspace_bytes": _("cuBLAS workspace (bytes)"),
        "non_allocator_bytes_after_first_matmuls": _(
            "Outside the allocator after the first matrix products (bytes)"
        ),
    }.get(key, key)


def _provenance_value(value: object, language: str) -> Cell:
    """A provenance field's value: texts in the page's language, whole numbers its way."""
    if isinstance(value, int):
        return format_int(value, language)
    if isinstance(value, list):
        return [translated(str(text)) for text in value]
    return translated(str(value))


def measurements_table(language: str, source: str = "cpu") -> Table:
    """Measurements: how the records in the file of ``source`` (:data:`SOURCES`) were
    obtained."""
    path = _data.path(SOURCES[source])
    rows: list[list[Cell]] = []
    if os.path.exists(path):
        raw = _data.load_json(path)
        records = raw.get("records", [])  # type: ignore[union-attr]
        models = sorted({str(r.get("model")) for r in records if r.get("model")})
        rows.append([_("Records"), format_int(len(records), language)])
        if models:
            rows.append([_("Models"), join_names(models, language)])
        for key, value in raw.get("provenance", {}).items():  # type: ignore[union-attr]
            rows.append([provenance_label(key), _provenance_value(value, language)])
    else:
        rows.append([_("Records"), "0"])
    title = _("Measurements on a GPU") if source == "cuda" else _("Measurements")
    return title, [_("Field"), _("Value")], rows


TABLES: dict[str, Callable[[str], Table]] = {
    "models": models_table,
    "gpus": gpus_table,
    "links": links_table,
    "formats": formats_table,
    "optimizers": optimizers_table,
    "activations": activations_table,
    "measurements": measurements_table,
    "cuda-measurements": partial(measurements_table, source="cuda"),
}


class SourcesDirective(GpumemDirective):
    """``gpumem-sources <kind>``: one of ``models``, ``gpus``, ``links``, ``formats``,
    ``optimizers``, ``activations``, ``measurements`` or ``cuda-measurements``."""

    required_arguments = 1

    def render(self) -> list[nodes.Node]:
        kind = self.arguments[0]
        if kind not in TABLES:
            raise UnknownNameError("source table", kind, TABLES)
        title, header, rows = TABLES[kind](self.config.language or "en")
        return [table_node(title, header, rows, "gpumem-sources", linked)]


def setup_sources(app: Sphinx) -> None:
    """Register ``gpumem-sources``."""
    app.add_directive("gpumem-sources", SourcesDirective)
