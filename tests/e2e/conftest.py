"""What the Cognito end-to-end modules share: a stock client and the sandbox's pool, for whichever
``sandbox`` fixture the module chooses (one engine, each engine in turn, SMS and voice...)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox_harness import RunningSandbox, aws_client


@pytest.fixture(scope="module")
def cognito(sandbox: RunningSandbox) -> Any:
    """A stock client: nothing sandbox-specific but the endpoint URL."""
    return aws_client("cognito-idp", sandbox.aws_url)


@pytest.fixture(scope="module")
def pool(sandbox: RunningSandbox) -> dict[str, str]:
    """The user pool and app client the sandbox created at start-up, as /_sandbox/health reports them."""
    health = sandbox.health()
    assert health.status == 200
    return {"userPoolId": health.body["userPoolId"], "clientId": health.body["userPoolClientId"]}
