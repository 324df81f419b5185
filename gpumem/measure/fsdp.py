"""FSDP2 training measured per rank: ``FSDPMemTracker`` on a fake process group.

Each transformer block is a ``fully_shard`` unit with the scenario's
``reshard_after_forward`` (False for ZeRO-2 semantics, True for ZeRO-3); the root module
(embeddings, final norm, LM head) is sharded last with FSDP's default, under which the root
keeps its parameters unsharded from forward to backward. Mixed precision is FSDP's
``MixedPrecisionPolicy``: FP32 sharded parameters, BF16 gathered copies, FP32 reduction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed._tools.fsdp2_mem_tracker import FSDPMemTracker
from torch.distributed.device_mesh import DeviceMesh, init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

from .build import DTYPES, attention_dropout_overrides, build_model, fake_mode
from .run import _input_ids, _layers, _optimizer, _record
from .scenarios import Scenario
from .tracker import PhaseTracker

#: FSDPMemTracker's reference types, renamed to the categories written to the records.
FSDP_CATEGORIES: dict[str, str] = {
    "Sharded Param": "sharded_parameters",
    "Unsharded Param": "unsharded_parameters",
    "Buffer": "buffers",
    "Sharded Grad": "sharded_gradients",
    "Unsharded Grad": "unsharded_gradients",
    "Activation": "activations",
    "Temp": "temporaries",
    "All Gather": "all_gather",
    "Reduce Scatter": "reduce_scatter",
    "OptState": "optimizer_state",
    "Inputs": "inputs",
}


class FSDPPhaseTracker(PhaseTracker, FSDPMemTracker):
    """:class:`~gpumem.measure.tracker.PhaseTracker`'s peaks per phase, with
    ``FSDPMemTracker``'s categories (sharded and unsharded parameters and gradients,
    all-gather and reduce-scatter buffers)."""

    categories = FSDP_CATEGORIES


@contextmanager
def fake_process_group(world: int) -> Iterator[DeviceMesh]:
    """A CPU mesh of ``world`` ranks, this process rank 0, whose collectives do nothing
    (``torch.testing._internal.distributed.fake_pg``); made outside fake tensor mode."""
    from torch.testing._internal.distributed.fake_pg import FakeStore

    dist.init_process_group("fake", rank=0, world_size=world, store=FakeStore())
    try:
        yield init_device_mesh("cpu", (world,))
    finally:
        dist.destroy_process_group()


def shard(model: torch.nn.Module, sc: Scenario, mesh: DeviceMesh) -> torch.nn.Module:
    """Apply ``fully_shard`` over ``mesh`` to each block, then to the root, as ``sc`` says."""
    policy = MixedPrecisionPolicy(
        param_dtype=DTYPES[sc.param_dtype] if sc.param_dtype else None,
        reduce_dtype=torch.float32 if sc.param_dtype else None,
    )
    for layer in _layers(model):
        fully_shard(
            layer, mesh=mesh, reshard_after_forward=sc.reshard_after_forward, mp_policy=policy
        )
    fully_shard(model, mesh=mesh, mp_policy=policy)
    return model


def measure_fsdp(model: torch.nn.Module, sc: Scenario, mesh: DeviceMesh) -> dict[str, Any]:
    """One FSDP2 training step on rank 0 in steady state (the second step), per phase.

    ``model`` holds the scenario's weights (FP32 under a mixed-precision policy); it is
    sharded here over ``mesh`` (see :func:`fake_process_group`).
    """
    model.train()
    if sc.grad_checkpointing:
        model.activation_checkpointing_enable()
    model = shard(model, sc, mesh)
    ids = _input_ids(model, sc.batch, sc.seq)
    opt = _optimizer(model, sc.optimizer or "foreach")

    def step(phase: Callable[[str], AbstractContextManager[None]]) -> None:
        with phase("forward"):
            loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        with phase("backward"):
            loss.backward()
            del loss
        with phase("optimizer"):
            opt.step()
            opt.zero_grad(set_to_none=True)

    step(lambda name: nullcontext())
    tracker = FSDPPhaseTracker(mod=model, optm=opt)
    with tracker:
        step(tracker.phase)
    return _record(tracker, {}, world=mesh.size())


def measure_sharded(config: dict[str, Any], sc: Scenario) -> dict[str, Any]:
    """Measure FSDP2 scenario ``sc`` on a freshly built model of ``config`` (fake tensors on
    the CPU) in a fake process group of the scenario's world size."""
    overrides = attention_dropout_overrides(config)
    with fake_process_group(sc.world) as mesh, fake_mode(True):
        model = build_model(config, sc.dtype, overrides)
        record = {"config_overrides": overrides} if overrides else {}
        return record | measure_fsdp(model, sc, mesh)
