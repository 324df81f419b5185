"""Plan full fine-tuning: memory per GPU with ZeRO stages, and how many GPUs it takes."""

from gpumem import Workload, estimate
from gpumem.solve import gpus_needed

MODEL = "llama-3.1-8b"
base = Workload(mode="training", dtype="bf16", batch=4, seq=4096, checkpointing="full")

print(f"{MODEL}: AdamW, mixed precision, batch 4 x 4,096 tokens per GPU, 8 GPUs")
for zero in (0, 1, 2, 3):
    e = estimate(MODEL, base.with_(dp=8, zero=zero))
    print(f"  ZeRO-{zero}: {e.total_bytes / 2**30:7.1f} GiB per GPU (peak during {e.phase})")

for gpu in ("a100-40gb", "a100-80gb", "h100-sxm"):
    plan = gpus_needed(MODEL, gpu, base)
    if plan is None:
        print(f"  {gpu}: does not fit on up to 4,096 GPUs")
    else:
        w = plan.estimate.workload
        print(f"  {gpu}: {w.dp} GPU(s), ZeRO-{w.zero}, {plan.headroom:.0%} headroom")
