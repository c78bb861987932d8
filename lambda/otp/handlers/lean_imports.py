"""Import a package's submodule without running the package's ``__init__`` until something needs it.

Powertools' ``aws_lambda_powertools.utilities.data_classes/__init__.py`` imports every event data class
it has (SQS, S3, Kafka, AppSync, ...) so that ``from aws_lambda_powertools.utilities.data_classes import
X`` works for any X. Importing one of its submodules directly does not avoid that: Python always runs a
package's ``__init__`` before its submodules. The Cognito triggers need only
``data_classes.cognito_user_pool_event``; the rest cost ≈ 8 to 10 ms of every cold start with ``.pyc``
(``python -X importtime``), and a sign-in after an idle period may pay three cold starts.

:func:`defer_package_init` puts the package in ``sys.modules`` as the import system would, minus running
its ``__init__``: its submodules import as usual (``__path__`` is set), and the first lookup of a name
that is not a submodule (``from aws_lambda_powertools.utilities.data_classes import SQSEvent``) runs the
real ``__init__`` then, in the same module object, so every import Powertools documents keeps working.
It must run before anything imports the package (``otp.handlers.__init__`` calls it first thing).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

POWERTOOLS_DATA_CLASSES = "aws_lambda_powertools.utilities.data_classes"


def defer_package_init(name: str) -> ModuleType:
    """Register package ``name`` without running its ``__init__``; a no-op when it is already imported."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)  # imports the parent packages, as any import of `name` would
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package")
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def __getattr__(attribute: str) -> Any:  # PEP 562: a module-level __getattr__
        # A submodule (`from package import submodule`, which the import system resolves by looking the
        # name up first): import just that one.
        if not attribute.startswith("__") and importlib.util.find_spec(f"{name}.{attribute}") is not None:
            return importlib.import_module(f"{name}.{attribute}")
        if attribute.startswith("__") and attribute != "__all__":
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
        # Anything else is a name the real __init__ defines: run it now, once, in this module object.
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, attribute)

    package.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, package)
    return package


def package_init_ran(name: str) -> bool:
    """Whether the real ``__init__`` of a package registered by :func:`defer_package_init` has run."""
    module = sys.modules.get(name)
    return module is not None and "__getattr__" not in module.__dict__


# ------------------------------------------------------------------------------------------ phonenumbers

# ``phonenumbers/__init__`` imports its number matcher (free-text search for numbers: dozens of regular
# expressions compiled at import) and ``phonenumbers.data`` imports 46 modules of alternate number
# formats that only the matcher reads. This service parses and validates E.164 text and never searches
# free text: together they cost ~6 ms of a cold start with ``.pyc``, ~12 ms without (measured).
PHONENUMBERS_MATCHER = "phonenumbers.phonenumbermatcher"
_ALT_FORMAT_PREFIX = "phonenumbers.data.alt_format_"
_MATCHER_NAMES = ("PhoneNumberMatch", "PhoneNumberMatcher", "Leniency")


def defer_phonenumbers_matcher() -> None:
    """Make phonenumbers load its matcher and the alternate formats on first use, not at import.

    A finder placed first on ``sys.meta_path`` answers for those modules with stand-ins: the matcher's
    three public classes become classes that load the real module when first called, looked into or
    used in ``isinstance``; each alternate-format list becomes a sequence that loads its real module
    when first read. Everything else of phonenumbers imports as usual. A no-op once phonenumbers is
    imported (it must run first: ``otp.handlers.__init__``).
    """
    if "phonenumbers" in sys.modules or any(isinstance(f, _DeferringFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _DeferringFinder())


class _DeferringFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != PHONENUMBERS_MATCHER and not fullname.startswith(_ALT_FORMAT_PREFIX):
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is None or real.loader is None:
            return None
        return importlib.util.spec_from_loader(fullname, _StandInLoader(real), origin=real.origin)


class _RealModule:
    """The real module behind a stand-in, executed once on first need and then in ``sys.modules``."""

    def __init__(self, spec: ModuleSpec) -> None:
        self._spec = spec
        self._module: ModuleType | None = None

    def get(self) -> ModuleType:
        if self._module is None:
            module = importlib.util.module_from_spec(self._spec)
            assert self._spec.loader is not None
            self._spec.loader.exec_module(module)
            sys.modules[self._spec.name] = self._module = module
        return self._module


class _StandInLoader(importlib.abc.Loader):
    def __init__(self, real: ModuleSpec) -> None:
        self._real = _RealModule(real)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        real = self._real
        if module.__name__ == PHONENUMBERS_MATCHER:
            for name in _MATCHER_NAMES:
                setattr(module, name, _deferred_class(name, real))

            def __getattr__(name: str) -> Any:  # PEP 562: the rest of the real module, on demand
                if name.startswith("__"):  # the import system probes __path__ and the like
                    raise AttributeError(name)
                return getattr(real.get(), name)

            module.__dict__["__getattr__"] = __getattr__
        else:
            number = module.__name__.removeprefix(_ALT_FORMAT_PREFIX)
            attribute = f"PHONE_ALT_FORMAT_{number}"
            setattr(module, attribute, _DeferredFormats(real, attribute))


class _DeferredFormats(Sequence[Any]):
    """An alternate-format list of phonenumbers.data, read from its module on first access."""

    def __init__(self, real: _RealModule, attribute: str) -> None:
        self._real = real
        self._attribute = attribute

    def _formats(self) -> list[Any]:
        formats: list[Any] = getattr(self._real.get(), self._attribute)
        return formats

    def __getitem__(self, index: Any) -> Any:
        return self._formats()[index]

    def __len__(self) -> int:
        return len(self._formats())


class _DeferredClassMeta(type):
    """Class-level behaviour of a stand-in class: everything goes to the real class, loaded on demand."""

    _real_module: _RealModule
    _real_name: str

    def _target(cls) -> type:
        target: type = getattr(cls._real_module.get(), cls._real_name)
        return target

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._target()(*args, **kwargs)

    def __getattr__(cls, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(cls._target(), attribute)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls._target())

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls._target())


def _deferred_class(name: str, real: _RealModule) -> type:
    return _DeferredClassMeta(
        name, (), {"_real_module": real, "_real_name": name, "__module__": PHONENUMBERS_MATCHER}
    )
