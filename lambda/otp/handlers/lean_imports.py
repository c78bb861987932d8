"""Import a package's submodule without running the package's ``__init__`` until something needs it.

Powertools' ``aws_lambda_powertools.event_handler/__init__.py`` imports every resolver it has (AppSync,
which pulls in asyncio, Bedrock agents, VPC Lattice, function URLs, ...) so that ``from
aws_lambda_powertools.event_handler import X`` works for any X. Importing one of its submodules
directly does not avoid that: Python always runs a package's ``__init__`` before its submodules. This API
needs only ``event_handler.api_gateway``; the rest cost 2-5 ms of every cold start with ``.pyc``, 10-17 ms
without (measured; README, benchmarks).

:func:`defer_package_init` puts the package in ``sys.modules`` as the import system would, minus running
its ``__init__``: its submodules import as usual (``__path__`` is set), and the first lookup of a name
that is not a submodule (``from aws_lambda_powertools.event_handler import AppSyncResolver``) runs the
real ``__init__`` then, in the same module object, so every import Powertools documents keeps working.
It must run before anything imports the package (``otp.handlers.__init__`` calls it first thing).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

POWERTOOLS_EVENT_HANDLER = "aws_lambda_powertools.event_handler"


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
