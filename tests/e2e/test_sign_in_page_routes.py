"""The sandbox's routes for the web sign-in page: the static files, its configuration, the users route."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.sandbox_harness import SANDBOX_TEST_ENV, aws_client, http_call

pytestmark = pytest.mark.slow


def fresh_number() -> str:
    return f"+1206555{uuid.uuid4().int % 9000 + 1000:04d}"


def test_the_page_is_served_at_the_url_the_ready_file_names(sandbox: Any) -> None:
    url = sandbox.ready["signInPageUrl"]
    assert url == f"{sandbox.aws_url}/_sandbox/app/"

    page = http_call("GET", url)
    script = http_call("GET", f"{url}app.js")
    redirect = http_call("GET", f"{sandbox.aws_url}/_sandbox/app")

    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in page.body
    assert script.status == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert redirect.status == 200  # urllib followed the redirect to the page
    assert "Sign in with your phone" in redirect.body
    # And the banner a developer sees after `make run` prints it
    assert f"Sign-in page  {url}" in sandbox.console()


def test_the_page_s_copy_of_libphonenumber_js_is_served_from_its_own_directory(sandbox: Any) -> None:
    script = http_call("GET", f"{sandbox.aws_url}/_sandbox/app/libphonenumber-max.js")
    assert script.status == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert script.body.startswith("/*! libphonenumber-js ")


@pytest.mark.parametrize(
    "path",
    [
        "..%2Fcognito.js",
        "%2E%2E/README.md",
        ".hidden.js",
        "nope.js",
        "app.py",
        # The package itself stays out of reach: the page has its own copy
        "..%2F..%2Fnode_modules%2Flibphonenumber-js%2Fpackage.json",
        "node_modules/libphonenumber-js/bundle/libphonenumber-max.js",
        "libphonenumber-max.js.map",
    ],
)
def test_only_the_pages_own_files_are_served(sandbox: Any, path: str) -> None:
    assert http_call("GET", f"{sandbox.aws_url}/_sandbox/app/{path}").status == 404


def test_the_page_configuration_is_the_sandboxs_pool_and_settings(sandbox: Any) -> None:
    config = http_call("GET", f"{sandbox.aws_url}/_sandbox/app/config.json").body
    health = sandbox.health().body
    assert config == {
        "region": "us-east-1",
        "userPoolId": health["userPoolId"],
        "clientId": health["userPoolClientId"],
        "allowedAttempts": int(SANDBOX_TEST_ENV["OTP_ALLOWED_ATTEMPTS"]),
        "sendCooldownSeconds": 30,
        "codeLength": int(SANDBOX_TEST_ENV["OTP_CODE_LENGTH"]),
        "allowedCountries": ["CA", "GB", "US"],
    }


def test_the_users_route_creates_a_user_who_can_sign_in(sandbox: Any) -> None:
    # When a number is registered through the route, twice
    phone = fresh_number()
    created = http_call("POST", f"{sandbox.aws_url}/_sandbox/users", {"phoneNumber": phone})
    again = http_call("POST", f"{sandbox.aws_url}/_sandbox/users", {"phoneNumber": phone})

    # Then the first creates a confirmed user with a verified number; the second is a conflict
    assert created.status == 201
    assert created.body["phoneNumber"] == phone
    assert created.body["userStatus"] == "CONFIRMED"
    assert again.status == 409
    cognito = aws_client("cognito-idp", sandbox.aws_url)
    user = cognito.admin_get_user(UserPoolId=sandbox.health().body["userPoolId"], Username=phone)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["phone_number"] == phone
    assert attributes["phone_number_verified"] == "true"
    # And they can start a sign-in: a code goes out
    cognito.initiate_auth(
        ClientId=sandbox.health().body["userPoolClientId"],
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": phone},
    )
    assert len(sandbox.outbox(destination=phone)) == 1


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [
        ("POST", {"phoneNumber": "2065550100"}, 400),
        ("POST", {"phoneNumber": "+1206555010O"}, 400),
        ("POST", {"phone": "+12065550100"}, 400),
        ("POST", b"not json", 400),
        ("GET", None, 405),
    ],
)
def test_the_users_route_refuses_what_is_not_a_number(
    sandbox: Any, method: str, body: Any, status: int
) -> None:
    answer = http_call(method, f"{sandbox.aws_url}/_sandbox/users", body)
    assert answer.status == status
    assert answer.body["message"]


@pytest.mark.parametrize(
    "phone",
    [
        "+33612345678",  # France: not among the deployment's countries (US, CA, GB)
        "+12065550",  # too short to be a number
        "+114255557777",  # a trunk prefix: not the canonical spelling
    ],
)
def test_the_users_route_applies_the_deployments_country_and_number_rules(sandbox: Any, phone: str) -> None:
    # Given a number the deployment would never text (issue 20: users were created for any country)
    # When a user is asked for with it
    answer = http_call("POST", f"{sandbox.aws_url}/_sandbox/users", {"phoneNumber": phone})
    # Then it is refused, saying which countries the deployment texts, without echoing the number
    assert answer.status == 400, answer
    assert "OTP_ALLOWED_COUNTRIES" in answer.body["message"]
    assert phone not in answer.body["message"]
