"""Users the sandbox's pool can sign in: what the page's "create user" does, and what the tests reuse."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any


def create_sign_in_user(
    cognito: Any, pool_id: str, phone: str, extra_attributes: Sequence[dict[str, str]] = ()
) -> None:
    """A confirmed user whose username is ``phone`` and whose verified phone number is the same number
    (docs/cognito.md)."""
    attributes = [{"Name": "phone_number_verified", "Value": "true"}, *extra_attributes]
    if not any(attribute["Name"] == "phone_number" for attribute in attributes):
        attributes.append({"Name": "phone_number", "Value": phone})
    cognito.admin_create_user(
        UserPoolId=pool_id, Username=phone, UserAttributes=attributes, MessageAction="SUPPRESS"
    )
    # A random permanent password moves the user out of FORCE_CHANGE_PASSWORD; nobody ever types it.
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=phone, Password=f"Aa1!{secrets.token_urlsafe(24)}", Permanent=True
    )
