"""``otp.domain.records.record`` must behave as ``@dataclass(frozen=True, slots=True)``: the same
equality, hash and repr, the same fields, replace, immutability and slots (it only generates less code
at import: docs/benchmarks.md)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from otp.domain.records import record


@record
class Point:
    x: int
    y: int = 0
    label: str = dataclasses.field(default="", compare=False, repr=False)
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)


@record
class Point3(Point):
    z: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class ReferencePoint:
    x: int
    y: int = 0
    label: str = dataclasses.field(default="", compare=False, repr=False)
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)


def test_equality_hash_and_repr_are_the_dataclasses():
    mine, theirs = Point(1, 2, "a", ("t",)), ReferencePoint(1, 2, "a", ("t",))
    assert repr(mine) == repr(theirs).replace("ReferencePoint", "Point") == "Point(x=1, y=2, tags=('t',))"
    assert hash(mine) == hash(theirs)
    assert mine == Point(1, 2, "other label", ("t",))  # label is not compared
    assert mine != Point(1, 3, "a", ("t",))
    assert mine != Point3(1, 2, "a", ("t",), 0)  # another class is never equal
    assert mine.__eq__(theirs) is NotImplemented
    assert {mine, Point(1, 2)} == {mine, Point(1, 2)}
    assert Point(1) == Point(1, 0, "", ())


def test_fields_replace_frozen_slots_and_inheritance_are_the_dataclasses():
    point = Point3(1, 2, z=3)
    assert [f.name for f in dataclasses.fields(point)] == ["x", "y", "label", "tags", "z"]
    assert dataclasses.replace(point, z=4) == Point3(1, 2, z=4)
    assert repr(point) == "Point3(x=1, y=2, tags=(), z=3)"
    assert Point3.__match_args__ == ("x", "y", "label", "tags", "z")
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 5  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        point.other = 1  # type: ignore[attr-defined]
    assert not hasattr(point, "__dict__")
    assert pickle.loads(pickle.dumps(Point(1, 2))) == Point(1, 2)
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_a_record_that_writes_its_own_method_keeps_it():
    @record
    class Named:
        name: str

        def __repr__(self) -> str:
            return "<hidden>"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Named)

    assert repr(Named("x")) == "<hidden>"
    assert Named("x") == Named("y")
    assert hash(Named("x")) == hash(("x",))  # __eq__ alone: a hash is still added, as a dataclass does
