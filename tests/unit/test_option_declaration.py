"""The schema class decorator reads a class body's options from its namespace, in the order written."""

from __future__ import annotations

import types
from typing import Any

from otp.options.declaration import fields, option, schema_class
from otp.options.kinds import Integer, Text


def _body(namespace: dict[str, object]) -> None:
    # As Python 3.14 leaves a class body without ``from __future__ import annotations``: the options are
    # in the namespace, the annotations are not (they are evaluated lazily, through __annotate__).
    namespace["zeta"] = option(default=1, kind=Integer(0, 9), doc="z")
    namespace["alpha"] = option(default="a", kind=Text(r"[a-z]", "one letter"), doc="a")


def test_options_are_found_without_annotations_in_the_class_dict_and_keep_their_order():
    cls: Any = schema_class(types.new_class("Lazy", (), {}, _body))
    assert "__annotations__" not in cls.__dict__
    assert [f.name for f in fields(cls)] == ["zeta", "alpha"]
    value = cls(zeta=3)
    assert (value.zeta, value.alpha) == (3, "a")


def test_a_subclass_adds_its_options_after_its_bases_and_overrides_by_name():
    @schema_class
    class Base:
        first: int = option(default=1, kind=Integer(0, 9), doc="f")
        second: int = option(default=2, kind=Integer(0, 9), doc="s")

    @schema_class
    class Child(Base):
        third: int = option(default=3, kind=Integer(0, 9), doc="t")
        first: int = option(default=5, kind=Integer(0, 9), doc="f again")

    assert [f.name for f in fields(Child)] == ["second", "third", "first"]
    assert Child().first == 5
    assert Base().first == 1
