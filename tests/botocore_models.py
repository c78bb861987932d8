"""The botocore service models shipped with the Lambda asset, trimmed to the operations the adapters call.

The End User Messaging adapter loads ``lambda/otp/adapters/service_models/`` ahead of botocore's own data
(``otp.adapters.end_user_messaging``), so the function works on a Lambda runtime whose botocore predates
the service, and the same model is used locally and deployed. A unit test compares the shipped files with
what this module builds from the installed botocore; after a botocore upgrade, regenerate them with
``.venv/bin/python -m tests.botocore_models``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import botocore.loaders

MODELS_DIR: Final = Path(__file__).resolve().parent.parent / "lambda" / "otp" / "adapters" / "service_models"
#: service -> (API version, operations the adapters call)
SHIPPED: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "endusermessaging": (
        "2026-09-21",
        (
            "SendNotifyCodeVerification",
            "ValidateNotifyCodeVerification",
            "CreateNotifyCodeConfiguration",
            "UpdateNotifyCodeConfiguration",
            "DeleteNotifyCodeConfiguration",
        ),
    ),
}


def _undocumented(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _undocumented(v) for k, v in node.items() if k != "documentation"}
    if isinstance(node, list):
        return [_undocumented(v) for v in node]
    return node


def _reachable(shapes: dict[str, Any], roots: list[str]) -> set[str]:
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        children = [m["shape"] for m in shape.get("members", {}).values()]
        children += [shape[key]["shape"] for key in ("member", "key", "value") if key in shape]
        pending.extend(children)
    return seen


def trimmed_model(service: str) -> dict[str, Any]:
    """The installed botocore's model of ``service``, with only the shipped operations and no docs."""
    version, operations = SHIPPED[service]
    full: dict[str, Any] = botocore.loaders.Loader().load_service_model(service, "service-2", version)
    kept = {name: full["operations"][name] for name in operations}
    roots = []
    for operation in kept.values():
        roots += [operation[key]["shape"] for key in ("input", "output") if key in operation]
        roots += [error["shape"] for error in operation.get("errors", [])]
    shapes = {name: full["shapes"][name] for name in sorted(_reachable(full["shapes"], roots))}
    model = {"version": full["version"], "metadata": full["metadata"], "operations": kept, "shapes": shapes}
    return dict(_undocumented(model))


def endpoint_rules(service: str) -> dict[str, Any]:
    version, _ = SHIPPED[service]
    loader = botocore.loaders.Loader()
    rules: dict[str, Any] = loader.load_service_model(service, "endpoint-rule-set-1", version)
    return rules


def expected_files() -> dict[Path, str]:
    """Every shipped file and the exact text it must have."""
    files = {}
    for service, (version, _) in SHIPPED.items():
        directory = MODELS_DIR / service / version
        for name, document in (
            ("service-2.json", trimmed_model(service)),
            ("endpoint-rule-set-1.json", endpoint_rules(service)),
        ):
            files[directory / name] = json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n"
    return files


def main() -> None:
    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
