"""The README's quick start, command by command, against ``make run`` on each engine.

The curl commands are read from the README itself (between its quickstart snippet markers: the docs
site's home page includes those lines, so both show this one tested copy) and sent as curl would send
them, with the sandbox's free ports in place of 3000 and 4566; each documented answer
(``# → 202 {...}``) is compared with the real one. So the quick start cannot drift from what the sandbox
does: on End User Messaging all five steps work (step 4 asks for a call, step 5 shows it in the
outbox); on Pinpoint the first three do, and step 4 is the 400 the README says it is.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

from tests.doc_pages import README
from tests.sandbox_harness import HttpAnswer, RunningSandbox, http_call

# The snippet markers around the quick start: docs/index.md includes exactly these lines.
_START, _END = "<!-- --8<-- [start:quickstart] -->", "<!-- --8<-- [end:quickstart] -->"
_ANSWER = re.compile(r"^# → (\d{3}) (\{.*\})$")
_SEEN_CODE = "123456"  # the README's placeholder for the code the outbox shows


@dataclass
class Step:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    documented_status: int | None
    documented_body: dict[str, Any] | None


def quick_start_steps() -> list[Step]:
    """Every curl command of the README's quick start, with the answer documented under it."""
    text = README.read_text(encoding="utf-8")
    section = text.split(_START, 1)[1].split(_END, 1)[0]
    lines = [line for block in re.findall(r"```bash\n(.*?)```", section, re.S) for line in block.splitlines()]
    steps: list[Step] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("curl "):
            command = line
            while command.endswith("\\"):
                command = command[:-1] + lines[index]
                index += 1
            steps.append(_parse_curl(shlex.split(command)))
        elif (answer := _ANSWER.match(line)) and steps:
            steps[-1].documented_status = int(answer.group(1))
            steps[-1].documented_body = json.loads(answer.group(2))
    return steps


def _parse_curl(words: list[str]) -> Step:
    method, url, headers, body = "GET", "", {}, None
    rest = iter(words[1:])
    for word in rest:
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, value = next(rest).split(":", 1)
            headers[name.strip()] = value.strip()
        elif word == "-d":
            body = next(rest)
            method = "POST" if method == "GET" else method
        elif word.startswith("http"):
            url = word
    return Step(method, url, headers, body, None, None)


def run(step: Step, sandbox: RunningSandbox, code: str | None = None) -> HttpAnswer:
    """The step as curl sends it, to the sandbox's own ports, with the real code for the placeholder."""
    url = step.url.replace("http://127.0.0.1:3000", sandbox.api_url).replace(
        "http://127.0.0.1:4566", sandbox.aws_url
    )
    body = step.body
    if body is not None and code is not None:
        body = body.replace(_SEEN_CODE, code)
    data = body.encode() if body is not None else None
    return http_call(step.method, url, data, step.headers)


def assert_as_documented(answer: HttpAnswer, step: Step) -> None:
    assert step.documented_status is not None
    assert step.documented_body is not None
    assert answer.status == step.documented_status, answer.body
    assert set(answer.body) == set(step.documented_body)
    for name, value in step.documented_body.items():
        if value != "...":
            assert answer.body[name] == value, name


def test_the_readme_has_the_five_steps() -> None:
    steps = quick_start_steps()
    assert [(s.method, s.url.rsplit("/", 2)[-1]) for s in steps] == [
        ("POST", "otp"),
        ("GET", "messages"),
        ("POST", "verify"),
        ("POST", "otp"),
        ("GET", "messages?channel=VOICE"),
    ]
    assert json.loads(steps[3].body or "{}")["channel"] == "VOICE"


def test_the_quick_start_works_as_written_on_each_engine(engine_sandbox: RunningSandbox) -> None:
    sandbox = engine_sandbox
    send, outbox, verify, call, calls = quick_start_steps()
    # Given a sandbox where no limit from earlier tests applies to the README's numbers (the sandbox is
    # shared by a worker's tests: what they sent stays in the outbox, so answers are filtered below)
    sandbox.advance_clock(86_400)

    # 1. A code is asked for: the documented 202
    assert_as_documented(run(send, sandbox), send)
    # 2. The outbox shows the SMS with its code
    [sms] = [m for m in run(outbox, sandbox).body["messages"] if m["referenceId"] == "quickstart-1"]
    assert sms["body"] == f"This is your One Time Password: {sms['code']} from Sandbox"
    # 3. That code verifies
    assert_as_documented(run(verify, sandbox, code=sms["code"]), verify)

    # 4. A call is asked for
    answer = run(call, sandbox)
    if sandbox.ready["engine"] == "pinpoint":
        # Then, on Pinpoint, the 400 the README's comment names, and nothing in the outbox
        assert (answer.status, answer.body["field"]) == (400, "channel")
        assert [m for m in run(calls, sandbox).body["messages"] if m["referenceId"] == "quickstart-2"] == []
        return
    assert_as_documented(answer, call)
    # 5. The call is in the outbox, speaking its code, and that code verifies as in step 3
    listed = run(calls, sandbox).body["messages"]
    assert {m["channel"] for m in listed} == {"VOICE"}
    [spoken] = [m for m in listed if m["referenceId"] == "quickstart-2"]
    assert spoken["destination"] == "+12065550110"
    assert spoken["body"] == (
        f"Your Sandbox verification code is {spoken['code']}. Again, your code is {spoken['code']}."
    )
    verified = sandbox.api(
        "POST",
        "/v1/otp/verify",
        {"phoneNumber": "+12065550110", "referenceId": "quickstart-2", "code": spoken["code"]},
    )
    assert verified.body == {"valid": True}
