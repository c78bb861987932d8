"""One load-test client of the sandbox API, used by one thread."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    status: int  # 0: no HTTP answer at all (connection failed)
    seconds: float
    number: str
    reference_id: str = ""
    valid: bool | None = None  # verifications: what the API said
    expect_valid: bool | None = None
    problem: str = ""  # an error's problem type and detail


class ApiClient:
    """A new connection per request, and no retries: a POST that failed half-way may still have sent an
    SMS, and retrying it would make the test count a duplicate that the service never made."""

    def __init__(self, api_url: str) -> None:
        parsed = urllib.parse.urlsplit(api_url)
        self._host, self._port = parsed.hostname or "127.0.0.1", parsed.port or 80

    def _post(self, path: str, body: dict[str, Any]) -> tuple[int, Any, float]:
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Connection": "close"}
        started = time.monotonic()
        connection = http.client.HTTPConnection(self._host, self._port, timeout=35)
        try:
            connection.request("POST", path, payload, headers)
            response = connection.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, time.monotonic() - started
        except (OSError, http.client.HTTPException):
            return 0, None, time.monotonic() - started
        finally:
            connection.close()

    def send(self, number: str) -> Outcome:
        status, body, seconds = self._post("/v1/otp", {"phoneNumber": number})
        reference = body.get("referenceId", "") if status == 202 and isinstance(body, dict) else ""
        return Outcome(status, seconds, number, reference, problem=_problem(status, body))

    def verify(self, check: tuple[str, str, str, bool]) -> Outcome:
        number, reference, code, right = check
        answer = code if right else f"{(int(code or 0) + 1) % 1_000_000:06d}"
        body = {"phoneNumber": number, "referenceId": reference, "code": answer}
        status, reply, seconds = self._post("/v1/otp/verify", body)
        valid = reply.get("valid") if status == 200 and isinstance(reply, dict) else None
        return Outcome(status, seconds, number, reference, valid, right, _problem(status, reply))


def _problem(status: int, body: Any) -> str:
    if status < 400 or not isinstance(body, dict):
        return ""
    return f"{body.get('type', '')}: {body.get('detail', '')}"
