"""``python -m gpumem``: the command line."""

from .cli import main

raise SystemExit(main())
