"""Plan full fine-tuning: memory per GPU with ZeRO stages, and how many GPUs it takes."""

from gpumem import Workload, estimate
from gpumem.solve import gpus_needed

MODEL = "llama-3.1-8b"
base = Workload(mode="training", dtype="bf16", batch=4, seq=4096, checkpointing="full")

print(f"{MODEL}: AdamW, mixed precision, batch 4 x 4,096 tokens per GPU, 8 GPUs")
print("  GiB per GPU, tensors at each phase and the peak with runtime overhead:")
print(f"  {'':8}{'forward':>9}{'backward':>10}{'optimizer':>11}{'peak':>8}")
for zero in (0, 1, 2, 3):
    e = estimate(MODEL, base.with_(dp=8, zero=zero))
    forward, backward, step = (e.phases[p] / 2**30 for p in ("forward", "backward", "optimizer"))
    peak = e.total_bytes / 2**30
    print(f"  ZeRO-{zero}  {forward:9.1f}{backward:10.1f}{step:11.1f}{peak:8.1f}  during {e.phase}")
print(
    "  ZeRO-1 and ZeRO-2 peak alike: the peak comes as the backward pass starts, when the\n"
    "  logits and their gradient are live and no weight gradient is yet, so sharding the\n"
    "  gradients (ZeRO-2) lowers only the optimizer step."
)

for gpu in ("a100-40gb", "a100-80gb", "h100-sxm"):
    plan = gpus_needed(MODEL, gpu, base)
    if plan is None:
        print(f"  {gpu}: does not fit on up to 4,096 GPUs")
    else:
        w = plan.estimate.workload
        print(f"  {gpu}: {w.dp} GPU(s), ZeRO-{w.zero}, {plan.headroom:.0%} headroom")
