"""The longest context that fits on one GPU, for several KV-cache formats."""

from gpumem.solve import max_context

MODEL, GPU = "llama-3.1-8b", "rtx-4090"

for weights, kv in [("bf16", "bf16"), ("q4_k_m", "bf16"), ("q4_k_m", "fp8_e4m3")]:
    tokens = max_context(MODEL, GPU, dtype=weights, kv_dtype=kv)
    answer = f"{tokens:,} tokens" if tokens else "does not fit"
    print(f"{MODEL} on {GPU}: weights {weights:<7} KV cache {kv:<9} -> {answer}")
