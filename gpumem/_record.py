"""Immutable records: what ``@dataclass(frozen=True)`` gave the package, at a fraction of
the import cost (``dataclasses`` pulls in ``inspect``, ``ast`` and ``tokenize``; the command
line must start in a few milliseconds).

A record class lists its fields as annotations, in order, with defaults as class attributes::

    class Point(Record):
        x: int
        y: int = 0
        tags: list[str] = Factory(list)  # a fresh default per record

    Point(1) == Point(x=1, y=0)  # True
    Point(1).with_(y=2)          # Point(x=1, y=2)

It gets an ``__init__`` taking the fields (positionally or by keyword) that then calls
``__post_init__`` if the class defines one; ``==`` and ``hash`` over the fields; a ``repr``;
``as_dict()`` and ``with_(**changes)``. Assigning or deleting an attribute raises
:class:`AttributeError`; ``__post_init__`` may set a field with ``object.__setattr__``.
Fields named in ``_hidden`` are left out of ``==``, ``hash`` and ``repr``.
"""

from __future__ import annotations

__all__ = ["Factory", "Record"]

_NO_DEFAULT = object()


class Factory:
    """A field default made afresh for every record, e.g. ``Factory(dict)``."""

    __slots__ = ("make",)

    def __init__(self, make: object) -> None:
        self.make = make


class Record:
    """Base class of immutable records (see the module documentation)."""

    _fields: tuple[str, ...] = ()
    _hidden: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = (*cls._fields, *cls.__dict__.get("__annotations__", ()))
        cls.__match_args__ = cls._fields
        if "__init__" not in cls.__dict__:
            cls.__init__ = _make_init(cls)

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields if name not in self._hidden)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = (name for name in self._fields if name not in self._hidden)
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of an immutable record")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of an immutable record")

    def as_dict(self) -> dict[str, object]:
        """Fields as a plain dict (for JSON)."""
        return {name: getattr(self, name) for name in self._fields}

    def with_(self, **changes: object):
        """A copy with some fields changed (and validated again)."""
        return type(self)(**{**self.as_dict(), **changes})

    __replace__ = with_  # copy.replace() (Python 3.13)


def _make_init(cls: type[Record]):
    """``__init__(self, <fields>)`` for ``cls``, compiled once, as dataclasses does."""
    namespace: dict[str, object] = {"_NO_DEFAULT": _NO_DEFAULT}
    params, lines = [], []
    for name in cls._fields:
        default = cls.__dict__.get(name, _NO_DEFAULT)
        if isinstance(default, Factory):
            namespace[f"_make_{name}"] = default.make
            params.append(f"{name}=_NO_DEFAULT")
            lines.append(f"    if {name} is _NO_DEFAULT:\n        {name} = _make_{name}()")
        elif default is not _NO_DEFAULT:
            namespace[f"_default_{name}"] = default
            params.append(f"{name}=_default_{name}")
        else:
            params.append(name)
    fields = ", ".join(f"{name}={name}" for name in cls._fields)
    lines.append(f"    self.__dict__.update({fields})")
    if hasattr(cls, "__post_init__"):
        lines.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}) -> None:\n" + "\n".join(lines)
    exec(source, namespace)  # the source holds nothing but the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    return init
