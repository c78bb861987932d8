"""Tokens for the sandbox's user pools: RS256 JWTs with Cognito's claims, a JWKS, refresh and revocation.

Cognito signs ID and access tokens with RS256 under two keys per pool and publishes them at
``<issuer>/.well-known/jwks.json``, where the issuer is ``https://cognito-idp.<region>.amazonaws.com/
<userPoolId>``. The sandbox does the same with its own issuer, ``<the endpoint you called>/<userPoolId>``
(``http://127.0.0.1:4566/<userPoolId>`` for ``make run``), so a JWT library pointed at the sandbox
verifies sandbox tokens exactly as it verifies Cognito's: the key is found by ``kid`` in the JWKS under
the issuer. The keys are made when first needed and live as long as the sandbox process.

Claims are Cognito's documented ones. ID token: ``sub``, ``cognito:groups`` (when the user is in a
group), ``iss``, ``cognito:username``, ``origin_jti``, ``aud``, ``event_id``, ``token_use: "id"``,
``auth_time``, ``exp``, ``iat``, ``jti`` and the user's readable attributes (all of them, or the app
client's ``ReadAttributes``; ``email_verified`` and ``phone_number_verified`` as booleans). Access token:
``sub``, ``cognito:groups``, ``iss``, ``version: 2``, ``client_id``, ``origin_jti``, ``event_id``,
``token_use: "access"``, ``scope: "aws.cognito.signin.user.admin"``, ``auth_time``, ``exp``, ``iat``,
``jti``, ``username``. Lifetimes are the app client's ``IdTokenValidity`` / ``AccessTokenValidity``
(``TokenValidityUnits``, one hour by default), on the wall clock so verifiers accept them.

Every token is also registered in moto's pool (``refresh_tokens``, ``access_tokens``, ``id_tokens``), so
moto's ``GetUser``, ``GlobalSignOut`` and ``AdminUserGlobalSignOut`` work on them; a global sign-out
there (moto clears the user's refresh tokens) is seen here as a revocation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.cognito_wire import CognitoError, not_authorized, user_not_found

ACCESS_SCOPE: Final = "aws.cognito.signin.user.admin"
_BOOLEAN_ATTRIBUTES: Final = frozenset({"email_verified", "phone_number_verified"})
_UNIT_SECONDS: Final = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# (validity setting, unit key, default amount, default unit) as Cognito documents them.
_ID_VALIDITY: Final = ("IdTokenValidity", "IdToken", 60, "minutes")
_ACCESS_VALIDITY: Final = ("AccessTokenValidity", "AccessToken", 60, "minutes")
_REFRESH_VALIDITY: Final = ("RefreshTokenValidity", "RefreshToken", 30, "days")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _uint(number: int) -> str:
    return _b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class SigningKey:
    """An RSA-2048 key; its ``kid`` is the RFC 7638 thumbprint of the public key."""

    def __init__(self) -> None:
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self._private.public_key().public_numbers()
        self._public = {"e": _uint(numbers.e), "kty": "RSA", "n": _uint(numbers.n)}
        thumbprint = json.dumps(self._public, separators=(",", ":"), sort_keys=True).encode()
        self.kid = base64.b64encode(hashlib.sha256(thumbprint).digest()).decode("ascii")

    def jwk(self) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.kid, "use": "sig", **self._public}

    def sign(self, payload: Mapping[str, Any]) -> str:
        header = _b64url(json.dumps({"kid": self.kid, "alg": "RS256"}).encode())
        body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
        signing_input = f"{header}.{body}".encode("ascii")
        signature = self._private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{body}.{_b64url(signature)}"

    def verify(self, token: str) -> dict[str, Any] | None:
        """The payload when this key signed the token, else None."""
        try:
            header, body, signature = token.split(".")
            self._private.public_key().verify(
                _b64url_decode(signature),
                f"{header}.{body}".encode("ascii"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            payload: dict[str, Any] = json.loads(_b64url_decode(body))
        except Exception:
            return None
        return payload


@dataclass
class Login:
    """One authentication: its refresh token and every token minted from it share ``origin_jti``."""

    pool: Any  # moto's CognitoIdpUserPool
    client_id: str
    username: str
    refresh_token: str
    auth_time: int
    origin_jti: str = field(default_factory=lambda: str(uuid.uuid4()))
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    access_tokens: set[str] = field(default_factory=set)
    revoked: bool = False

    def signed_out(self) -> bool:
        """Revoked here, or signed out globally through moto (which sets the refresh token to None)."""
        return self.revoked or self.pool.refresh_tokens.get(self.refresh_token) is None


def validity_seconds(client: Any, setting: tuple[str, str, int, str]) -> int:
    name, unit_key, default_amount, default_unit = setting
    config = client.extended_config
    amount = config.get(name)
    if amount is None:
        return default_amount * _UNIT_SECONDS[default_unit]
    units = config.get("TokenValidityUnits") or {}
    # Without TokenValidityUnits, Cognito reads refresh validity in days and the others in hours.
    unit = units.get(unit_key) or ("days" if unit_key == "RefreshToken" else "hours")
    return int(amount) * _UNIT_SECONDS[unit]


def _claim_value(name: str, value: str) -> Any:
    return value == "true" if name in _BOOLEAN_ATTRIBUTES else value


class TokenIssuer:
    """Mints, refreshes and revokes tokens; one per sandbox endpoint (so one pair of keys)."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self._clock = wall_clock
        self._lock = threading.Lock()
        self._keys: tuple[SigningKey, SigningKey] | None = None
        self._logins: dict[str, Login] = {}  # by refresh token
        self._by_origin: dict[str, Login] = {}

    def _key_pair(self) -> tuple[SigningKey, SigningKey]:
        """(ID token key, access token key), made on first use: RSA key generation takes a moment."""
        with self._lock:
            if self._keys is None:
                self._keys = (SigningKey(), SigningKey())
            return self._keys

    def jwks(self) -> dict[str, Any]:
        id_key, access_key = self._key_pair()
        return {"keys": [id_key.jwk(), access_key.jwk()]}

    # --- issuing ------------------------------------------------------------------------------

    def sign_in(self, pool: Any, client: Any, user: Any, issuer: str) -> dict[str, Any]:
        """A new authentication: ``AuthenticationResult`` with ID, access and refresh tokens."""
        refresh_token = secrets.token_urlsafe(96)
        login = Login(
            pool=pool,
            client_id=client.id,
            username=user.username,
            refresh_token=refresh_token,
            auth_time=int(self._clock()),
        )
        with self._lock:
            self._logins[refresh_token] = login
            self._by_origin[login.origin_jti] = login
        pool.refresh_tokens[refresh_token] = (client.id, user.username, login.origin_jti)
        return {**self._mint(login, client, user, issuer), "RefreshToken": refresh_token}

    def refresh(self, pool: Any, client: Any, refresh_token: str, issuer: str) -> dict[str, Any]:
        """New ID and access tokens for a live refresh token of this client (no new refresh token)."""
        with self._lock:
            login = self._logins.get(refresh_token)
        if login is None or login.pool is not pool or login.client_id != client.id:
            raise not_authorized("Invalid Refresh Token.")
        if login.signed_out():
            raise not_authorized("Refresh Token has been revoked")
        user = pool._get_user(login.username)
        if user is None:
            raise user_not_found()
        if not user.enabled:
            raise not_authorized("User is disabled.")
        return self._mint(login, client, user, issuer)

    def refresh_username(self, refresh_token: str) -> str | None:
        """The username a refresh token was issued to (for a confidential client's SECRET_HASH)."""
        with self._lock:
            login = self._logins.get(refresh_token)
        return login.username if login else None

    def _mint(self, login: Login, client: Any, user: Any, issuer: str) -> dict[str, Any]:
        id_key, access_key = self._key_pair()
        now = int(self._clock())
        attributes = {str(a["Name"]): str(a["Value"]) for a in user.attributes}
        sub = attributes.get("sub", user.id)
        groups = sorted(group.group_name for group in user.groups)
        common: dict[str, Any] = {"sub": sub}
        if groups:
            common["cognito:groups"] = groups
        access_seconds = validity_seconds(client, _ACCESS_VALIDITY)
        access = {
            **common,
            "iss": issuer,
            "version": 2,
            "client_id": client.id,
            "origin_jti": login.origin_jti,
            "event_id": login.event_id,
            "token_use": "access",
            "scope": ACCESS_SCOPE,
            "auth_time": login.auth_time,
            "exp": now + access_seconds,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "username": user.username,
        }
        readable = client.extended_config.get("ReadAttributes") or None
        claims = {
            name: _claim_value(name, value)
            for name, value in attributes.items()
            if name != "sub" and (readable is None or name in readable)
        }
        identity = {
            **common,
            **claims,
            "iss": issuer,
            "cognito:username": user.username,
            "origin_jti": login.origin_jti,
            "aud": client.id,
            "event_id": login.event_id,
            "token_use": "id",
            "auth_time": login.auth_time,
            "exp": now + validity_seconds(client, _ID_VALIDITY),
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        access_token, id_token = access_key.sign(access), id_key.sign(identity)
        login.access_tokens.add(access_token)
        login.pool.access_tokens[access_token] = (client.id, user.username)
        login.pool.id_tokens[id_token] = (client.id, user.username)
        return {
            "AccessToken": access_token,
            "ExpiresIn": access_seconds,
            "TokenType": "Bearer",
            "IdToken": id_token,
        }

    # --- checking and revoking ------------------------------------------------------------------

    def token_use(self, token: str) -> str | None:
        """ "id" or "access" for a JWT this issuer signed, else None."""
        for key in self._key_pair():
            payload = key.verify(token)
            if payload is not None:
                return str(payload.get("token_use"))
        return None

    def access_token_problem(self, token: str) -> CognitoError | None:
        """Cognito's refusal of one of our access tokens that was revoked or has expired, else None.

        Tokens the sandbox did not sign are left to moto."""
        payload = self._key_pair()[1].verify(token)
        if payload is None or payload.get("token_use") != "access":
            return None
        with self._lock:
            login = self._by_origin.get(str(payload.get("origin_jti")))
        if login is None or login.signed_out() or token not in login.pool.access_tokens:
            return not_authorized("Access Token has been revoked")
        if int(payload.get("exp", 0)) <= self._clock():
            return not_authorized("Access Token has expired")
        return None

    def find(self, refresh_token: str) -> Login | None:
        with self._lock:
            return self._logins.get(refresh_token)

    def revoke(self, login: Login) -> None:
        """The refresh token, and every access token minted from it, stop working with Cognito's API.

        JWTs stay valid for a verifier that checks only signature and expiry, as with Cognito."""
        login.revoked = True
        login.pool.refresh_tokens[login.refresh_token] = None
        for access_token in login.access_tokens:
            login.pool.access_tokens.pop(access_token, None)
