"""The package's error types.

Every error a user can cause is a :class:`GpumemError`, which is also a :class:`ValueError`
(or :class:`LookupError` for unknown names), carrying the bad value and what is accepted.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "GpumemError",
    "InvalidValueError",
    "UnknownNameError",
    "ConfigError",
    "ParallelismError",
]


class GpumemError(ValueError):
    """Base class of every error caused by user input.

    Parameters
    ----------
    message
        One line that names the bad value and what is accepted.
    hint
        Optional second line: what to try instead.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InvalidValueError(GpumemError):
    """A value of the right kind but out of range, e.g. a batch size of 0."""

    def __init__(self, name: str, value: object, accepted: str) -> None:
        super().__init__(f"invalid {name} {value!r}: expected {accepted}")
        self.name = name
        self.value = value
        self.accepted = accepted


class UnknownNameError(GpumemError, LookupError):
    """A name that is not in a catalog or a list of choices (model, GPU, dtype, optimizer…)."""

    def __init__(self, kind: str, value: str, accepted: Iterable[str]) -> None:
        self.kind = kind
        self.value = value
        self.accepted = tuple(accepted)
        self.suggestions = _closest(value, self.accepted)
        message = f"unknown {kind} {value!r}"
        if self.suggestions:
            message += f"; did you mean {_or_list(self.suggestions)}?"
        if len(self.accepted) <= 24:
            hint = f"accepted: {', '.join(self.accepted)}"
        else:
            hint = f"{len(self.accepted)} {kind}s are known; list them with `gpumem {kind}s`"
        super().__init__(message, hint=hint)


class ConfigError(GpumemError):
    """A model configuration (``config.json``, safetensors header) that cannot be read or used."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ParallelismError(GpumemError):
    """Parallel sizes that do not fit the model or each other (e.g. tp larger than the heads)."""


def _closest(value: str, accepted: Sequence[str]) -> tuple[str, ...]:
    import difflib

    lowered = {name.lower(): name for name in accepted}
    found = difflib.get_close_matches(value.lower(), list(lowered), n=3, cutoff=0.6)
    return tuple(lowered[name] for name in found)


def _or_list(names: Sequence[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
