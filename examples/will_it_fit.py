"""Which GPUs can run a model, at which precision?"""

from gpumem.hardware import get_gpu
from gpumem.solve import fit

MODEL = "llama-3.1-8b"
GPUS = ["rtx-3060-12gb", "rtx-4090", "l40s", "a100-80gb", "h100-sxm"]
DTYPES = ["bf16", "fp8_e4m3", "q4_k_m"]

print(f"{MODEL}, 8,192-token context, one GPU")
print(f"{'GPU':<22}" + "".join(f"{d:>12}" for d in DTYPES))
for gpu in GPUS:
    cells = []
    for dtype in DTYPES:
        result = fit(MODEL, gpu, dtype=dtype, seq=8192)
        cells.append("fits" if result.fits else f"-{-result.headroom_bytes / 2**30:.1f} GiB")
    print(f"{get_gpu(gpu).name:<22}" + "".join(f"{c:>12}" for c in cells))
