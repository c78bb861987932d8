"""What a cold start imports, read from ``python -X importtime`` in a fresh interpreter (never timed here:
``make bench`` measures; this only proves which modules load).

Each entry point must load neither pydantic, nor Powertools' event handler (the API routes its two routes
itself), nor event data classes it does not read, nor the Idempotency utility before a request carries an
Idempotency-Key, nor the X-Ray SDK when tracing is off.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = {
    "PATH": "/usr/bin:/bin",
    "PYTHONPATH": str(ROOT / "lambda"),
    "PYTHONDONTWRITEBYTECODE": "1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "PINPOINT_APPLICATION_ID": "imports",
    "OTP_BRAND_NAME": "Imports",
    "OTP_ORIGINATION_IDENTITY": "+12065550199",
    "OTP_TABLE_NAME": "otp-imports",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
ENTRY_POINTS = ["otp.handlers.api", "otp.handlers.cognito"]
NEVER_AT_START = (
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "asyncio",
    "aws_xray_sdk",
    # No resolver at all: otp/handlers/rest_proxy.py routes the two API routes.
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.idempotency",
    # Event data classes neither entry point reads (the data_classes package's __init__ imports them all).
    "aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event",
    "aws_lambda_powertools.utilities.data_classes.appsync_resolver_event",
    "aws_lambda_powertools.utilities.data_classes.kafka_event",
    "aws_lambda_powertools.utilities.data_classes.s3_event",
    "aws_lambda_powertools.utilities.data_classes.sqs_event",
)


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def imported_modules(importtime_output: str) -> set[str]:
    """Module names from ``-X importtime`` lines: ``import time: <self> | <cumulative> | <name>``."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in importtime_output.splitlines()
        if line.startswith("import time:") and "|" in line and not line.endswith("| imported package")
    }


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_cold_start_loads_only_what_the_entry_point_uses(entry_point: str) -> None:
    # Given a fresh interpreter, as Lambda starts one
    # When the entry point is imported
    modules = imported_modules(run(f"import {entry_point}").stderr)
    # Then it is there, with Powertools' logger, and none of what it does not use
    assert entry_point in modules
    assert "aws_lambda_powertools.logging.logger" in modules
    loaded = sorted(m for m in modules if m.startswith(NEVER_AT_START))
    assert loaded == []


def test_the_cognito_triggers_load_only_their_own_event_data_class() -> None:
    modules = imported_modules(run("import otp.handlers.cognito").stderr)
    assert "aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event" in modules


def test_every_name_of_the_deferred_package_still_imports() -> None:
    # Given both entry points loaded (the data classes package's __init__ deferred)
    code = (
        "import sys, otp.handlers.api, otp.handlers.cognito\n"
        "from aws_lambda_powertools.utilities.data_classes import SQSEvent, APIGatewayProxyEvent\n"
        "from aws_lambda_powertools.utilities.data_classes import cognito_user_pool_event as direct\n"
        "from aws_lambda_powertools.utilities import data_classes\n"
        "assert 'SQSEvent' in data_classes.__all__\n"
        "assert direct.DefineAuthChallengeTriggerEvent.__module__ == direct.__name__\n"
        "print(SQSEvent.__module__, APIGatewayProxyEvent.__name__)\n"
    )
    # When names only the package's __init__ defines are imported
    result = run(code)
    # Then they resolve (the real __init__ ran on demand), and they are Powertools' own classes
    assert result.stdout.split() == [
        "aws_lambda_powertools.utilities.data_classes.sqs_event",
        "APIGatewayProxyEvent",
    ]
    assert "aws_lambda_powertools.utilities.data_classes.sqs_event" in imported_modules(result.stderr)


def test_the_idempotency_utility_loads_with_the_first_idempotency_key() -> None:
    # Given the API entry point loaded, no request seen
    code = (
        "import sys, otp.handlers.api as api\n"
        "before = 'aws_lambda_powertools.utilities.idempotency' in sys.modules\n"
        "assert api._idempotent_send() is not None\n"
        "print(before, 'aws_lambda_powertools.utilities.idempotency' in sys.modules)\n"
    )
    # When the handler builds what a request with an Idempotency-Key needs
    # Then the utility was not imported before, and is after
    assert run(code).stdout.split() == ["False", "True"]


MATCHER_SCRIPT = """
import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatch, PhoneNumberMatcher
text = ("Call +49 30 1234567 or 030/12345678, (0)30 1234 5678, +44 20 7946 0000, UK 020 7946 0000, "
        "DE 089 123 456 78, US (206) 555-0100 ext. 12, 1-800-FLOWERS")
found = []
for leniency in (Leniency.POSSIBLE, Leniency.VALID, Leniency.STRICT_GROUPING, Leniency.EXACT_GROUPING):
    for region in ("DE", "GB", "US"):
        for match in PhoneNumberMatcher(text, region, leniency=leniency):
            assert isinstance(match, PhoneNumberMatch)
            found.append((leniency, region, match.start, match.end, match.raw_string))
print(len(found), found)
print(sorted((cc, len(formats)) for cc, formats in phonenumbers.data._ALT_NUMBER_FORMATS.items()))
"""


def test_phonenumbers_defers_its_matcher_and_alternate_formats() -> None:
    # Given the API entry point loaded
    code = (
        "import sys, otp.handlers.api\n"
        "matcher = sys.modules['phonenumbers.phonenumbermatcher']\n"
        "formats = sys.modules['phonenumbers.data.alt_format_49'].PHONE_ALT_FORMAT_49\n"
        "print('_verify' in vars(matcher), isinstance(formats, list))\n"
    )
    # Then neither the matcher's code nor any alternate-format list has run
    assert run(code).stdout.split() == ["False", "False"]


def test_the_deferred_matcher_finds_exactly_what_the_real_one_finds() -> None:
    # Given free text with numbers that need the alternate formats (EXACT_GROUPING, German numbers)
    # When it is searched with the deferral in place (as in the functions) and without it
    deferred = run("import otp.handlers\n" + MATCHER_SCRIPT).stdout
    plain = run(MATCHER_SCRIPT).stdout
    # Then the matches and the alternate formats are identical
    assert deferred == plain
    assert int(plain.split()[0]) > 10
