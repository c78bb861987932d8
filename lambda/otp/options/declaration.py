"""How an option is declared: once, with everything every consumer derives from it.

A configuration key is one attribute of a class decorated with :func:`schema_class`, whose value is an
:func:`option` call: its default, its kind (type and bounds, :mod:`otp.options.kinds`), what it means,
and which functions read it. From that one declaration come the CDK context key (``otp.brandName``),
the construct's keyword argument (``brand_name=``), the function's environment variable
(``OTP_BRAND_NAME``), the functions' settings parser and the documentation's tables.

Not dataclasses: a dataclass generates and compiles its ``__init__``, ``__eq__`` and ``__repr__`` when
the class is created, which on a 60-field class is a measurable part of a cold start. Here the methods
are written once, generically, and only the field list is built per class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar, dataclass_transform

if TYPE_CHECKING:
    from .kinds import Kind

#: The functions the stack deploys, by their role; an option names those that read it.
API: Final = "api"
DEFINE: Final = "define"
CREATE: Final = "create"
VERIFY: Final = "verify"
FUNCTIONS: Final = frozenset({API, DEFINE, CREATE, VERIFY})
#: Read by the construct only (the API's throttle, alarms, WAF...): never in a function's environment.
CONSTRUCT_ONLY: Final[frozenset[str]] = frozenset()

#: Where an option comes from: the user (context key and keyword argument), or the construct itself
#: (a resource's name or id it created; an environment variable only).
USER: Final = "user"
CONSTRUCT: Final = "construct"


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: The default of a required option.
MISSING: Final[Any] = _Missing()


class Option:
    """What an option is, besides its name and default."""

    __slots__ = ("context", "doc", "env", "functions", "kind", "renamed_from", "source")

    def __init__(
        self,
        *,
        kind: Kind,
        doc: str,
        context: str | None,
        env: str | None,
        functions: frozenset[str],
        renamed_from: tuple[str, ...],
        source: str,
    ) -> None:
        self.kind = kind
        self.doc = doc
        self.context = context
        self.env = env
        self.functions = functions
        self.renamed_from = renamed_from
        self.source = source


class Field:
    """One declared option of a schema class: its attribute name, default and :class:`Option`."""

    __slots__ = ("default", "name", "option")

    def __init__(self, default: Any, option: Option) -> None:
        self.name = ""  # set by schema_class
        self.default = default
        self.option = option

    @property
    def required(self) -> bool:
        return self.default is MISSING


def option(
    *,
    kind: Kind,
    doc: str,
    default: Any = MISSING,
    context: str | None = None,
    env: str | None = None,
    functions: frozenset[str] = FUNCTIONS,
    renamed_from: tuple[str, ...] = (),
    source: str = USER,
) -> Any:
    """Declare an option. ``context`` and ``env`` default to names derived from the attribute
    (``brand_name`` -> ``brandName``, ``OTP_BRAND_NAME``); give them only where a name is irregular.
    ``renamed_from`` lists earlier environment variable names, still read for one release."""
    return Field(
        default,
        Option(
            kind=kind,
            doc=doc,
            context=context,
            env=env,
            functions=functions,
            renamed_from=renamed_from,
            source=source,
        ),
    )


_FIELDS: Final = "__schema_fields__"
_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(option,))
def schema_class(cls: type[_T]) -> type[_T]:
    """Make ``cls`` an immutable value built from keyword arguments, one per declared option (those of
    its bases first). Equality, hashing and ``repr`` are by value."""
    inherited: list[Field] = []
    for base in reversed(cls.__mro__[1:]):
        inherited.extend(
            f for f in base.__dict__.get(_FIELDS, ()) if f.name not in {i.name for i in inherited}
        )
    own: list[Field] = []
    # The class body's own options, in the order written. Read from the namespace, not the annotations:
    # on Python 3.14 a module without ``from __future__ import annotations`` has no ``__annotations__``
    # in the class dict (they are evaluated lazily), and the options would silently vanish.
    for name, declared in list(cls.__dict__.items()):
        if isinstance(declared, Field):
            declared.name = name
            _derive_names(declared)
            own.append(declared)
            delattr(cls, name)
    names = {f.name for f in own}
    setattr(cls, _FIELDS, (*(f for f in inherited if f.name not in names), *own))
    for name, method in _METHODS.items():
        setattr(cls, name, method)
    return cls


def _derive_names(declared: Field) -> None:
    spec = declared.option
    if spec.source == USER and spec.context is None:
        head, *rest = declared.name.split("_")
        spec.context = head + "".join(part.capitalize() for part in rest)
    if spec.env is None and spec.functions:
        spec.env = "OTP_" + declared.name.upper()


def fields(schema: type | object) -> tuple[Field, ...]:
    """The declared options of a schema class or instance, in declaration order."""
    cls = schema if isinstance(schema, type) else type(schema)
    found: tuple[Field, ...] = getattr(cls, _FIELDS)
    return found


def values(instance: object) -> Iterator[tuple[Field, Any]]:
    for declared in fields(instance):
        yield declared, getattr(instance, declared.name)


def _init(self: object, **kwargs: Any) -> None:
    for declared in fields(self):
        value = kwargs.pop(declared.name, declared.default)
        if value is MISSING:
            raise TypeError(f"{type(self).__name__}() missing required keyword argument '{declared.name}'")
        object.__setattr__(self, declared.name, value)
    if kwargs:
        raise TypeError(
            f"{type(self).__name__}() got unexpected keyword arguments: {', '.join(sorted(kwargs))}"
        )


def _setattr(self: object, name: str, value: object) -> None:
    raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")


def _delattr(self: object, name: str) -> None:
    raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")


def _key(self: object) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in fields(self))


def _eq(self: object, other: object) -> Any:
    if type(other) is not type(self):
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self: object) -> int:
    return hash((type(self), _key(self)))


def _repr(self: object) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
    return f"{type(self).__name__}({shown})"


_METHODS: Final[dict[str, Callable[..., Any]]] = {
    "__init__": _init,
    "__setattr__": _setattr,
    "__delattr__": _delattr,
    "__eq__": _eq,
    "__hash__": _hash,
    "__repr__": _repr,
}


def replace(instance: _T, **changes: Any) -> _T:
    """A copy of ``instance`` with ``changes`` applied (like dataclasses.replace)."""
    current = {f.name: getattr(instance, f.name) for f in fields(instance)}
    current.update(changes)
    return type(instance)(**current)


def by_context_key(schema: type) -> dict[str, Field]:
    return {f.option.context: f for f in fields(schema) if f.option.context}


def by_env_name(schema: type) -> dict[str, Field]:
    return {f.option.env: f for f in fields(schema) if f.option.env}
