"""The pieces of moto the sandbox builds on: its server's WSGI app and its in-memory Pinpoint backend.

moto keeps every backend in process-wide dictionaries keyed by account and region, so anything
created through the endpoint (``create_app``, DynamoDB tables, Cognito pools) is visible here too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.pinpoint.models import pinpoint_backends

DEFAULT_REGION = "us-east-1"


def moto_wsgi_app() -> DomainDispatcherApplication:
    """moto's server application, built exactly as ``moto.server.ThreadedMotoServer`` builds it."""
    return DomainDispatcherApplication(create_backend_app)


def _credential_scope(environ: Mapping[str, Any]) -> list[str]:
    """['AKID', 'date', 'region', 'service', 'aws4_request'] from a SigV4 Authorization header, or []."""
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    for part in authorization.replace(",", " ").split():
        if part.startswith("Credential="):
            scope = part.removeprefix("Credential=").split("/")
            if len(scope) == 5:
                return scope
    return []


def request_region(environ: Mapping[str, Any]) -> str:
    scope = _credential_scope(environ)
    return scope[2] if scope else DEFAULT_REGION


def request_account(environ: Mapping[str, Any]) -> str:
    """The account moto would attribute the request to, in moto's own order of precedence."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    header = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
    if header:
        return str(header)
    scope = _credential_scope(environ)
    if not scope:
        return DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from  # heavy import, only for signed requests

    return str(get_account_id_from(scope[0]))


def pinpoint_application_exists(environ: Mapping[str, Any], application_id: str) -> bool:
    """Whether moto's Pinpoint holds this application in the request's account and region."""
    backend = pinpoint_backends[request_account(environ)][request_region(environ)]
    return application_id in backend.apps
