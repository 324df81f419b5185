"""FSDP2 measured on a fake process group equals rank 0 of a real two-process gloo run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import test_measure  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch.distributed.device_mesh import init_device_mesh  # noqa: E402

from gpumem.measure.build import build_model  # noqa: E402
from gpumem.measure.fsdp import measure_fsdp, measure_sharded  # noqa: E402
from gpumem.measure.scenarios import Scenario, fsdp2_fitted_grid  # noqa: E402

#: test_measure's tiny Llama with its embedding tied to the LM head, as in the catalog's.
TINY = {**test_measure.TINY["llama"], "tie_word_embeddings": True}
WORLD = 2


def _real_rank(rank: int, sc: Scenario, store: str, out: str) -> None:
    """Rank ``rank`` of a real gloo run; rank 0 writes its record to ``out``."""
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD)
    try:
        mesh = init_device_mesh("cpu", (WORLD,))
        torch.manual_seed(0)
        record = measure_fsdp(build_model(TINY, sc.dtype), sc, mesh)
        if rank == 0:
            Path(out).write_text(json.dumps(record))
    finally:
        dist.destroy_process_group()


#: ZeRO-2 semantics under the mixed-precision policy; ZeRO-3 in pure BF16 with checkpointing.
CASES = [
    sc
    for sc in fsdp2_fitted_grid(True, 64)
    if (sc.reshard_after_forward, sc.param_dtype, sc.grad_checkpointing)
    in ((False, "bf16", False), (True, None, True))
]


@pytest.mark.parametrize("sc", CASES, ids=lambda s: s.label())
def test_fake_process_group_matches_gloo(sc: Scenario, tmp_path: Path) -> None:
    sc = Scenario(**{**sc.as_dict(), "batch": 2})
    out = tmp_path / "rank0.json"
    mp.spawn(_real_rank, args=(sc, str(tmp_path / "store"), str(out)), nprocs=WORLD)
    real = json.loads(out.read_text())
    fake = measure_sharded(TINY, sc)
    assert fake["peak_bytes"] == real["peak_bytes"]
    for phase, figures in real["phases"].items():
        assert fake["phases"][phase]["peak_bytes"] == figures["peak_bytes"], phase
