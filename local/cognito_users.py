"""Users the sandbox's pool can sign in: what the page's "create user" does, and what the tests reuse."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any


def create_sign_in_user(
    cognito: Any, pool_id: str, phone: str, extra_attributes: Sequence[dict[str, str]] = ()
) -> None:
    """A confirmed user whose username is ``phone``, with a verified phone number (docs/cognito.md)."""
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=phone,
        UserAttributes=[{"Name": "phone_number_verified", "Value": "true"}, *extra_attributes],
        MessageAction="SUPPRESS",
    )
    # A random permanent password moves the user out of FORCE_CHANGE_PASSWORD; nobody ever types it.
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=phone, Password=f"Aa1!{secrets.token_urlsafe(24)}", Permanent=True
    )
