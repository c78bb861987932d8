"""moto's DynamoDB answers, serialised without trying every AttributeValue member on every value.

moto serialises a response by walking the botocore model: for each member of each structure it
looks the value up under several spellings (the member's name, its shape's name, their snake_case
forms). An AttributeValue has ten members and holds one, so an item of twenty attributes cost ~200
failed look-ups; a BatchGetItem of 25 items spent most of its time there.

For an AttributeValue that is a plain dict whose keys are all member names (what moto's items give),
every other spelling is absent (the shape names, such as ``StringAttributeValue``, and the lower-case
forms are not member names), so the members it does not hold would be looked up, found missing, and
skipped. The fast path visits the members in the model's order, as moto does, and serialises only
those the dict holds, through moto's own member serialiser. Anything else (another service, another
shape, a value that is not such a dict, a response with key-path transformers) takes moto's path.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

_installed = threading.Lock()
_PATCHED = "_otp_sandbox_attribute_values"
_SERVICES = frozenset({"dynamodb"})


def install_attribute_value_fast_path() -> None:
    """Serialise DynamoDB AttributeValues by the members they hold (idempotent, process-wide)."""
    serialize: Any = importlib.import_module("moto.core.serialize")
    serializer = serialize.BaseJSONSerializer
    with _installed:
        if getattr(serializer, _PATCHED, False):
            return
        moto_structure = serializer._serialize_type_structure

        def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
            if not _held_members_only(self, value, shape):
                moto_structure(self, serialized, value, shape, key)
                return
            wrapper = self.MAP_TYPE() if key else serialized
            for member_key, member_shape in shape.members.items():
                if member_key in value:
                    member_shape.parent = shape
                    self._serialize_structure_member(wrapper, value, member_shape, member_key)
            if key:
                self._default_serialize(serialized, wrapper, shape, key)

        serialize_structure.moto = moto_structure  # type: ignore[attr-defined]  # for the tests' comparison
        serializer._serialize_type_structure = serialize_structure
        setattr(serializer, _PATCHED, True)


def _held_members_only(serializer: Any, value: Any, shape: Any) -> bool:
    return (
        shape.name == "AttributeValue"
        and type(value) is dict
        and value.keys() <= shape.members.keys()
        and not getattr(serializer._value_picker, "response_transformers", True)
        and serializer.operation_model is not None
        and serializer.operation_model.service_model.service_name in _SERVICES
    )
