"""Estimate the memory of a model from its Hugging Face config.json.

Usage: python examples/estimate_from_config.py [path/to/config.json]
"""

import sys
from pathlib import Path

import gpumem
from gpumem.units import format_bytes

config = (
    sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "Qwen2.5-0.5B" / "config.json"
)

for mode in ("inference", "training"):
    e = gpumem.estimate(str(config), mode=mode, dtype="bf16", batch=8, seq=4096)
    print(f"{e.model.name}: {mode}, batch 8 x 4,096 tokens, peak during {e.phase}")
    for name, n_bytes in e.components.items():
        print(f"  {name:<22} {format_bytes(n_bytes, 'GiB'):>11}")
    print(f"  {'total':<22} {format_bytes(e.total_bytes, 'GiB'):>11}")
