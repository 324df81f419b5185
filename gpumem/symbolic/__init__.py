r"""The symbolic memory model: every formula gpumem uses, written once, in SymPy.

Each :class:`Formula` gives one quantity in bytes (or bytes per element, or a count) per GPU
as an expression in named symbols. Everything numeric is derived from these expressions:
:mod:`gpumem.codegen` prints them as plain Python into ``gpumem/_generated/formulas.py``
(so the CLI never imports SymPy), and the documentation renders them with :func:`latex`.

The symbols are listed in :data:`SYMBOLS` with what they stand for. One module per concept,
imported in this order, which is the order of :data:`SYMBOLS` and :data:`FORMULAS`:

- :mod:`~gpumem.symbolic.core` — the registries and the helpers that fill them;
- :mod:`~gpumem.symbolic.inputs` — the model's, the workload's, the formats', the layout's
  and the hardware's inputs;
- :mod:`~gpumem.symbolic.derived` — inputs derived from more basic ones;
- :mod:`~gpumem.symbolic.state` — weights, adapters, master weights, optimizer states;
- :mod:`~gpumem.symbolic.cache` — the KV cache, a sum over kinds of layer;
- :mod:`~gpumem.symbolic.activations` — what training keeps for the backward pass;
- :mod:`~gpumem.symbolic.inference` — prefill and decoding working sets;
- :mod:`~gpumem.symbolic.fsdp` — FSDP2's gathered weights and communication buffers;
- :mod:`~gpumem.symbolic.phases` — the phases of a step and their peaks;
- :mod:`~gpumem.symbolic.speed` — rules of thumb and speed ceilings;
- :mod:`~gpumem.symbolic.serving` — how vLLM sizes its paged KV cache;
- :mod:`~gpumem.symbolic.encoder` — what vLLM's profiling run holds for a vision encoder;
- :mod:`~gpumem.symbolic.llamacpp` — llama.cpp's split between devices and its buffers;
- :mod:`~gpumem.symbolic.printing` — LaTeX and exact substitution.
"""

from __future__ import annotations

# isort: off
# Each module registers its symbols and formulas on import: this order is theirs.
from . import inputs, derived, state, cache, activations, inference, fsdp  # noqa: F401
from . import phases, speed, serving, encoder, llamacpp  # noqa: F401

# isort: on
from .core import FORMULAS, SYMBOL_LATEX, SYMBOLS, CeilDiv, FloorDiv, Formula, Symbol
from .printing import latex, substitute, to_latex

__all__ = [
    "FORMULAS",
    "SYMBOLS",
    "SYMBOL_LATEX",
    "CeilDiv",
    "FloorDiv",
    "Formula",
    "Symbol",
    "latex",
    "substitute",
    "to_latex",
]
