"""The adapters' boto3 clients, built from the trimmed botocore data the Lambda bundle ships.

Creating a client makes botocore parse the service's JSON model and the endpoint data of every AWS
service: for Pinpoint about 1.9 MB of JSON (``endpoints.json`` 1.26 MB, the model 620 KB for 122
operations), most of a bare client's creation time on a cold start. The bundle therefore carries a
botocore data directory (``otp/_botocore_data``, written at build time by infra/botocore_data.py from
the build's pinned botocore) holding only the operations of :data:`otp.adapters.aws_operations.OPERATIONS`
with their shapes, every modeled error, the services' endpoint rules, the partitions and the endpoints
of these services only. Clients of those services come from a session whose loader reads only that
directory (no listing of botocore's 400-odd service directories either), at the API version it holds.

Those clients come straight from a botocore session: ``import boto3`` (its session, resources and
s3transfer, ~73 M instructions or ~7 % of a bare-boto3 cold start, measured with callgrind) is paid only
on the fallback path. boto3's session adds nothing a client of these services uses (its handlers
customise S3 clients and resources only; it names itself in the User-Agent).

Botocore itself comes from the Lambda runtime, whose version is not the build's. The data formats are
versioned and botocore reads data written for other versions of itself (that is what ``AWS_DATA_PATH``
is for), but a newer file may use something an older botocore lacks, so a service uses the trimmed data
only when this botocore can read all of it: the same data format versions, a serializer for the
service's protocol and every function its endpoint rules call. Otherwise, and wherever the directory or
the service is missing (the source tree: sandbox and tests), the client is built from botocore's own
data, exactly as ``boto3.client`` would.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader

from otp import snapstart
from otp.adapters.aws_operations import OPERATIONS
from otp.adapters.call_log import log_calls

if TYPE_CHECKING:
    import boto3.session
    import botocore.session

DATA_DIR: Final = Path(__file__).resolve().parent.parent / "_botocore_data"
MANIFEST: Final = "manifest.json"
#: The manifest's own format; infra/botocore_data.py writes the same number.
MANIFEST_FORMAT: Final = 1
#: The data formats this module knows botocore to read: the "version" of endpoints.json, partitions.json,
#: endpoint-rule-set-1.json and sdk-default-configuration.json.
KNOWN_FORMATS: Final = {"endpoints": 3, "partitions": "1.1", "ruleset": "1.0", "sdkDefaultConfiguration": 1}

_log = logging.getLogger(__name__)

# Whatever the function draws from `random` (backoff jitter, botocore's retry jitter) must differ between
# environments restored from one SnapStart snapshot. Every function that calls AWS imports this module.
snapstart.register_hooks()


def client(
    service_name: str,
    config: Config,
    *,
    data_dir: Path | None = None,
    fallback_models: Path | None = None,
) -> BaseClient:
    """A client of ``service_name``: from the trimmed data (``data_dir``, by default the bundle's) when
    usable, else from botocore's own data, searched after ``fallback_models`` when given (a model that
    ships with the code for a service the runtime's botocore may not know yet). Its calls log a DEBUG
    line each when the service logs at DEBUG (``otp.adapters.call_log``)."""
    return log_calls(_client(service_name, config, data_dir, fallback_models))


def _client(
    service_name: str, config: Config, data_dir: Path | None, fallback_models: Path | None
) -> BaseClient:
    data_dir = DATA_DIR if data_dir is None else data_dir
    api_version = _usable_api_version(data_dir, service_name)
    if api_version is not None:
        try:
            session = _trimmed_session(str(data_dir))
            return session.create_client(service_name, config=config, api_version=api_version)
        except (DataNotFoundError, UnknownServiceError) as exc:  # a file the bundle should have had
            _fall_back(data_dir, service_name, repr(exc))
    if fallback_models is not None:
        return _session_with_models(str(fallback_models)).client(service_name, config=config)  # type: ignore[call-overload,no-any-return]
    import boto3

    return boto3.client(service_name, config=config)  # type: ignore[call-overload,no-any-return]


def _fall_back(data_dir: Path, service_name: str, reason: str) -> None:
    _log.warning(
        "botocore data in %s not used for %s (%s): using the runtime's botocore data",
        data_dir,
        service_name,
        reason,
    )


def _usable_api_version(data_dir: Path, service_name: str) -> str | None:
    """The API version of the trimmed data for the service, or None when it must not be used."""
    manifest = _manifest(str(data_dir))
    if manifest is None:
        return None
    entry = manifest.get("services", {}).get(service_name)
    if entry is None:
        return None
    missing = set(OPERATIONS.get(service_name, ())) - set(entry.get("operations", ()))
    problem = _unreadable(manifest, entry) or (f"operations {sorted(missing)} missing" if missing else None)
    if problem:
        _fall_back(data_dir, service_name, problem)
        return None
    return str(entry["apiVersion"])


@lru_cache(maxsize=4)
def _manifest(data_dir: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(data_dir, MANIFEST), encoding="utf-8") as file:
            manifest: dict[str, Any] = json.load(file)
    except FileNotFoundError:
        return None
    return manifest


def _unreadable(manifest: dict[str, Any], entry: dict[str, Any]) -> str | None:
    """Why this botocore could not read the trimmed data of one service, or None when it can."""
    if manifest.get("format") != MANIFEST_FORMAT:
        return f"manifest format {manifest.get('format')!r}"
    formats = manifest.get("formats", {})
    for name, known in KNOWN_FORMATS.items():
        if formats.get(name) != known:
            return f"{name} format {formats.get(name)!r}, known {known!r}"
    from botocore.endpoint_provider import RuleSetStandardLibrary
    from botocore.serialize import SERIALIZERS

    if entry.get("protocol") not in SERIALIZERS:
        return f"protocol {entry.get('protocol')!r} unknown to this botocore"
    unknown = [name for name in entry.get("ruleFunctions", ()) if not hasattr(RuleSetStandardLibrary, name)]
    if unknown:
        return f"endpoint rule functions {unknown} unknown to this botocore"
    if not isinstance(getattr(Loader, "BUILTIN_DATA_PATH", None), str):
        return "this botocore's Loader has no BUILTIN_DATA_PATH"
    return None


class _TrimmedDataLoader(Loader):
    """A loader that searches only the trimmed directory and treats it as botocore's own data.

    Botocore hands the legacy endpoint of a non-builtin endpoints.json to the endpoint rules as a custom
    endpoint, which would change how endpoints resolve; this data is a subset of a botocore's own, so it
    is declared builtin and the rules resolve exactly as with the full data.
    """

    def __init__(self, data_dir: str) -> None:
        super().__init__(extra_search_paths=[data_dir], include_default_search_paths=False)
        self.BUILTIN_DATA_PATH = data_dir


@lru_cache(maxsize=4)
def _trimmed_session(data_dir: str) -> botocore.session.Session:
    """One botocore session per container for the services of the trimmed data (its loader reads nothing
    else)."""
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _TrimmedDataLoader(data_dir))
    return core


@lru_cache(maxsize=4)
def _session_with_models(models_dir: str) -> boto3.session.Session:
    """botocore's own data, with ``models_dir`` searched first."""
    import boto3.session
    import botocore.session

    core = botocore.session.Session()
    core.get_component("data_loader").search_paths.insert(0, models_dir)
    return boto3.session.Session(botocore_session=core)


def reset() -> None:
    """Forget the cached manifests and sessions (tests that point the module at other data)."""
    _manifest.cache_clear()
    _trimmed_session.cache_clear()
    _session_with_models.cache_clear()
