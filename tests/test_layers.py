"""Every module of the package has its place in the import layers of pyproject.toml, which
``nox -s lint`` (import-linter) holds them to."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).parents[1]


def _layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    return [{name.strip() for name in layer.split("|")} for layer in contract["layers"]]


def test_every_module_is_in_a_layer() -> None:
    listed = set().union(*_layers())
    package = ROOT / "gpumem"
    modules = {
        f"gpumem.{path.stem}"
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem not in ("__init__", "__main__"))
        or (path / "__init__.py").exists()
    }
    assert modules - listed == set(), "place these modules in pyproject.toml's layers"
    assert listed - modules == set(), "pyproject.toml's layers name modules that do not exist"


def test_data_below_the_model_below_the_faces() -> None:
    order = {name: i for i, layer in enumerate(_layers()) for name in layer}
    for low, high in [
        ("gpumem.errors", "gpumem.precision"),
        ("gpumem.precision", "gpumem.workload"),
        ("gpumem.workload", "gpumem.catalog"),
        ("gpumem.catalog", "gpumem.estimate"),
        ("gpumem.estimate", "gpumem.solve"),
        ("gpumem.solve", "gpumem.report"),
        ("gpumem.report", "gpumem.cli"),
        ("gpumem.cli", "gpumem.sphinxext"),
    ]:
        assert order[low] > order[high], (low, high)  # listed from the top down
