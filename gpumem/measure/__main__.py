"""``python -m gpumem.measure``: regenerate ``gpumem/data/measurements.json``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .harness import DEFAULT_MODELS, DEFAULT_OUT, GRIDS, run


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run the measurements."""
    parser = argparse.ArgumentParser(
        prog="python -m gpumem.measure", description="Measure the memory PyTorch allocates."
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON file")
    parser.add_argument(
        "--models", nargs="+", default=list(DEFAULT_MODELS), help="catalog model ids"
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="cpu: fake tensors, any model size; cuda: real tensors on the GPU",
    )
    parser.add_argument("--grid", choices=tuple(GRIDS), default="default", help="scenario grid")
    parser.add_argument(
        "--append", action="store_true", help="add the records to those the output file holds"
    )
    args = parser.parse_args(argv)
    run(args.models, args.out, args.device, args.grid, args.append)


if __name__ == "__main__":
    main()
