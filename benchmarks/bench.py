"""Benchmarks: the CLI's cold start, a 100,000-configuration sweep, and accuracy.

Run with ``nox -s bench``. Figures are printed, never asserted: targets are
``gpumem estimate`` <= 0.05 s cold and the sweep <= 1 s.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _wall(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def bench_cli(runs: int = 30) -> None:
    """Wall time of ``gpumem estimate`` in a fresh process, against bare Python."""
    exe = shutil.which("gpumem", path=str(Path(sys.executable).parent)) or "gpumem"
    python = _wall([sys.executable, "-c", "pass"], runs)
    cli = _wall([exe, "estimate", "llama-3.1-8b", "--mode", "training", "--batch", "4"], runs)
    cli_json = _wall([exe, "estimate", "llama-3.1-8b", "--json"], runs)
    print(f"python -c pass              median {statistics.median(python):.3f} s")
    print(
        f"gpumem estimate (table)     median {statistics.median(cli):.3f} s"
        f"  min {min(cli):.3f} s  max {max(cli):.3f} s  (target <= 0.050 s)"
    )
    print(f"gpumem estimate --json      median {statistics.median(cli_json):.3f} s")


def bench_sweep() -> None:
    """100,000 configurations: 10 models x 2 modes x 5,000 (batch, seq) pairs."""
    from gpumem.catalog import load_model
    from gpumem.sweep import peak_bytes
    from gpumem.workload import Workload

    names = [
        "gpt2",
        "llama-3.2-1b",
        "llama-2-7b",
        "llama-3.1-8b",
        "mistral-7b-v0.1",
        "qwen2.5-7b",
        "gemma-2-9b",
        "mixtral-8x7b",
        "llama-3.1-70b",
        "deepseek-v3",
    ]
    start = time.perf_counter()
    count = 0
    for name in names:
        model = load_model(name)
        seq_max = min(model.max_context, 8192)
        batch = np.repeat(np.arange(1, 51), 100)
        seq = np.tile(np.linspace(1, seq_max, 100).astype(int), 50)
        for workload in (Workload(seq=seq_max), Workload(mode="training", seq=seq_max)):
            count += peak_bytes(model, workload, batch, seq).size
    elapsed = time.perf_counter() - start
    print(
        f"sweep of {count:,} configurations: {elapsed:.3f} s (target <= 1 s), "
        f"{elapsed / count * 1e6:.2f} us per configuration"
    )


def bench_accuracy() -> None:
    """gpumem and the rules of thumb against the measured peaks (GiB = 2**30 bytes), per
    family of scenario, on the split the coefficients were fitted on and on the held-out one."""
    from gpumem.estimate import rule_of_thumb_multiplier
    from gpumem.validation import FITTED, KNOWN_MISSES, by_family, comparisons, summary

    rows = comparisons()
    print(
        f"{'model':<18} {'scenario':<52} {'split':<8} {'measured':>9} {'gpumem':>9} "
        f"{'error':>7} {'rule':>9} {'error':>7}"
    )
    for r in rows:
        rule = "" if r.rule_bytes is None else f"{r.rule_bytes / 2**30:9.2f} {r.rule_error:+7.1%}"
        print(
            f"{r.model:<18} {r.scenario:<52} {r.split:<8} {r.measured_bytes / 2**30:9.2f} "
            f"{r.estimate_bytes / 2**30:9.2f} {r.error:+7.1%} {rule}"
        )
    print(
        f"\n{'family':<10} {'split':<9} {'count':>5} {'median':>7} {'worst':>7} "
        f"{'worst, known misses aside':>26}"
    )
    for (family, split), group in by_family(rows).items():
        s = summary(group)
        aside = summary([r for r in group if not r.known_miss])["worst"]
        print(
            f"{family:<10} {split:<9} {len(group):>5} {s['median']:7.2%} {s['worst']:7.2%} "
            f"{aside:26.2%}"
        )
    print(f"{'FSDP2':<10} {'—':<9} {0:>5} (not measured)")
    held = summary(comparisons("held_out"))
    inference, training = map(rule_of_thumb_multiplier, ("inference", "training"))
    print(
        f"\nheld out: median |error| {held['median']:.2%}, worst {held['worst']:.2%} "
        f"(targets 1 % / 5 %). Rules of thumb (x{inference:g} inference, x{training:g} "
        f"training): median {held['rule_median']:.1%}, worst {held['rule_worst']:.1%}."
    )
    for (model, label), why in KNOWN_MISSES.items():
        print(f"known miss: {model} {label}: {why}")
    print(f"fitted, not counted ({len(FITTED)} activation-profile coefficients):")
    for (profile, where), what in FITTED.items():
        print(f"  {profile}.{where}: {what}")


def main() -> None:
    """Run every benchmark and print its figures."""
    print("== CLI start-up ==")
    bench_cli()
    print("\n== Sweep ==")
    bench_sweep()
    print("\n== Accuracy against measured PyTorch peaks ==")
    bench_accuracy()


if __name__ == "__main__":
    main()
