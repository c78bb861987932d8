"""The configuration reference's tables, generated from the schema (``make docs-tables``).

``python -m cdk_sms_otp.options_reference`` rewrites the part of docs/configuration.md between the
markers; ``--check`` fails when that part is not what the schema gives (a test runs it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final

from cdk_sms_otp._lambda.otp.options.declaration import CONSTRUCT, USER, Field, fields
from cdk_sms_otp._lambda.otp.options.deployment import DeploymentValues
from cdk_sms_otp._lambda.otp.options.rules import engine_range
from cdk_sms_otp._lambda.otp.options.schema import OtpOptions
from cdk_sms_otp.config import CONTEXT_KEY, engine_rules

BEGIN: Final = (
    "<!-- BEGIN generated from otp/options/schema.py by `make docs-tables`: do not edit by hand -->"
)
END: Final = "<!-- END generated -->"
PAGE: Final = Path("docs/configuration.md")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(declared: Field) -> str:
    if declared.required:
        return "**required**"
    if declared.default is None:
        return "unset"
    shown = declared.option.kind.to_json(declared.default)
    if isinstance(shown, str):
        return f"`{shown}`"
    return f"`{json.dumps(shown)}`"


def _allowed(declared: Field) -> str:
    rules = engine_rules()
    ranges = [engine_range(declared.name, engine) for engine in rules.ENGINES]
    if all(ranges):
        return "; ".join(
            f"{engine}: {bounds[0]} to {bounds[1]}"
            for engine, bounds in zip(rules.ENGINES, ranges, strict=True)
            if bounds
        )
    return declared.option.kind.describe()


def options_table(schema: type[OtpOptions] = OtpOptions) -> str:
    rows = [
        "| context key (`otp.…`) | `OtpService` argument | default | allowed | what it does |",
        "|---|---|---|---|---|",
    ]
    for declared in fields(schema):
        spec = declared.option
        if spec.source != USER:
            continue
        rows.append(
            f"| `{spec.context}` | `{declared.name}` | {_cell(_default(declared))} "
            f"| {_cell(_allowed(declared))} | {_cell(spec.doc)} |"
        )
    return "\n".join(rows)


def environment_table(schema: type[OtpOptions] = OtpOptions) -> str:
    rows = ["| variable | set from | default | meaning |", "|---|---|---|---|"]
    for declared in (*fields(schema), *fields(DeploymentValues)):
        spec = declared.option
        if spec.env is None:
            continue
        source = f"`{CONTEXT_KEY}.{spec.context}`" if spec.source == USER else "the construct"
        if spec.source == CONSTRUCT and declared.name in {"connect_timeout", "read_timeout", "max_attempts"}:
            source = "the construct (per function)"
        if spec.env.startswith("AWS_"):
            source = "Lambda"
        names = f"`{spec.env}`" + "".join(f" (before 0.2.0: `{old}`)" for old in spec.renamed_from)
        meaning = spec.doc if spec.source != USER else f"as `{spec.context}`"
        if spec.kind.env_form:
            meaning += f" ({spec.kind.env_form})"
        rows.append(f"| {names} | {source} | {_cell(_default(declared))} | {_cell(meaning)} |")
    return "\n".join(rows)


def generated() -> str:
    return "\n".join(
        [
            BEGIN,
            "",
            "## Context keys (`otp.*`)",
            "",
            options_table(),
            "",
            "## Lambda environment",
            "",
            "The construct writes a variable only where the functions cannot know the value themselves: a",
            "required option, an option that differs from its default (the functions read the defaults from",
            "the same schema), and the names and ids of the resources it made.",
            "",
            environment_table(),
            "",
            END,
        ]
    )


def rewritten(text: str) -> str:
    if BEGIN not in text or END not in text:
        raise ValueError(f"{PAGE} has no generated section ({BEGIN!r} ... {END!r})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + generated() + tail


def main(argv: list[str] | None = None, root: Path | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = (root or Path.cwd()) / PAGE
    text = path.read_text(encoding="utf-8")
    wanted = rewritten(text)
    if "--check" in args:
        if wanted != text:
            print(f"{path} is out of date with the schema: run make docs-tables", file=sys.stderr)
            return 1
        return 0
    path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
