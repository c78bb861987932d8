"""``@record``: ``@dataclass(frozen=True, slots=True)`` with half the code generated at import.

A dataclass writes the source of each method it adds and compiles it when the class is created: six
methods for a frozen one (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``). For the ~40 value classes of the domain that was ~86 M instructions of every cold start
on Python 3.11 (callgrind; ~8 % of a bare-boto3 cold start), all of it compiling. ``record`` lets the
dataclass machinery generate only what must be generated (``__init__``, and the two methods that make the
class frozen) and gives the class ``__eq__``, ``__hash__`` and ``__repr__`` that are the same for every
record, built without compiling anything: same results as the dataclass's (equal when the class is the
same and the compared fields are equal, the hash of those fields, ``Name(field=value, ...)``).

Everything else is the dataclass's: fields, defaults and ``field(...)``, ``dataclasses.replace`` and
``fields``, ``FrozenInstanceError``, ``__slots__``, ``__match_args__``, inheritance between records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

T = TypeVar("T")


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The named attributes of an object, as a tuple (what the dataclass's generated methods compare)."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    many: Callable[[Any], tuple[Any, ...]] = attrgetter(*names)
    return many


def _methods(cls: type) -> dict[str, Callable[..., Any]]:
    fields = dataclasses.fields(cls)
    compared = _values(tuple(f.name for f in fields if f.compare))
    hashed = _values(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))
    shown = tuple(f.name for f in fields if f.repr)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __repr__(self: Any) -> str:
        shown_fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({shown_fields})"

    return {"__eq__": __eq__, "__hash__": __hash__, "__repr__": __repr__}


def _record(cls: type[T]) -> type[T]:
    made: type[T] = dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)
    for name, method in _methods(made).items():
        # A class that writes its own keeps it, as with a dataclass (Python sets __hash__ = None in a class
        # that defines __eq__ only: the dataclass then adds one, and so does this).
        if cls.__dict__.get(name) is None:
            method.__qualname__ = f"{made.__qualname__}.{name}"
            setattr(made, name, method)
    return made


if TYPE_CHECKING:
    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True)
    def record(cls: type[T]) -> type[T]: ...

else:
    record = _record
