"""The banner `make run` prints names what the chosen engine sends through, and nothing of the other."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from local.__main__ import banner


def _sandbox(engine: str) -> SimpleNamespace:
    info = SimpleNamespace(engine=engine, user_pool_id="us-east-1_pool", user_pool_client_id="client")
    return SimpleNamespace(
        aws_url="http://127.0.0.1:4566",
        api_url="http://127.0.0.1:3000",
        sign_in_page_url="http://127.0.0.1:4566/_sandbox/app/",
        ready_info=info,
    )


@pytest.mark.parametrize(
    ("engine", "shown", "absent"),
    [
        ("pinpoint", "Pinpoint app  app-123", "End User Messaging"),
        ("endusermessaging", "End User Messaging", "Pinpoint app"),
    ],
)
def test_the_banner_names_the_engines_own_resources(engine: str, shown: str, absent: str) -> None:
    text = banner(_sandbox(engine), "app-123")  # type: ignore[arg-type]
    assert f"Engine        {engine}" in text
    assert shown in text
    assert absent not in text
