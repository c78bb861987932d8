"""The sandbox's Cognito beyond custom auth: app-client flows, tokens, JWKS, refresh, revocation, errors.

A stock boto3 cognito-idp client (and raw HTTP where the wire itself is the point) talks to the
in-process AWS endpoint. Tokens are checked with PyJWT against the JWKS the sandbox serves, as an
application would check Cognito's.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from local.cognito_custom_auth import CognitoCustomAuth
from local.cognito_pools import create_sign_in_pool
from local.cognito_triggers import trigger_arns
from tests.sandbox_harness import REGION, aws_client, http_call

COGNITO_JSON = {"Content-Type": "application/x-amz-json-1.1"}


@pytest.fixture
def endpoint(pinpoint_endpoint: Any) -> Iterator[Any]:
    """The AWS endpoint with the sandbox's Cognito override (no triggers: these tests need none)."""
    override = CognitoCustomAuth(region=REGION)
    pinpoint_endpoint.endpoint.add_override(override)
    yield pinpoint_endpoint
    pinpoint_endpoint.endpoint.overrides.remove(override)


@pytest.fixture
def cognito(endpoint: Any) -> Any:
    return aws_client("cognito-idp", endpoint.url)


@pytest.fixture
def pool(cognito: Any, endpoint: Any) -> dict[str, str]:
    """The stack's pool and app client (CUSTOM_AUTH + refresh only), plus a client that allows passwords."""
    created = create_sign_in_pool(cognito, trigger_arns(REGION))
    password_client = cognito.create_user_pool_client(
        UserPoolId=created.user_pool_id,
        ClientName="passwords",
        ExplicitAuthFlows=[
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
        PreventUserExistenceErrors="ENABLED",
        EnableTokenRevocation=True,
    )["UserPoolClient"]["ClientId"]
    return {
        "userPoolId": created.user_pool_id,
        "clientId": created.client_id,
        "passwordClientId": password_client,
    }


def fresh_number() -> str:
    return f"+1206555{uuid.uuid4().int % 9000 + 1000:04d}"


def add_user(cognito: Any, pool_id: str, phone: str, *, email: str | None = None) -> str:
    """A confirmed user with a verified number; returns the password (only password flows use it)."""
    attributes = [
        {"Name": "phone_number", "Value": phone},
        {"Name": "phone_number_verified", "Value": "true"},
    ]
    if email:
        attributes += [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "false"}]
    cognito.admin_create_user(
        UserPoolId=pool_id, Username=phone, UserAttributes=attributes, MessageAction="SUPPRESS"
    )
    password = f"Aa1!{secrets.token_urlsafe(16)}"
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=phone, Password=password, Permanent=True)
    return password


def username_of(cognito: Any, pool: dict[str, str], phone: str) -> str:
    """The user's username, as Cognito reports it: the number itself, as the pool's usernames are."""
    username: str = cognito.admin_get_user(UserPoolId=pool["userPoolId"], Username=phone)["Username"]
    return username


def password_sign_in(cognito: Any, pool: dict[str, str], phone: str, password: str) -> dict[str, Any]:
    result: dict[str, Any] = cognito.initiate_auth(
        ClientId=pool["passwordClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": phone, "PASSWORD": password},
    )["AuthenticationResult"]
    return result


def error_of(raised: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def cognito_call(url: str, operation: str, body: dict[str, Any], **headers: str) -> Any:
    """A browser-style call: no signature, Cognito's JSON content type and target header."""
    return http_call(
        "POST",
        f"{url}/",
        body,
        {**COGNITO_JSON, "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}", **headers},
    )


def verify(token: str, endpoint: Any, pool_id: str, **options: Any) -> dict[str, Any]:
    """What an application does with Cognito's tokens: the key by kid from <issuer>/.well-known/jwks.json."""
    issuer = f"{endpoint.url}/{pool_id}"
    signing_key = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(token, signing_key, algorithms=["RS256"], issuer=issuer, **options)
    return claims


# --- the app client's auth flows ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "flow", "parameters", "message"),
    [
        (
            "initiate_auth",
            "USER_PASSWORD_AUTH",
            {"PASSWORD": "right"},
            "USER_PASSWORD_AUTH flow not enabled for this client",
        ),
        ("initiate_auth", "USER_SRP_AUTH", {"SRP_A": "abc"}, "USER_SRP_AUTH is not enabled for the client."),
        (
            "admin_initiate_auth",
            "ADMIN_USER_PASSWORD_AUTH",
            {"PASSWORD": "right"},
            "Auth flow not enabled for this client",
        ),
        (
            "admin_initiate_auth",
            "ADMIN_NO_SRP_AUTH",
            {"PASSWORD": "right"},
            "Auth flow not enabled for this client",
        ),
        (
            "admin_initiate_auth",
            "USER_SRP_AUTH",
            {"SRP_A": "abc"},
            "USER_SRP_AUTH is not enabled for the client.",
        ),
        (
            "initiate_auth",
            "ADMIN_USER_PASSWORD_AUTH",
            {"PASSWORD": "right"},
            "Initiate Auth method not supported",
        ),
        (
            "admin_initiate_auth",
            "USER_PASSWORD_AUTH",
            {"PASSWORD": "right"},
            "Initiate Auth method not supported",
        ),
    ],
)
def test_flows_the_stacks_client_does_not_allow_are_refused(
    cognito, pool, operation, flow, parameters, message
):
    # Given a user whose password is known (as an attacker who learnt it would know it)
    phone = fresh_number()
    password = add_user(cognito, pool["userPoolId"], phone)
    parameters = {"USERNAME": phone, **{k: password if v == "right" else v for k, v in parameters.items()}}
    extra = {"UserPoolId": pool["userPoolId"]} if operation.startswith("admin") else {}

    # When a client tries a flow other than CUSTOM_AUTH on the stack's app client
    with pytest.raises(cognito.exceptions.InvalidParameterException) as raised:
        getattr(cognito, operation)(
            ClientId=pool["clientId"], AuthFlow=flow, AuthParameters=parameters, **extra
        )

    # Then Cognito's refusal, and no tokens
    assert error_of(raised) == ("InvalidParameterException", message)


def test_an_unknown_flow_name_is_a_validation_error(endpoint, pool):
    # When a raw client sends a flow name Cognito does not have
    answer = cognito_call(
        endpoint.url,
        "InitiateAuth",
        {"ClientId": pool["clientId"], "AuthFlow": "MAGIC", "AuthParameters": {}},
    )

    # Then it is refused before anything else, naming the valid values
    assert answer.status == 400
    assert answer.body["__type"] == "InvalidParameterException"
    assert "Value 'MAGIC' at 'authFlow' failed to satisfy constraint" in answer.body["message"]
    assert "CUSTOM_AUTH" in answer.body["message"]


def test_a_client_that_allows_passwords_checks_them(cognito, pool):
    # Given a user, and an app client that allows the password flows
    phone = fresh_number()
    password = add_user(cognito, pool["userPoolId"], phone)

    # When they sign in with a wrong password, then the right one, then through the admin flow
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as wrong:
        password_sign_in(cognito, pool, phone, password + "x")
    user_flow = password_sign_in(cognito, pool, phone, password)
    admin_flow = cognito.admin_initiate_auth(
        UserPoolId=pool["userPoolId"],
        ClientId=pool["passwordClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": phone, "PASSWORD": password},
    )["AuthenticationResult"]

    # Then only the right password earns tokens, and they are the sandbox's signed ones
    assert error_of(wrong) == ("NotAuthorizedException", "Incorrect username or password.")
    for tokens in (user_flow, admin_flow):
        assert jwt.get_unverified_header(tokens["IdToken"])["kid"] != "dummy"
        assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == username_of(
            cognito, pool, phone
        )


def test_a_new_password_challenge_still_ends_with_the_sandboxs_signed_tokens(endpoint, cognito, pool):
    # Given a user created with a temporary password (FORCE_CHANGE_PASSWORD)
    phone = fresh_number()
    cognito.admin_create_user(
        UserPoolId=pool["userPoolId"],
        Username=phone,
        TemporaryPassword="Temp-Pass-1!",
        UserAttributes=[
            {"Name": "phone_number", "Value": phone},
            {"Name": "phone_number_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )

    # When they sign in with it and answer the NEW_PASSWORD_REQUIRED challenge
    challenge = cognito.initiate_auth(
        ClientId=pool["passwordClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": phone, "PASSWORD": "Temp-Pass-1!"},
    )
    result = cognito.respond_to_auth_challenge(
        ClientId=pool["passwordClientId"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": phone, "NEW_PASSWORD": f"Aa1!{secrets.token_urlsafe(16)}"},
    )["AuthenticationResult"]

    # Then the tokens are the sandbox's, verifiable and refreshable like any other
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    claims = verify(result["IdToken"], endpoint, pool["userPoolId"], audience=pool["passwordClientId"])
    assert claims["phone_number"] == phone
    assert cognito.get_tokens_from_refresh_token(
        ClientId=pool["passwordClientId"], RefreshToken=result["RefreshToken"]
    )["AuthenticationResult"]["AccessToken"]


def test_unknown_users_follow_the_clients_existence_error_setting_on_password_flows(cognito, pool):
    # Given the same password-allowing client with prevent-user-existence-errors on, and one without
    legacy = cognito.create_user_pool_client(
        UserPoolId=pool["userPoolId"],
        ClientName="legacy-errors",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="LEGACY",
    )["UserPoolClient"]["ClientId"]
    unknown = {"USERNAME": fresh_number(), "PASSWORD": "Aa1!whatever-it-is"}

    # When an unknown number signs in with a password through each
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as hidden:
        cognito.initiate_auth(
            ClientId=pool["passwordClientId"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters=unknown
        )
    with pytest.raises(cognito.exceptions.UserNotFoundException) as told:
        cognito.initiate_auth(ClientId=legacy, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=unknown)

    # Then only the LEGACY client tells that the user does not exist
    assert error_of(hidden) == ("NotAuthorizedException", "Incorrect username or password.")
    assert error_of(told) == ("UserNotFoundException", "User does not exist.")


def test_srp_on_a_client_that_allows_it_is_not_emulated_rather_than_accepting_any_password(
    endpoint, cognito, pool
):
    # Given an app client that allows SRP (moto would accept any password over it)
    srp = cognito.create_user_pool_client(
        UserPoolId=pool["userPoolId"],
        ClientName="srp",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]

    # When a client starts SRP
    answer = cognito_call(
        endpoint.url,
        "InitiateAuth",
        {"ClientId": srp, "AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "x", "SRP_A": "ab"}},
    )

    # Then a clear JSON error, never a PASSWORD_VERIFIER challenge that any answer passes
    assert answer.status == 501
    assert answer.body["__type"] == "InternalFailure"
    assert "USER_SRP_AUTH" in answer.body["message"]


def test_a_client_without_refresh_is_refused_as_cognito_refuses_it(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as raised:
        cognito.create_user_pool_client(
            UserPoolId=pool["userPoolId"], ClientName="no-refresh", ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH"]
        )
    assert error_of(raised) == ("InvalidParameterException", "REFRESH_TOKEN_AUTH should always be allowed.")


# --- tokens and the JWKS ---------------------------------------------------------------------


def test_tokens_carry_cognitos_claims_and_verify_against_the_served_jwks(endpoint, cognito, pool):
    # Given a user with a verified phone number and an unverified email
    phone = fresh_number()
    password = add_user(cognito, pool["userPoolId"], phone, email="ada@example.com")

    # When they sign in
    tokens = password_sign_in(cognito, pool, phone, password)

    # Then both tokens verify with PyJWT against <endpoint>/<poolId>/.well-known/jwks.json
    identity = verify(tokens["IdToken"], endpoint, pool["userPoolId"], audience=pool["passwordClientId"])
    access = verify(tokens["AccessToken"], endpoint, pool["userPoolId"], options={"verify_aud": False})
    sub = cognito.admin_get_user(UserPoolId=pool["userPoolId"], Username=phone)["UserAttributes"]
    assert identity["sub"] == access["sub"] == {a["Name"]: a["Value"] for a in sub}["sub"]
    # And the ID token has the readable attributes, the *_verified ones as booleans
    assert identity["phone_number"] == phone
    assert identity["phone_number_verified"] is True
    assert identity["email"] == "ada@example.com"
    assert identity["email_verified"] is False
    assert identity["token_use"] == "id"
    assert identity["cognito:username"] == access["username"] == username_of(cognito, pool, phone)
    assert {"origin_jti", "event_id", "auth_time", "iat", "exp", "jti"} <= set(identity)
    # And the access token Cognito's access claims
    assert access["token_use"] == "access"
    assert access["client_id"] == pool["passwordClientId"]
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["version"] == 2
    assert access["origin_jti"] == identity["origin_jti"]
    assert tokens["ExpiresIn"] == access["exp"] - access["iat"] == 3600
    # And the two tokens are signed with the pool's two different keys
    assert (
        jwt.get_unverified_header(tokens["IdToken"])["kid"]
        != jwt.get_unverified_header(tokens["AccessToken"])["kid"]
    )


def test_a_forged_token_does_not_verify(endpoint, cognito, pool):
    # Given a real ID token whose payload an attacker edits (another phone number)
    phone = fresh_number()
    tokens = password_sign_in(cognito, pool, phone, add_user(cognito, pool["userPoolId"], phone))
    header, _, signature = tokens["IdToken"].split(".")
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    forged_payload = jwt.utils.base64url_encode(
        json.dumps({**claims, "phone_number": "+12065550000"}).encode()
    ).decode()

    # When an application verifies it
    with pytest.raises(jwt.InvalidSignatureError):
        verify(f"{header}.{forged_payload}.{signature}", endpoint, pool["userPoolId"], audience=claims["aud"])


def test_the_app_clients_token_validity_is_honoured(endpoint, cognito, pool):
    # Given a client whose access tokens last 5 minutes and ID tokens 2 hours
    short = cognito.create_user_pool_client(
        UserPoolId=pool["userPoolId"],
        ClientName="short",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AccessTokenValidity=5,
        IdTokenValidity=2,
        TokenValidityUnits={"AccessToken": "minutes", "IdToken": "hours"},
    )["UserPoolClient"]["ClientId"]
    phone = fresh_number()
    password = add_user(cognito, pool["userPoolId"], phone)

    # When a user signs in through it
    tokens = cognito.initiate_auth(
        ClientId=short,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": phone, "PASSWORD": password},
    )["AuthenticationResult"]

    # Then the lifetimes are the client's
    access = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
    identity = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert tokens["ExpiresIn"] == access["exp"] - access["iat"] == 300
    assert identity["exp"] - identity["iat"] == 7200


def test_the_jwks_and_discovery_document_of_an_unknown_pool_are_404(endpoint, pool):
    assert http_call("GET", f"{endpoint.url}/us-east-1_nope/.well-known/jwks.json").status == 404
    discovery = http_call("GET", f"{endpoint.url}/{pool['userPoolId']}/.well-known/openid-configuration")
    assert discovery.status == 200
    assert discovery.body["issuer"] == f"{endpoint.url}/{pool['userPoolId']}"
    assert discovery.body["jwks_uri"] == f"{endpoint.url}/{pool['userPoolId']}/.well-known/jwks.json"


# --- refresh and revocation ----------------------------------------------------------------------


def test_refresh_with_get_tokens_from_refresh_token_and_refresh_token_auth(endpoint, cognito, pool):
    # Given a signed-in user
    phone = fresh_number()
    tokens = password_sign_in(cognito, pool, phone, add_user(cognito, pool["userPoolId"], phone))
    first = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})

    # When the client refreshes both ways (Amplify v6 uses the first, older SDKs the second)
    by_operation = cognito.get_tokens_from_refresh_token(
        ClientId=pool["passwordClientId"], RefreshToken=tokens["RefreshToken"]
    )["AuthenticationResult"]
    by_flow = cognito.initiate_auth(
        ClientId=pool["passwordClientId"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]

    # Then each gives new ID and access tokens of the same authentication, and no new refresh token
    for result in (by_operation, by_flow):
        assert "RefreshToken" not in result
        access = verify(result["AccessToken"], endpoint, pool["userPoolId"], options={"verify_aud": False})
        assert access["jti"] != first["jti"]
        assert (access["origin_jti"], access["auth_time"]) == (first["origin_jti"], first["auth_time"])
        assert cognito.get_user(AccessToken=result["AccessToken"])["Username"] == username_of(
            cognito, pool, phone
        )


@pytest.mark.parametrize("other", ["garbage", "another client's"])
def test_a_refresh_token_that_is_not_this_clients_is_invalid(cognito, pool, other):
    phone = fresh_number()
    tokens = password_sign_in(cognito, pool, phone, add_user(cognito, pool["userPoolId"], phone))
    token, client = (
        ("not-a-token", pool["passwordClientId"])
        if other == "garbage"
        else (tokens["RefreshToken"], pool["clientId"])
    )
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as raised:
        cognito.get_tokens_from_refresh_token(ClientId=client, RefreshToken=token)
    assert error_of(raised) == ("NotAuthorizedException", "Invalid Refresh Token.")


def test_revoke_token_ends_the_session_for_cognitos_api(endpoint, cognito, pool):
    # Given a signed-in user who refreshed once, and the same user signed in on a second device
    phone = fresh_number()
    password = add_user(cognito, pool["userPoolId"], phone)
    tokens = password_sign_in(cognito, pool, phone, password)
    refreshed = cognito.get_tokens_from_refresh_token(
        ClientId=pool["passwordClientId"], RefreshToken=tokens["RefreshToken"]
    )["AuthenticationResult"]
    other_device = password_sign_in(cognito, pool, phone, password)

    # When the first device signs out with RevokeToken
    assert cognito.revoke_token(Token=tokens["RefreshToken"], ClientId=pool["passwordClientId"]) is not None

    # Then its refresh token no longer refreshes, with Cognito's message, either way
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as by_operation:
        cognito.get_tokens_from_refresh_token(
            ClientId=pool["passwordClientId"], RefreshToken=tokens["RefreshToken"]
        )
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as by_flow:
        cognito.initiate_auth(
            ClientId=pool["passwordClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
    assert (
        error_of(by_operation)
        == error_of(by_flow)
        == ("NotAuthorizedException", "Refresh Token has been revoked")
    )
    # And every access token minted from it is refused by Cognito's API
    for access_token in (tokens["AccessToken"], refreshed["AccessToken"]):
        with pytest.raises(cognito.exceptions.NotAuthorizedException) as revoked:
            cognito.get_user(AccessToken=access_token)
        assert error_of(revoked) == ("NotAuthorizedException", "Access Token has been revoked")
    # But the other device's session is untouched
    assert cognito.get_user(AccessToken=other_device["AccessToken"])["Username"] == username_of(
        cognito, pool, phone
    )
    # And revoking again changes nothing
    cognito.revoke_token(Token=tokens["RefreshToken"], ClientId=pool["passwordClientId"])


def test_global_sign_out_revokes_every_refresh_token(cognito, pool):
    phone = fresh_number()
    password = add_user(cognito, pool["userPoolId"], phone)
    first, second = (password_sign_in(cognito, pool, phone, password) for _ in range(2))

    cognito.global_sign_out(AccessToken=first["AccessToken"])

    for tokens in (first, second):
        with pytest.raises(cognito.exceptions.NotAuthorizedException) as raised:
            cognito.get_tokens_from_refresh_token(
                ClientId=pool["passwordClientId"], RefreshToken=tokens["RefreshToken"]
            )
        assert error_of(raised) == ("NotAuthorizedException", "Refresh Token has been revoked")
        with pytest.raises(cognito.exceptions.NotAuthorizedException):
            cognito.get_user(AccessToken=tokens["AccessToken"])


@pytest.mark.parametrize(
    ("case", "error_type"),
    [
        ("access token", "UnsupportedTokenTypeException"),
        ("another client's refresh token", "UnauthorizedException"),
        ("unknown token", "UnauthorizedException"),
        ("revocation disabled", "UnsupportedOperationException"),
    ],
)
def test_revoke_token_refuses_what_it_cannot_revoke(cognito, pool, case, error_type):
    # Given a signed-in user
    phone = fresh_number()
    password = add_user(cognito, pool["userPoolId"], phone)
    tokens = password_sign_in(cognito, pool, phone, password)
    token, client_id = tokens["RefreshToken"], pool["passwordClientId"]
    if case == "access token":
        token = tokens["AccessToken"]
    elif case == "another client's refresh token":
        client_id = pool["clientId"]
    elif case == "unknown token":
        token = "bm90LWEtdG9rZW4"
    else:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool["userPoolId"],
            ClientName="no-revocation",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            EnableTokenRevocation=False,
        )["UserPoolClient"]["ClientId"]
        token = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": phone, "PASSWORD": password},
        )["AuthenticationResult"]["RefreshToken"]

    # When a client asks to revoke it
    with pytest.raises(cognito.exceptions.ClientError) as raised:
        cognito.revoke_token(Token=token, ClientId=client_id)

    # Then the documented error, and the session still refreshes
    assert raised.value.response["Error"]["Code"] == error_type
    assert cognito.get_tokens_from_refresh_token(
        ClientId=pool["passwordClientId"], RefreshToken=tokens["RefreshToken"]
    )


# --- the wire: errors nobody serves, and CORS ------------------------------------------------------


def test_operations_the_sandbox_does_not_serve_answer_in_cognitos_json_error_shape(endpoint):
    # When a client calls a Cognito operation the sandbox does not emulate, and one that does not exist
    unserved = cognito_call(endpoint.url, "StartWebAuthnRegistration", {"AccessToken": "x"})
    unknown = cognito_call(endpoint.url, "MakeCoffee", {})

    # Then both are JSON errors a client parses, never an HTML page
    assert unserved.status == 501
    assert unserved.body["__type"] == "InternalFailure"
    assert "StartWebAuthnRegistration" in unserved.body["message"]
    assert unserved.headers["x-amzn-ErrorType"] == "InternalFailure:"
    assert unknown.status == 400
    assert unknown.body["__type"] == "UnknownOperationException"


def test_errors_carry_cognitos_headers(endpoint, pool):
    answer = cognito_call(
        endpoint.url,
        "InitiateAuth",
        {"ClientId": pool["clientId"], "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "u"}},
    )
    assert answer.status == 400
    assert answer.headers["x-amzn-ErrorType"] == "InvalidParameterException:"
    assert answer.headers["x-amzn-ErrorMessage"] == "USER_PASSWORD_AUTH flow not enabled for this client"
    assert answer.body == {
        "__type": "InvalidParameterException",
        "message": "USER_PASSWORD_AUTH flow not enabled for this client",
    }


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/", "InitiateAuth"),  # the sandbox's own Cognito answer (an error here)
        ("POST", "/", "ListUserPools"),  # moto's answer
        ("POST", "/", "GetTokensFromRefreshToken"),
        ("GET", "/_sandbox/health", None),
        ("GET", "/_sandbox/messages", None),
        ("GET", "/us-east-1_nope/.well-known/jwks.json", None),
    ],
)
def test_every_answer_carries_cors_headers(endpoint, method, path, operation):
    # When a browser page on another origin calls the endpoint
    headers = {"Origin": "http://localhost:5173"}
    if operation:
        headers |= {**COGNITO_JSON, "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}"}
    answer = http_call(method, f"{endpoint.url}{path}", {"MaxResults": 1} if operation else None, headers)

    # Then exactly one Allow-Origin header lets it read the answer, and the x-amzn-* headers are exposed
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amzn-ErrorType" in answer.headers["Access-Control-Expose-Headers"]


def test_a_preflight_is_answered_on_any_path(endpoint):
    # When a browser asks before a cross-origin JSON POST
    answer = http_call(
        "OPTIONS",
        f"{endpoint.url}/",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
        },
    )

    # Then the method and the headers it will send are allowed
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type,x-amz-target,x-amz-user-agent"
