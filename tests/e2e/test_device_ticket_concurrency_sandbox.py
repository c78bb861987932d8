"""The open part and the reserve under concurrency, through a sandbox subprocess's Cognito door.

Parallel clients (threads, each its own stock boto3 cognito-idp client) start sign-ins for one number:
strangers without a ticket, and sessions of a device that answers with its valid ticket. No cooldown
and 10 codes an hour here, so that only the daily cap (10, of which 4 reserved) stands between them:
whatever the interleaving, strangers get at most the open part and everyone together at most 10.
On both engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.test_cognito_sign_in import answer as respond
from tests.e2e.test_cognito_sign_in import create_user, fresh_number, start
from tests.e2e.test_lockout_sandbox import latest_code
from tests.sandbox_harness import (
    END_USER_MESSAGING,
    ENGINE_ENV,
    PINPOINT,
    RunningSandbox,
    aws_client,
    running_sandbox,
)

pytestmark = pytest.mark.slow

DAILY, RESERVE = 10, 4
PARALLEL = 16


@pytest.fixture(scope="module", params=[PINPOINT, END_USER_MESSAGING])
def sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    limits = {
        "OTP_SEND_COOLDOWN_SECONDS": "0",
        "OTP_SEND_LIMIT_PER_HOUR": str(DAILY),
        "OTP_SEND_LIMIT_PER_DAY": str(DAILY),
        "OTP_SEND_RESERVE_PER_DAY": str(RESERVE),
    }
    with running_sandbox({**ENGINE_ENV[request.param], **limits}) as running:
        yield running


def client(sandbox: RunningSandbox) -> Any:
    return aws_client("cognito-idp", sandbox.aws_url)


def stranger(sandbox: RunningSandbox, pool: dict[str, str], phone: str) -> None:
    start(client(sandbox), pool, phone)


def device(sandbox: RunningSandbox, pool: dict[str, str], phone: str, ticket: str) -> None:
    cognito = client(sandbox)
    challenge = start(cognito, pool, phone)
    respond(cognito, pool, challenge, phone, "SMS", {"otpChannel": "SMS", "otpDeviceTicket": ticket})


def test_parallel_strangers_get_the_open_part_and_not_one_code_more(sandbox, pool):
    # Given a registered number nobody has signed in on today
    phone = fresh_number()
    create_user(client(sandbox), pool, phone)
    # When 16 strangers start sign-ins for it at once
    with ThreadPoolExecutor(PARALLEL) as threads:
        list(threads.map(lambda _: stranger(sandbox, pool, phone), range(PARALLEL)))
    # Then exactly the open part went out
    assert len(sandbox.outbox(destination=phone)) == DAILY - RESERVE


def test_strangers_and_a_returning_device_at_once_never_exceed_the_daily_cap(sandbox, pool):
    # Given a device that signed in on the number (one code) and kept its ticket
    phone = fresh_number()
    cognito = client(sandbox)
    create_user(cognito, pool, phone)
    challenge = start(cognito, pool, phone)
    signed_in = respond(cognito, pool, challenge, phone, latest_code(sandbox, phone))
    assert "AccessToken" in signed_in["AuthenticationResult"]
    ticket = challenge["ChallengeParameters"]["OTP_DEVICE_TICKET"]
    # When 16 strangers and 16 of the device's sign-ins (each resending with the ticket) run at once
    jobs = [lambda: stranger(sandbox, pool, phone)] * PARALLEL + [
        lambda: device(sandbox, pool, phone, ticket)
    ] * PARALLEL
    with ThreadPoolExecutor(2 * PARALLEL) as threads:
        list(threads.map(lambda job: job(), jobs))
    # Then the number got exactly its daily cap: the open part and the whole reserve, never more
    assert len(sandbox.outbox(destination=phone)) == DAILY
    # and once it is spent, the ticket brings nothing either
    device(sandbox, pool, phone, ticket)
    assert len(sandbox.outbox(destination=phone)) == DAILY
