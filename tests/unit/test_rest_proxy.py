"""The REST proxy router of the API: routes, exception handlers, proxy results, one request per thread."""

from __future__ import annotations

import threading
from typing import Any

from otp.handlers.rest_proxy import HttpResponse, Request, RestRouter
from tests.lambda_events import LambdaContext, rest_api_event


class Refused(ValueError):
    pass


def router() -> RestRouter:
    app = RestRouter()

    @app.post("/otp")
    def send(request: Request) -> HttpResponse:
        if request.header("x-refuse"):
            raise Refused("no")
        if request.header("x-break"):
            raise KeyError("bug")
        return HttpResponse(202, "application/json", {"ok": True}, {"Retry-After": "1"})

    @app.post("/otp/verify")
    def verify(request: Request) -> dict[str, Any]:
        return {"valid": True, "requestId": app.current.request_id}

    @app.exception_handler(ValueError)
    def value_error(exc: ValueError) -> HttpResponse:
        return HttpResponse(400, "application/problem+json", "value")

    @app.exception_handler(Refused)
    def refused(exc: Refused) -> HttpResponse:
        return HttpResponse(429, "application/problem+json", "refused")

    @app.not_found
    def missing() -> HttpResponse:
        return HttpResponse(404, "application/problem+json", "missing")

    return app


def test_a_route_answers_a_rest_proxy_result() -> None:
    result = router().resolve(rest_api_event("POST", "/otp", {}), LambdaContext())
    assert result == {
        "statusCode": 202,
        "multiValueHeaders": {"Content-Type": ["application/json"], "Retry-After": ["1"]},
        "body": '{"ok":true}',
        "isBase64Encoded": False,
    }


def test_a_dict_is_a_200_json_answer_and_the_current_request_is_the_one_handled() -> None:
    event = rest_api_event("POST", "/otp/verify", {})
    result = router().resolve(event, LambdaContext())
    assert result["statusCode"] == 200
    request_id = event["requestContext"]["requestId"]
    assert result["body"] == '{"valid":true,"requestId":"' + request_id + '"}'


def test_other_methods_and_resources_are_not_found() -> None:
    app = router()
    for method, path in [("GET", "/otp"), ("POST", "/otp/resend"), ("post", "/nothing")]:
        assert app.resolve(rest_api_event(method, path, {}), LambdaContext())["body"] == "missing"


def test_the_most_specific_exception_handler_answers_and_headers_ignore_case() -> None:
    app = router()
    refused = app.resolve(rest_api_event("POST", "/otp", {}, headers={"X-REFUSE": "1"}), LambdaContext())
    assert (refused["statusCode"], refused["body"]) == (429, "refused")


def test_an_exception_without_a_handler_is_raised() -> None:
    app = router()
    event = rest_api_event("POST", "/otp", {}, headers={"x-break": "1"})
    try:
        app.resolve(event, LambdaContext())
    except KeyError:
        pass
    else:
        raise AssertionError("an unhandled exception must reach the caller")


def test_concurrent_invocations_each_see_their_own_request() -> None:
    # Given many threads resolving at once (the sandbox serves requests from threads)
    app = router()
    seen: dict[str, str] = {}

    def call(index: int) -> None:
        event = rest_api_event("POST", "/otp/verify", {})
        event["requestContext"]["requestId"] = f"r-{index}"
        seen[f"r-{index}"] = app.resolve(event, LambdaContext())["body"]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each answer names its own request
    assert all(f'"requestId":"{request_id}"' in body for request_id, body in seen.items())


def test_on_request_sees_every_request_before_it_is_routed_even_unknown_ones() -> None:
    # Given a router that records what its hook saw
    seen: list[str | None] = []
    app = RestRouter(on_request=lambda request: seen.append(request.request_id))
    events = [rest_api_event("POST", "/otp", {}), rest_api_event("GET", "/nowhere", None)]
    # When a routed and an unknown request are resolved
    results = [app.resolve(event, LambdaContext())["statusCode"] for event in events]
    # Then the hook saw both, in order, with their own ids
    assert results == [404, 404]
    assert seen == [event["requestContext"]["requestId"] for event in events]
