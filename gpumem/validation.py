"""Estimates held to the memory PyTorch actually allocates (``data/measurements.json``).

Each measured scenario is mapped onto the :class:`~gpumem.workload.Workload` that describes
it, with the runtime overhead set to zero (the measurements count live tensors only), and the
estimate's tensor bytes are compared with the measured peak. The same comparison is made for
the rules of thumb.
"""

from __future__ import annotations

import statistics

from ._data import load_json, path
from ._record import Record
from .estimate import estimate, rule_of_thumb
from .workload import Workload

_BARE = {"cuda_context": 0, "allocator_reserve": 0.0}


class Comparison(Record):
    """One measured scenario next to gpumem's estimate and the rule of thumb."""

    model: str
    scenario: str
    kind: str  # "weights", "prefill", "generate" or "train"
    measured_bytes: int
    estimate_bytes: int
    rule_bytes: int | None

    @property
    def error(self) -> float:
        """Relative error of the estimate: (estimate - measured) / measured."""
        return (self.estimate_bytes - self.measured_bytes) / self.measured_bytes

    @property
    def rule_error(self) -> float | None:
        """Relative error of the rule of thumb, where one applies."""
        if self.rule_bytes is None:
            return None
        return (self.rule_bytes - self.measured_bytes) / self.measured_bytes


def measurements() -> dict:
    """The committed measurements: ``{"provenance": {...}, "records": [...]}``."""
    return load_json(path("measurements.json"))


def workload(scenario: dict) -> Workload:
    """The workload a measured scenario ran (runtime overhead excluded)."""
    kind = scenario["mode"]
    if kind in ("weights", "prefill", "generate"):
        seq = scenario["seq"] + scenario["new_tokens"] if kind != "weights" else 1
        return Workload(
            dtype=scenario["dtype"],
            batch=max(scenario["batch"], 1),
            seq=seq,
            logits=scenario["logits"],
            **_BARE,
        )
    amp = scenario["amp"]
    return Workload(
        mode="training",
        dtype=amp or scenario["dtype"],
        precision="amp" if amp else "pure",
        batch=scenario["batch"],
        seq=scenario["seq"],
        checkpointing="full" if scenario["grad_checkpointing"] else "none",
        optimizer="adamw",
        optimizer_impl=scenario["optimizer"],
        **_BARE,
    )


def _label(scenario: dict) -> str:
    parts = [scenario["mode"], scenario["dtype"]]
    if scenario["amp"]:
        parts.append(f"amp-{scenario['amp']}")
    if scenario["batch"]:
        parts.append(f"{scenario['batch']}x{scenario['seq']}")
    if scenario["logits"]:
        parts.append(f"logits={scenario['logits']}")
    if scenario["grad_checkpointing"]:
        parts.append("checkpointing")
    if scenario["optimizer"]:
        parts.append(scenario["optimizer"])
    return " ".join(parts)


def compare(record: dict) -> Comparison:
    """gpumem's estimate and the rule of thumb for one measured record."""
    scenario = record["scenario"]
    kind = scenario["mode"]
    result = estimate(record["model"], workload(scenario))
    if kind == "weights":
        predicted = result.components["weights"]
        rule = None
    else:
        predicted = result.tensor_bytes
        mode = "training" if kind == "train" else "inference"
        # the rule multiplies the stored weights: FP32 under autocast, whatever it computes in
        rule = rule_of_thumb(result.model.parameters, scenario["dtype"], mode)
    return Comparison(
        record["model"], _label(scenario), kind, record["peak_bytes"], predicted, rule
    )


def comparisons() -> list[Comparison]:
    """Every measured record that completed, compared."""
    return [compare(r) for r in measurements()["records"] if r.get("peak_bytes")]


def summary(rows: list[Comparison]) -> dict[str, float | None]:
    """Median, worst and best absolute relative error of gpumem (``median``, ``worst``,
    ``best``) and of the rule of thumb (``rule_median`` …); ``None`` where no row has one."""
    errors = [abs(r.error) for r in rows]
    rules = [abs(r.rule_error) for r in rows if r.rule_error is not None]
    figures: dict[str, float | None] = {}
    for prefix, values in (("", errors), ("rule_", rules)):
        figures[prefix + "median"] = statistics.median(values) if values else None
        figures[prefix + "worst"] = max(values) if values else None
        figures[prefix + "best"] = min(values) if values else None
    return figures
