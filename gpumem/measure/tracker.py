"""A :class:`MemTracker` that also records the peak of each phase of a step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.distributed._tools.mem_tracker import MemTracker, _MemRefType

from .qlora import quant_state_tensors

#: MemTracker's reference types, renamed to the categories written to the records.
CATEGORIES: dict[str, str] = {
    "Parameter": "parameters",
    "Buffer": "buffers",
    "Gradient": "gradients",
    "Optstate": "optimizer_state",
    "Activation": "activations",
    "Temp": "temporaries",
    "Other": "inputs",
}

Breakdown = dict[str, int]


def _breakdown(
    snapshot: dict[torch.device, dict[str, int]], categories: dict[str, str]
) -> Breakdown:
    """Sum a MemTracker snapshot over devices, keyed by ``categories`` plus ``total``."""
    out = dict.fromkeys([*categories.values(), "total"], 0)
    for dev_snap in snapshot.values():
        for key, n_bytes in dev_snap.items():
            out[categories.get(getattr(key, "value", key), "total")] += n_bytes
    return out


class _NoHook:
    """Stands for a hook handle where none was registered."""

    def remove(self) -> None:
        """Nothing to remove."""


_NO_HOOK = _NoHook()


class PhaseTracker(MemTracker):
    """Track live tensor bytes by category, with a peak per named phase.

    Also counts, per phase, the bytes of dtype copies made of parameters (the low-precision
    weights that autocast creates).

    Parameters
    ----------
    kv_cache_bytes
        Optional callable giving the bytes currently held by the KV cache; when given, each
        recorded peak moves those bytes from ``activations`` to a ``kv_cache`` category.
    **tracker
        Arguments of the tracker class that follows this one in a subclass's bases.
    """

    #: The tracker's reference types, renamed to the categories written to the records.
    categories = CATEGORIES

    def __init__(self, kv_cache_bytes: Callable[[], int] | None = None, **tracker: object) -> None:
        super().__init__(**tracker)
        self._kv_cache_bytes = kv_cache_bytes
        self._phase: str | None = None
        self.phase_start: dict[str, Breakdown] = {}
        self.phase_peak: dict[str, Breakdown] = {}
        self.phase_end: dict[str, Breakdown] = {}
        self.peak: Breakdown = {}
        self.parameter_copy_bytes: dict[str, int] = {}

    def _track_module_params_and_buffers(
        self, module: torch.nn.Module, install_grad_hooks: bool = True
    ) -> tuple[int, int]:
        """MemTracker's, except that frozen parameters (a LoRA base) get no gradient hooks,
        which PyTorch refuses on tensors that do not require a gradient, and that the tensors
        a quantized parameter keeps beside its data (bitsandbytes' ``quant_state``) count as
        parameters."""
        for param in module.parameters():
            if not param.requires_grad:
                self._param_to_grad_hook_handles.setdefault(param, (_NO_HOOK, _NO_HOOK))
            for tensor in quant_state_tensors(param):
                self._update_and_maybe_create_winfos(tensor, _MemRefType.PARAM)
        return super()._track_module_params_and_buffers(module, install_grad_hooks)

    def current(self) -> Breakdown:
        """Live bytes now, by category."""
        return self._with_kv(_breakdown(self.get_tracker_snapshot("current"), self.categories))

    def _with_kv(self, breakdown: Breakdown) -> Breakdown:
        if self._kv_cache_bytes is not None:
            kv = self._kv_cache_bytes()
            breakdown["activations"] -= kv
            breakdown["kv_cache"] = kv
        return breakdown

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Attribute the peak reached inside the block to phase ``name``."""
        self._phase = name
        self.parameter_copy_bytes[name] = 0
        self.phase_start[name] = self.current()
        self.phase_peak[name] = dict(self.phase_start[name])
        self._note_peak(self.phase_start[name]["total"])
        try:
            yield
        finally:
            self._phase = None
            self.phase_end[name] = self.current()

    def _note_peak(self, total: int) -> None:
        if self._phase is not None and total > self.phase_peak[self._phase]["total"]:
            self.phase_peak[self._phase] = self.current()
        if total > self.peak.get("total", -1):
            self.peak = self.current()

    def _update_peak_stats(self, peak_state: Any) -> None:
        # Replaces MemTracker's per-module peak bookkeeping (a scan of every module after
        # every operator, most of the run time); module snapshots before and after forward
        # are still taken by MemTracker's hooks.
        self._note_peak(sum(snap["Total"] for snap in self._curr_mem_snap.values()))

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        res = super().__torch_dispatch__(func, types, args, kwargs)
        if (
            self._phase is not None
            and func is torch.ops.aten._to_copy.default
            and isinstance(args[0], torch.nn.Parameter)
        ):
            self.parameter_copy_bytes[self._phase] += res.untyped_storage().nbytes()
        return res
