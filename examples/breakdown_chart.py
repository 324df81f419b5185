"""Draw where the memory goes, for inference and training, as a stacked bar chart (SVG).

Needs matplotlib: ``pip install '.[plot]'`` (or ``pip install 'gpumem[plot]'``).
"""

import sys

try:
    import matplotlib
except ImportError:
    sys.exit("This example draws with matplotlib: pip install '.[plot]'")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import gpumem  # noqa: E402

MODEL = "llama-3.1-8b"
out = sys.argv[1] if len(sys.argv) > 1 else "breakdown.svg"

runs = {
    "inference": gpumem.estimate(MODEL, seq=8192),
    "training": gpumem.estimate(MODEL, mode="training", seq=4096, checkpointing="full"),
}
fig, ax = plt.subplots(figsize=(7, 4))
colors: dict[str, str] = {}
for i, e in enumerate(runs.values()):
    bottom = 0.0
    for name, n_bytes in e.components.items():
        new = name not in colors
        colors.setdefault(name, f"C{len(colors)}")
        height = n_bytes / 2**30
        ax.bar(i, height, bottom=bottom, color=colors[name], label=name if new else None)
        bottom += height
ax.set_xticks(range(len(runs)), list(runs))
ax.set_ylabel("GiB per GPU")
ax.set_title(MODEL)
ax.legend(fontsize=8)
fig.savefig(out, metadata={"Date": None})
print(f"wrote {out}: " + ", ".join(f"{k} {e.total_bytes / 2**30:.1f} GiB" for k, e in runs.items()))
