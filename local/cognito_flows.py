"""Which auth flows an app client allows, and Cognito's refusals when it does not.

An app client lists its flows in ``ExplicitAuthFlows``; without a list it allows
``ALLOW_REFRESH_TOKEN_AUTH``, ``ALLOW_USER_SRP_AUTH`` and ``ALLOW_CUSTOM_AUTH`` (Cognito's documented
default). The legacy values (``ADMIN_NO_SRP_AUTH``, ``CUSTOM_AUTH_FLOW_ONLY``, ``USER_PASSWORD_AUTH``)
come from the model that predates ``ALLOW_*``, in which SRP, custom auth and refresh were always on
unless ``CUSTOM_AUTH_FLOW_ONLY`` restricted the client to custom auth.

The refusals are the messages Cognito answers (``InvalidParameterException``), as its users report
them. Refresh is never refused here: Cognito does not let a client without ``ALLOW_REFRESH_TOKEN_AUTH``
exist unless refresh-token rotation replaces it ("REFRESH_TOKEN_AUTH should always be allowed."), and
the sandbox refuses to create or update such a client the same way (``check_client_settings``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from local.cognito_wire import invalid_parameter

USER_SRP_AUTH: Final = "USER_SRP_AUTH"
REFRESH_TOKEN_AUTH: Final = "REFRESH_TOKEN_AUTH"
REFRESH_TOKEN: Final = "REFRESH_TOKEN"
CUSTOM_AUTH: Final = "CUSTOM_AUTH"
ADMIN_NO_SRP_AUTH: Final = "ADMIN_NO_SRP_AUTH"
USER_PASSWORD_AUTH: Final = "USER_PASSWORD_AUTH"
ADMIN_USER_PASSWORD_AUTH: Final = "ADMIN_USER_PASSWORD_AUTH"
USER_AUTH: Final = "USER_AUTH"

# AuthFlowType, in the order botocore's model lists it (the enum error quotes it).
AUTH_FLOWS: Final = (
    USER_SRP_AUTH,
    REFRESH_TOKEN_AUTH,
    REFRESH_TOKEN,
    CUSTOM_AUTH,
    ADMIN_NO_SRP_AUTH,
    USER_PASSWORD_AUTH,
    ADMIN_USER_PASSWORD_AUTH,
    USER_AUTH,
)
REFRESH_FLOWS: Final = frozenset({REFRESH_TOKEN_AUTH, REFRESH_TOKEN})
PASSWORD_FLOWS: Final = frozenset({USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH})
_ADMIN_ONLY: Final = frozenset({ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH})
_USER_ONLY: Final = frozenset({USER_PASSWORD_AUTH})

_DEFAULT_FLOWS: Final = frozenset({"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"})
_NOT_ENABLED: Final = {
    USER_PASSWORD_AUTH: "USER_PASSWORD_AUTH flow not enabled for this client",
    ADMIN_USER_PASSWORD_AUTH: "Auth flow not enabled for this client",
    ADMIN_NO_SRP_AUTH: "Auth flow not enabled for this client",
    USER_SRP_AUTH: "USER_SRP_AUTH is not enabled for the client.",
    CUSTOM_AUTH: "CUSTOM_AUTH is not enabled for the client.",
}
_CUSTOM_ONLY: Final = "Only custom auth (lambda driven) is enabled for this client."


def _enabled(flows: frozenset[str], flow: str) -> bool:
    """Whether a client with these ExplicitAuthFlows values may start ``flow``."""
    if flow in REFRESH_FLOWS:
        return True
    if any(value.startswith("ALLOW_") for value in flows):
        if flow in (ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH):
            return "ALLOW_ADMIN_USER_PASSWORD_AUTH" in flows
        return f"ALLOW_{flow}" in flows
    # Legacy values only.
    if flow == CUSTOM_AUTH:
        return True
    if "CUSTOM_AUTH_FLOW_ONLY" in flows:
        return False
    if flow == USER_SRP_AUTH:
        return True
    if flow in (ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH):
        return ADMIN_NO_SRP_AUTH in flows
    return flow in flows


def validate_flow_name(flow: str) -> None:
    """The request validation Cognito applies before looking at the client."""
    if flow not in AUTH_FLOWS:
        raise invalid_parameter(
            f"1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(AUTH_FLOWS)}]"
        )


def check_flow(client: Any, flow: str, *, admin: bool) -> None:
    """Refuse a flow that is unknown, meant for the other operation, or not enabled on the client.

    ``USER_AUTH`` is not emulated: the caller refuses it before asking."""
    validate_flow_name(flow)
    if (admin and flow in _USER_ONLY) or (not admin and flow in _ADMIN_ONLY):
        raise invalid_parameter("Initiate Auth method not supported")
    flows = frozenset(client.extended_config.get("ExplicitAuthFlows") or _DEFAULT_FLOWS)
    if _enabled(flows, flow):
        return
    if "CUSTOM_AUTH_FLOW_ONLY" in flows:
        raise invalid_parameter(_CUSTOM_ONLY)
    raise invalid_parameter(_NOT_ENABLED[flow])


def check_client_settings(body: Mapping[str, Any]) -> None:
    """CreateUserPoolClient / UpdateUserPoolClient: refuse what Cognito refuses and moto accepts."""
    flows = body.get("ExplicitAuthFlows")
    if not flows:
        return
    allow_style = [value for value in flows if str(value).startswith("ALLOW_")]
    rotation = (body.get("RefreshTokenRotation") or {}).get("Feature") == "ENABLED"
    if allow_style and "ALLOW_REFRESH_TOKEN_AUTH" not in flows and not rotation:
        raise invalid_parameter("REFRESH_TOKEN_AUTH should always be allowed.")
