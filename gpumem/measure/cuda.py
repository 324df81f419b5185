"""CUDA allocator statistics for real-tensor runs on a GPU."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import torch


def context_bytes() -> int:
    """Device memory in use right after CUDA initialisation, before any tensor exists.

    This is the CUDA context of this process (plus whatever other processes hold on the
    device). Call it before anything else touches CUDA.
    """
    torch.cuda.init()
    free, total = torch.cuda.mem_get_info()
    return total - free - torch.cuda.memory_reserved()


def non_allocator_bytes() -> int:
    """Device memory in use outside PyTorch's caching allocator (context, library handles)."""
    free, total = torch.cuda.mem_get_info()
    return total - free - torch.cuda.memory_reserved()


@contextmanager
def allocator_peaks(device: torch.device) -> Iterator[dict[str, int]]:
    """Yield a dict filled, on exit, with the allocator's peaks over the block.

    Unreachable objects are collected and the allocator's cache emptied first, so that the
    block starts with no memory of earlier scenarios (tensors held by reference cycles until
    Python collects them) and its reserved peak is its own. Empty when ``device`` is not a
    CUDA device.
    """
    stats: dict[str, int] = {}
    if device.type != "cuda":
        yield stats
        return
    torch.cuda.synchronize(device)
    gc.collect()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    start = torch.cuda.memory_allocated(device)
    reserved = torch.cuda.memory_reserved(device)
    yield stats
    torch.cuda.synchronize(device)
    stats.update(
        memory_allocated_at_start=start,
        memory_reserved_at_start=reserved,
        max_memory_allocated=torch.cuda.max_memory_allocated(device),
        max_memory_reserved=torch.cuda.max_memory_reserved(device),
        non_allocator_bytes=non_allocator_bytes(),
    )
