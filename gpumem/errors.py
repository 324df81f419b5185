"""The package's error types.

Every error a user can cause is a :class:`GpumemError`, which is also a :class:`ValueError`
(or :class:`LookupError` for unknown names), carrying the bad value and what is accepted.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "GpumemError",
    "InvalidValueError",
    "UnknownNameError",
    "ConfigError",
    "ParallelismError",
    "as_int",
    "shown",
]


class Text(str):
    """English text that remembers its template and arguments, so it can be translated.

    ``Text("at most {n} tokens", n=4096)`` is the string ``"at most 4096 tokens"``; the command
    line shows ``localized(gettext)`` instead: the template translated, then filled in (arguments
    that are themselves :class:`Text` are translated too). Templates are marked for the message
    catalog (``pybabel extract -k Text``).
    """

    template: str
    args: dict[str, object]

    def __new__(cls, template: str, **args: object) -> Text:
        self = super().__new__(cls, template.format(**args) if args else template)
        self.template, self.args = template, args
        return self

    def localized(self, gettext: Callable[[str], str]) -> str:
        """The text in the language of ``gettext``."""
        if not self.args:
            return gettext(self.template)
        args = {k: v.localized(gettext) if isinstance(v, Text) else v for k, v in self.args.items()}
        return gettext(self.template).format(**args)


def translate(text: str, gettext: Callable[[str], str]) -> str:
    """``text`` in the language of ``gettext``: a :class:`Text`, or a plain message id."""
    return text.localized(gettext) if isinstance(text, Text) else gettext(text)


#: The kinds of :class:`UnknownNameError`, marked for the catalog; English shows them as they are.
KINDS = (
    Text("model"),
    Text("gpu"),
    Text("dtype"),
    Text("optimizer"),
    Text("unit"),
    Text("mode"),
    Text("attention"),
    Text("precision"),
    Text("optimizer_impl"),
    Text("checkpointing"),
    Text("logits"),
    Text("command"),
)


class GpumemError(ValueError):
    """Base class of every error caused by user input.

    Parameters
    ----------
    message
        One line that names the bad value and what is accepted (a :class:`Text` can be
        translated: the command line shows it in the user's language).
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
        super().__init__(
            Text(
                "invalid {name} {value!r}: expected {accepted}",
                name=name,
                value=shown(value),
                accepted=_text(accepted),
            )
        )
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
        label = Text(kind)
        if self.suggestions:
            message = Text(
                "unknown {kind} {value!r}; did you mean {names}?",
                kind=label,
                value=shown(value),
                names=_or_list(self.suggestions),
            )
        else:
            message = Text("unknown {kind} {value!r}", kind=label, value=shown(value))
        if len(self.accepted) <= 24:
            hint = Text("accepted: {names}", names=", ".join(self.accepted))
        else:
            hint = Text(
                "{n} {kind}s are known; list them with `{command}`",
                n=len(self.accepted),
                kind=label,
                command=f"gpumem {kind}s",
            )
        super().__init__(message, hint=hint)


class ConfigError(GpumemError):
    """A model configuration (``config.json``, safetensors header) that cannot be read or used."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(Text("{path}: {problem}", path=path, problem=_text(problem)))
        self.path = path
        self.problem = problem


class ParallelismError(GpumemError):
    """Parallel sizes that do not fit the model or each other (e.g. tp larger than the heads)."""


def as_int(value: object) -> int | None:
    """``value`` as an ``int`` if it is a whole number (``int``, NumPy integer), else ``None``.

    Booleans, floats (even 4.0) and strings are not whole numbers here: a count is never
    guessed from another type.
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return None
    import operator

    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None


class _Shown(str):
    """A value's representation, already made: ``{value!r}`` in a template shows it as it is."""

    def __repr__(self) -> str:
        return str(self)


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` of bounded length, safe for anything a user or a file can hold.

    Strings and containers are cut to about ``limit`` characters and three levels of nesting;
    an integer of more than about ``limit`` digits (Python refuses to print those of more than
    4,300) is shown by its magnitude, ``~1.0e+400``. For the ``{value!r}`` of an error message.
    """
    import reprlib

    class Short(reprlib.Repr):
        def repr_int(self, x: int, level: int) -> str:
            return _int_repr(x, limit)

    short = Short()
    short.maxlevel, short.maxstring, short.maxother, short.maxlong = 3, limit, limit, limit
    return _Shown(short.repr(value))


def _int_repr(value: int, limit: int) -> str:
    """The integer, or its magnitude (``~1.0e+400``) beyond about ``limit`` digits."""
    if value.bit_length() <= 3 * limit:
        return repr(value)
    import math

    log = math.log10(abs(value))
    return f"{'-' if value < 0 else ''}~{10 ** (log - int(log)):.1f}e+{int(log)}"


def _closest(value: str, accepted: Sequence[str]) -> tuple[str, ...]:
    import difflib

    lowered = {name.lower(): name for name in accepted}
    found = difflib.get_close_matches(value.lower(), list(lowered), n=3, cutoff=0.6)
    return tuple(lowered[name] for name in found)


def _text(text: str) -> Text:
    """``text`` as a :class:`Text` (a plain string is its own template)."""
    return text if isinstance(text, Text) else Text(text)


def _or_list(names: Sequence[str]) -> str:
    quoted = [repr(n) for n in names]
    if len(quoted) == 1:
        return quoted[0]
    return Text("{names} or {last}", names=", ".join(quoted[:-1]), last=quoted[-1])
