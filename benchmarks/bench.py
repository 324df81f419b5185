"""Benchmarks: every target of the project, each printed with its figure and a pass or miss.

Run with ``nox -s bench`` (``-- --docs`` also times the documentation build). Figures are
reported, never asserted: a miss is printed as ``MISS`` and the script still exits 0. Targets:

- ``gpumem estimate`` <= 0.05 s, ``gpumem offload`` and ``gpumem serve`` <= 0.1 s cold;
- a 100,000-configuration sweep <= 1 s;
- against measurements, per family and split: median |error| <= 1 %, worst <= 5 % (PyTorch
  peaks under fake tensors and, held out, with real tensors on one H200; llama.cpp's compute
  buffer; vLLM's KV-cache tokens and concurrency); llama.cpp's weights and KV cache equal to
  what it reports; what the H200 held beyond the tensors beside the workload's defaults;
- the calculator's scripts and data <= 150 KB (1 KB = 1,000 bytes) compressed with gzip;
- both languages of the site <= 60 s cold, <= 5 s with no change (timed by the nox session).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

MEDIAN, WORST = 0.01, 0.05  # targets on |error| against measurements
ROOT = Path(__file__).resolve().parents[1]


def target(name: str, value: str, goal: str, ok: bool) -> None:
    """One line: what, the figure, the target and ``pass`` or ``MISS``."""
    print(f"{name:<72} {value:>10}   target {goal:<9} {'pass' if ok else 'MISS'}")


def errors_within(name: str, errors: list[float], required: bool = True) -> None:
    """Median and worst of ``errors`` (absolute, relative) against :data:`MEDIAN` and
    :data:`WORST`; an empty set is a miss where ``required``, else only said."""
    if not errors:
        if required:
            target(f"{name}: no records", "—", f"<= {MEDIAN:.0%}", False)
        else:
            print(f"{name}: no records")
        return
    median, worst = statistics.median(errors), max(errors)
    target(
        f"{name}: median |error| ({len(errors)})",
        f"{median:.2%}",
        f"<= {MEDIAN:.0%}",
        median <= MEDIAN,
    )
    target(
        f"{name}: worst |error| ({len(errors)})", f"{worst:.2%}", f"<= {WORST:.0%}", worst <= WORST
    )


def _wall(argv: list[str], runs: int) -> float:
    """Median wall time of ``argv`` in a fresh process over ``runs`` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


#: The commands timed cold, with their target in seconds.
COMMANDS = {
    "estimate": (["estimate", "llama-3.1-8b", "--mode", "training", "--batch", "4"], 0.05),
    "offload": (["offload", "llama-3.1-8b", "--gpu", "rtx-4090", "--ctx", "8192"], 0.1),
    "serve": (["serve", "llama-3.1-8b", "--gpu", "h100-sxm"], 0.1),
}


def bench_cli(runs: int) -> None:
    """Each command's median wall time in a fresh process (interpreter start included): the
    installed ``gpumem`` script, or ``python -m gpumem`` where it is not installed."""
    script = shutil.which("gpumem", path=str(Path(sys.executable).parent))
    exe = [script] if script else [sys.executable, "-m", "gpumem"]  # not installed: the source
    python = _wall([sys.executable, "-c", "pass"], runs)
    print(f"median of {runs} runs; wall time depends on the machine's load")
    print(f"{'python -c pass (for comparison)':<62} {python:>8.3f} s")
    for name, (args, goal) in COMMANDS.items():
        seconds = _wall([*exe, *args], runs)
        target(f"gpumem {name}, cold", f"{seconds:.3f} s", f"<= {goal:g} s", seconds <= goal)


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
    target(f"sweep of {count:,} configurations", f"{elapsed:.3f} s", "<= 1 s", elapsed <= 1)


def _family_errors(name: str, group: list, required: bool) -> None:
    """Errors of one family and split, and the worst with the known misses set aside; the
    CPU records of a behaviour a GPU does not share (validation.CPU_ONLY_BEHAVIOUR) are
    shown apart, not held to the target."""
    gpu = [r for r in group if not r.cpu_only]
    errors_within(name, [abs(r.error) for r in gpu], required=required)
    if any(r.known_miss for r in gpu):
        aside = max((abs(r.error) for r in gpu if not r.known_miss), default=0.0)
        print(f"{'  worst |error|, known misses aside':<62} {aside:>10.2%}")
    if len(gpu) < len(group):
        apart = max(abs(r.error) for r in group if r.cpu_only)
        label = f"  {len(group) - len(gpu)} CPU-only records apart, worst |error|"
        print(f"{label:<62} {apart:>10.2%}")


def bench_accuracy(rows_too: bool) -> None:
    """gpumem against the measured PyTorch peaks (gpumem.validation), per family and split,
    the peaks on one H200 (``source="cuda"``, held out) under the CPU's; ``rows_too`` prints
    every scenario with the rule of thumb beside it."""
    from gpumem.estimate import rule_of_thumb_multiplier
    from gpumem.validation import (
        CUDA_KNOWN_MISSES,
        FAMILY_NAMES,
        FITTED,
        KNOWN_MISSES,
        SPLITS,
        by_family,
        comparisons,
        summary,
    )

    rows, cuda = comparisons(), comparisons("held_out", "cuda")
    if rows_too:
        for r in rows + cuda:
            rule = "" if r.rule_error is None else f"rule {r.rule_error:+7.1%}"
            split = f"{r.split} {r.source}"
            print(f"{r.model:<18} {r.scenario:<52} {split:<13} {r.error:+7.1%} {rule}")
    groups, cuda_groups = by_family(rows), by_family(cuda)
    for family in FAMILY_NAMES:  # one without held-out records is a miss
        for split in SPLITS:
            group = groups.get((family, split), [])
            _family_errors(f"PyTorch {family} {split}", group, required=split == "held_out")
        if (family, "held_out") in cuda_groups:
            _family_errors(
                f"PyTorch {family} held_out, H200", cuda_groups[family, "held_out"], True
            )
    held = summary(comparisons("held_out"))
    print(
        f"rules of thumb (x{rule_of_thumb_multiplier('inference'):g} inference, "
        f"x{rule_of_thumb_multiplier('training'):g} training), held out: "
        f"median |error| {held['rule_median']:.1%}, worst {held['rule_worst']:.1%}"
    )
    for model, label in KNOWN_MISSES:
        print(f"known miss (validation.KNOWN_MISSES): {model} {label}")
    mechanisms = list(CUDA_KNOWN_MISSES.values())
    print(f"{len(mechanisms)} known misses on the H200 (validation.CUDA_KNOWN_MISSES):")
    for mechanism in dict.fromkeys(mechanisms):
        print(f"  {mechanisms.count(mechanism)} x {mechanism}")
    print(f"{len(FITTED)} activation-profile coefficients count as fitted (validation.FITTED)")
    bench_cuda_overheads()


def bench_cuda_overheads() -> None:
    """What the H200 held beyond the tensors (gpumem.validation.cuda_overheads), beside the
    workload's defaults."""
    from gpumem.validation import cuda_overheads

    figures = cuda_overheads()
    mib = {k: v / 2**20 for k, v in figures.items() if not k.startswith(("reserve", "default_r"))}
    print(
        f"H200: device {mib['device_total']:,.0f} MiB (nvidia-smi {mib['nvidia_smi_total']:,.0f}),"
        f" context {mib['context_after_init']:,.0f} MiB after initialisation,"
        f" {mib['context_after_matmuls']:,.0f} after the first matrix products,"
        f" at most {mib['context_max']:,.0f} (default {mib['default_context']:,.0f});"
        f" cuBLAS workspace {mib['cublas_workspace']:,.0f} MiB"
    )
    print(
        f"H200 allocator over {figures['overhead_records']} records: reserved over allocated"
        f" median {figures['reserve_median']:.1%}, worst {figures['reserve_worst']:.1%}"
        f" (default {figures['default_reserve']:.0%}); allocated beyond the tensors median"
        f" {mib['allocator_over_tensors_median']:,.1f} MiB,"
        f" worst {mib['allocator_over_tensors_worst']:,.1f} MiB"
    )


def bench_llamacpp() -> None:
    """gpumem against llama.cpp's own buffers (data/llamacpp_measurements.json), per split."""
    from gpumem.sphinxext.accuracy import llamacpp_checks
    from gpumem.validation import SPLITS

    for split in SPLITS:
        checks = [c for c in llamacpp_checks() if c.split == split]
        n = len(checks)
        weights, kv = sum(c.weights_exact for c in checks), sum(c.kv_exact for c in checks)
        target(
            f"llama.cpp {split}: weights equal to the byte",
            f"{weights}/{n}",
            "all",
            n > 0 and weights == n,
        )
        target(
            f"llama.cpp {split}: KV cache equal to the MiB printed",
            f"{kv}/{n}",
            "all",
            n > 0 and kv == n,
        )
        errors_within(f"llama.cpp {split}: compute buffer", [abs(c.compute_error) for c in checks])


#: vLLM's log formats: the current one prints tokens, older ones "# GPU blocks".
LOG_FORMATS = {
    "tokens log": ("v1-tokens",),
    '"# GPU blocks" log': ("v1-blocks", "v0-blocks"),
}
SERVING_TARGET = 0.03  # issue's "within 3 %" per launch
#: The rows of gpumem/data/serving.json, the current generation first.
ENGINES = ("vllm", "vllm-0.17", "vllm-0.13", "vllm-0.8")


def bench_serving() -> None:
    """``gpumem serve`` against published vLLM startup logs (gpumem.serve.check_logs): KV-cache
    tokens and maximum concurrency, per log format, per generation of vLLM (the engine row that
    predicts a launch; the issue's target is the current one, ``vllm``) and split."""
    from gpumem.serve import check_logs

    for label, generations in LOG_FORMATS.items():
        checks = check_logs(generations)
        for engine in ENGINES:
            for split in ("fit", "held-out"):
                chosen = [c for c in checks if c.split == split and c.engine == engine]
                if chosen:
                    _serving_errors(f"vLLM {label}, {engine} {split}", chosen)


def _serving_errors(name: str, chosen: list) -> None:
    """Token and concurrency errors of ``chosen`` launches, and how many meet the target."""
    tokens = [abs(c.token_error) for c in chosen]
    errors_within(f"{name}: KV tokens", tokens)
    within = sum(e <= SERVING_TARGET for e in tokens)
    target(f"{name}: KV tokens within 3 %", f"{within}/{len(tokens)}", "all", within == len(tokens))
    concurrency = [abs(e) for c in chosen if (e := c.concurrency_error) is not None]
    if concurrency:
        errors_within(f"{name}: concurrency", concurrency)


CALCULATOR_BUDGET = 150_000  # bytes, gzip-compressed


def bench_calculator() -> None:
    """The calculator's scripts and data as the docs build writes them (English), each file
    compressed with gzip as a server sends it."""
    from gpumem.sphinxext.calculator import SCRIPTS, write_data

    with tempfile.TemporaryDirectory() as out:
        build = SimpleNamespace(
            builder=SimpleNamespace(format="html"),
            outdir=out,
            config=SimpleNamespace(language="en"),
        )
        write_data(build, None)  # type: ignore[arg-type]
        folders = (Path(out, "_static", "calculator"), ROOT / "docs" / "_static" / "calculator")
        files = [next(f / name for f in folders if (f / name).exists()) for name in SCRIPTS]
        raw = sum(len(f.read_bytes()) for f in files)
        packed = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    target(
        f"calculator JS + data, gzip ({raw / 1e3:,.0f} KB raw)",
        f"{packed / 1e3:,.1f} KB",
        "<= 150 KB",
        packed <= CALCULATOR_BUDGET,
    )


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per CLI timing (median)")
    parser.add_argument("--rows", action="store_true", help="print every PyTorch scenario")
    args = parser.parse_args(argv)
    print("== CLI start-up ==")
    bench_cli(args.runs)
    print("\n== Sweep ==")
    bench_sweep()
    print("\n== Accuracy against measured PyTorch peaks ==")
    bench_accuracy(args.rows)
    print("\n== Accuracy against llama.cpp's reported buffers ==")
    bench_llamacpp()
    print("\n== Accuracy against vLLM startup logs ==")
    bench_serving()
    print("\n== Calculator size ==")
    bench_calculator()
    return 0


if __name__ == "__main__":
    sys.exit(main())
