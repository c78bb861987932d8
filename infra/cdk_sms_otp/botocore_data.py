"""Trimmed botocore data for the Lambda bundle: only what the functions' AWS calls need.

A botocore client parses its service's whole model and every service's endpoints when it is created
(the Pinpoint model holds 122 operations; endpoints.json is 1.26 MB). This writes a botocore data
directory holding, for each row of ``lambda/otp/adapters/aws_operations.py``:

- ``<service>/<api version>/service-2.json``: the listed operations (plus the service's endpoint-discovery
  operation, which botocore looks up when it builds the client), the shapes they reach, every modeled
  error (botocore looks error codes up across the whole model) and the metadata, without documentation;
- ``<service>/<api version>/endpoint-rule-set-1.json``: the service's endpoint rules, as they are;

and ``partitions.json``, ``sdk-default-configuration.json`` and ``_retry.json`` as they are,
``endpoints.json`` with every partition and region but only these services, and ``manifest.json`` (what
is in it, and what a botocore must support to read it: otp.adapters.aws_sdk checks that at run time and
falls back to the runtime's own data otherwise). The client's loader reads nothing else.

The source is the botocore installed in the build environment (pinned in requirements.txt), so the
trimmed models are the ones the tests run against; tests/unit/test_botocore_data.py proves that the
adapters' calls serialise and parse identically with the trimmed and the full data.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from cdk_sms_otp.lambda_source import OTP_PACKAGE, load_module

OPERATIONS_FILE: Final = OTP_PACKAGE / "adapters" / "aws_operations.py"
#: Where the bundle puts the directory (otp.adapters.aws_sdk.DATA_DIR finds it there).
BUNDLE_PATH: Final = Path("otp") / "_botocore_data"
MANIFEST_FORMAT: Final = 1
#: The endpoint rule set format botocore's rule engine implements.
RULESET_FORMAT: Final = "1.0"


class BotocoreDataError(RuntimeError):
    """The trimmed data cannot be written as asked (an unknown service or operation)."""


def operations_table(path: Path = OPERATIONS_FILE) -> dict[str, tuple[str, ...]]:
    """The service -> operations table the Lambda code declares (loaded by path: ``lambda`` is a keyword)."""
    module = load_module(path, "_otp_aws_operations")
    return {service: tuple(operations) for service, operations in module.OPERATIONS.items()}


def fingerprint() -> str:
    """What decides the data besides the table: part of the asset hash (a new botocore rebuilds it)."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return f"botocore {importlib.metadata.version('botocore')}, generator {digest}"


def _without_documentation(node: Any) -> Any:
    """The model without its prose: "documentation" (and its URL) keys whose value is text. A member
    *named* documentation has a dict value and stays."""
    if isinstance(node, dict):
        return {
            key: _without_documentation(value)
            for key, value in node.items()
            if not (key in {"documentation", "documentationUrl"} and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_without_documentation(item) for item in node]
    return node


def _shape_references(shape: Mapping[str, Any]) -> Iterator[str]:
    for member in shape.get("members", {}).values():
        yield member["shape"]
    for key in ("member", "key", "value"):
        if key in shape:
            yield shape[key]["shape"]


def _reachable(shapes: Mapping[str, Any], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(_shape_references(shapes[name]))
    return seen


def trim_service_model(model: Mapping[str, Any], operations: Sequence[str], service: str) -> dict[str, Any]:
    """The model restricted to ``operations`` and what botocore needs around them."""
    known = model["operations"]
    unknown = sorted(set(operations) - set(known))
    if unknown:
        raise BotocoreDataError(f"{service} has no operation {', '.join(unknown)} in this botocore")
    kept = set(operations)
    # Botocore registers endpoint-discovery handlers by the operation marked as the discovery endpoint.
    kept |= {name for name, op in known.items() if op.get("endpointoperation")}
    roots: list[str] = []
    for name in sorted(kept):
        op = known[name]
        roots += [op[key]["shape"] for key in ("input", "output") if key in op]
        roots += [error["shape"] for error in op.get("errors", ())]
    roots += [name for name, shape in model["shapes"].items() if shape.get("exception")]
    shapes = _reachable(model["shapes"], roots)
    trimmed = {key: value for key, value in model.items() if key not in {"operations", "shapes"}}
    trimmed["operations"] = {name: known[name] for name in sorted(kept)}
    trimmed["shapes"] = {name: model["shapes"][name] for name in sorted(shapes)}
    result: dict[str, Any] = _without_documentation(trimmed)
    return result


def trim_endpoints(endpoints: Mapping[str, Any], services: Iterable[str]) -> dict[str, Any]:
    """endpoints.json with every partition and region, and only these services' endpoint entries."""
    wanted = set(services)
    partitions = []
    for partition in endpoints["partitions"]:
        copy = {key: value for key, value in partition.items() if key != "services"}
        copy["services"] = {
            name: entry for name, entry in partition.get("services", {}).items() if name in wanted
        }
        partitions.append(copy)
    return {**{k: v for k, v in endpoints.items() if k != "partitions"}, "partitions": partitions}


def _rule_functions(ruleset: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(ruleset, dict):
        if isinstance(ruleset.get("fn"), str):
            found.add(ruleset["fn"])
        for value in ruleset.values():
            found |= _rule_functions(value)
    elif isinstance(ruleset, list):
        for item in ruleset:
            found |= _rule_functions(item)
    return found


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":"), sort_keys=True), encoding="utf-8")


def write_data(target: Path, operations: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """Write the trimmed data directory into ``target`` (created) and return its manifest."""
    from botocore.endpoint_provider import RuleSetStandardLibrary
    from botocore.loaders import create_loader

    table = operations_table() if operations is None else operations
    loader = create_loader()  # the build environment's botocore, its own data only
    endpoints = loader.load_data("endpoints")
    partitions = loader.load_data("partitions")
    names = RuleSetStandardLibrary(partitions)
    services: dict[str, Any] = {}
    prefixes: set[str] = set()
    for service, wanted in sorted(table.items()):
        api_version = loader.determine_latest_version(service, "service-2")
        model = loader.load_service_model(service, "service-2", api_version)
        ruleset = loader.load_service_model(service, "endpoint-rule-set-1", api_version)
        if ruleset.get("version") != RULESET_FORMAT:
            raise BotocoreDataError(f"{service}: endpoint rule set version {ruleset.get('version')!r}")
        trimmed = trim_service_model(model, wanted, service)
        _write_json(target / service / api_version / "service-2.json", trimmed)
        _write_json(target / service / api_version / "endpoint-rule-set-1.json", ruleset)
        prefixes |= {service, model["metadata"]["endpointPrefix"]}
        services[service] = {
            "apiVersion": api_version,
            "operations": sorted(trimmed["operations"]),
            "protocol": model["metadata"]["protocol"],
            # As botocore's rule engine names them (aws.partition -> aws_partition, not -> _not).
            "ruleFunctions": sorted(names.convert_func_name(fn) for fn in _rule_functions(ruleset)),
        }
    _write_json(target / "endpoints.json", trim_endpoints(endpoints, prefixes))
    _write_json(target / "partitions.json", partitions)
    defaults = loader.load_data("sdk-default-configuration")
    _write_json(target / "sdk-default-configuration.json", _without_documentation(defaults))
    _write_json(target / "_retry.json", loader.load_data("_retry"))
    manifest = {
        "format": MANIFEST_FORMAT,
        "botocore": importlib.metadata.version("botocore"),
        "formats": {
            "endpoints": endpoints["version"],
            "partitions": partitions["version"],
            "ruleset": RULESET_FORMAT,
            "sdkDefaultConfiguration": defaults["version"],
        },
        "services": services,
    }
    _write_json(target / "manifest.json", manifest)
    return manifest
