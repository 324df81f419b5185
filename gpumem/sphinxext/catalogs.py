"""Check translation catalogs against their templates: every message translated, none fuzzy.

``python -m gpumem.sphinxext.catalogs POT_DIR PO_DIR`` compares each ``POT_DIR/**/*.pot`` with
``PO_DIR/**/*.po``, prints the counts and exits 1 on a missing, untranslated or fuzzy message,
so a page changed in English without its translation fails the build.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from babel.messages.pofile import read_po


def check(pot_dir: Path, po_dir: Path) -> tuple[list[str], dict[str, int]]:
    """Problems found (one line each) and the counts of translated, fuzzy and untranslated."""
    problems: list[str] = []
    counts = {"translated": 0, "fuzzy": 0, "untranslated": 0}
    for pot in sorted(pot_dir.rglob("*.pot")):
        po = po_dir / pot.relative_to(pot_dir).with_suffix(".po")
        if not po.exists():
            problems.append(f"{po}: missing (run nox -s i18n)")
            continue
        with pot.open("rb") as file:
            template = read_po(file)
        with po.open("rb") as file:
            catalog = read_po(file)
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id, message.context)
            state = (
                "untranslated"
                if found is None or not found.string
                else "fuzzy"
                if found.fuzzy
                else "translated"
            )
            counts[state] += 1
            if state != "translated":
                problems.append(f"{po}: {state}: {str(message.id)[:70]!r}")
    return problems, counts


def main(argv: list[str] | None = None) -> int:
    """Print the problems and the counts; 1 if anything is not translated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pot_dir", type=Path)
    parser.add_argument("po_dir", type=Path)
    args = parser.parse_args(argv)
    problems, counts = check(args.pot_dir, args.po_dir)
    for line in problems:
        print(line)
    print(", ".join(f"{n} {state}" for state, n in counts.items()))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
