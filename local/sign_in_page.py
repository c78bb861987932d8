"""The web sign-in page on the sandbox's AWS endpoint, and the sandbox-only route that creates users.

- ``GET /_sandbox/app/`` - the static page in ``web/sign-in/`` (plain ES modules, no build step). It
  talks to Cognito's JSON API directly: here, to this endpoint; given ``?region=&clientId=``, to AWS.
- ``GET /_sandbox/app/config.json`` - what the page needs to sign in here: the sandbox's user pool and
  app client, and the deployment settings a client cannot ask Cognito for (``allowedAttempts``,
  ``sendCooldownSeconds``, ``codeLength``, ``allowedCountries``: the page's default country for a
  number typed without ``+`` is one of these), read from the handlers' own settings.
- ``POST /_sandbox/users {"phoneNumber": "+12065550100"}`` - creates a user in the sandbox's pool as
  your backend would (docs/cognito.md: AdminCreateUser with a verified ``phone_number``, then a random
  permanent password that nobody types): ``201 {"username", "phoneNumber", "userStatus"}``, ``400``
  for a number that is not E.164, ``409`` when the number already has a user. This exists only on the
  sandbox, and the page offers it only when the sandbox serves it.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import Any, Final

from werkzeug.wrappers import Request, Response

from local.cognito_users import create_sign_in_user
from local.http_json import BodyError, json_object_body, json_response
from local.sandbox_control import SandboxStatus

WEB_ROOT: Final = Path(__file__).resolve().parent.parent / "web" / "sign-in"
APP_PATH: Final = "/_sandbox/app"
USERS_PATH: Final = "/_sandbox/users"
_FILE_NAME: Final = re.compile(r"^[a-z][a-z0-9-]*\.(html|js|css)$")
_E164: Final = re.compile(r"^\+[1-9]\d{6,14}$")
_TYPES: Final = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


class SignInPage:
    """An endpoint override for the page, its configuration and the users route."""

    def __init__(self, status: SandboxStatus, *, region: str, web_root: Path = WEB_ROOT) -> None:
        self._status = status
        self._region = region
        self._root = web_root

    def __call__(self, request: Request) -> Response | None:
        path = request.path
        if path == USERS_PATH:
            return self._create_user(request)
        if path == APP_PATH:
            return Response(status=308, headers={"Location": f"{APP_PATH}/"})
        if not path.startswith(f"{APP_PATH}/"):
            return None
        if request.method not in ("GET", "HEAD"):
            return json_response(405, {"message": "method not allowed"})
        name = path.removeprefix(f"{APP_PATH}/") or "index.html"
        if name == "config.json":
            return self._config()
        return self._file(name)

    def _file(self, name: str) -> Response:
        # Only plain file names of this one directory: no "..", no sub-paths, no dot-files.
        file = self._root / name
        if not _FILE_NAME.fullmatch(name) or not file.is_file():
            return json_response(404, {"message": f"no file {name} in the sign-in page"})
        content_type = _TYPES.get(file.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(
            file.read_bytes(),
            content_type=f"{content_type}; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )

    def _config(self) -> Response:
        ready = self._status.ready
        if ready is None:
            return json_response(503, {"message": "the sandbox is starting"})
        from otp.settings import get_settings  # the handlers' settings, as the triggers read them

        settings = get_settings()
        return json_response(
            200,
            {
                "region": self._region,
                "userPoolId": ready.user_pool_id,
                "clientId": ready.user_pool_client_id,
                "allowedAttempts": settings.allowed_attempts,
                "sendCooldownSeconds": settings.send_cooldown_seconds if settings.protection_enabled else 0,
                "codeLength": settings.code_length,
                "allowedCountries": sorted(settings.allowed_countries),
            },
            {"Cache-Control": "no-store"},
        )

    def _create_user(self, request: Request) -> Response:
        if request.method != "POST":
            return json_response(405, {"message": "method not allowed"})
        ready = self._status.ready
        if ready is None or ready.user_pool_id is None:
            return json_response(503, {"message": "the sandbox is starting"})
        try:
            phone = json_object_body(request).get("phoneNumber")
        except BodyError as exc:
            return json_response(400, {"message": str(exc)})
        if not isinstance(phone, str) or not _E164.fullmatch(phone):
            return json_response(
                400, {"message": 'expected {"phoneNumber": "+<country code><number>"} (E.164)'}
            )
        refusal = _deployment_refusal(phone)
        if refusal is not None:
            return json_response(400, {"message": refusal})
        cognito = self._cognito(request)
        pool_id = ready.user_pool_id
        existing = cognito.list_users(UserPoolId=pool_id, Filter=f'phone_number = "{phone}"')["Users"]
        if existing:
            return json_response(409, {"message": f"{phone} already has a user"})
        create_sign_in_user(cognito, pool_id, phone)
        user = cognito.admin_get_user(UserPoolId=pool_id, Username=phone)
        return json_response(
            201, {"username": user["Username"], "phoneNumber": phone, "userStatus": user["UserStatus"]}
        )

    def _cognito(self, request: Request) -> Any:
        """A stock boto3 client calling this very endpoint: the sandbox's admin API, never AWS."""
        import boto3

        return boto3.client(
            "cognito-idp",
            endpoint_url=request.host_url.rstrip("/"),
            region_name=self._region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _deployment_refusal(phone: str) -> str | None:
    """Why the deployment would never text this number (a country it does not allow, not a valid or
    canonical number), as the handlers' own parse says it; None when a user with it could sign in."""
    from otp.domain.errors import InvalidRequest
    from otp.domain.phone import parse_phone_number
    from otp.settings import get_settings

    allowed = get_settings().allowed_countries
    try:
        parse_phone_number(phone, allowed)
    except InvalidRequest as exc:
        return f"{exc} (this deployment texts {', '.join(sorted(allowed))}: OTP_ALLOWED_COUNTRIES)"
    return None
