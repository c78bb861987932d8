"""The Cognito triggers in a fresh interpreter, run as a script by bench/triggers.py.

Each trigger is its own Lambda function, so each runs in its own process with its own function's
environment (bench/asset.py reads it from the synthesized stack). Events are shaped as Cognito sends them
(the sandbox's ``local.cognito_triggers`` builds the same ones): a sign-in's first round, as InitiateAuth
runs Define then Create, and the right answer, as RespondToAuthChallenge runs Verify.

``cold define`` / ``cold create <number>`` / ``cold verify <challenge-json>``: import the trigger's module
and handle one event (exit 0 when the answer is the expected one); the last line on stderr is when that
was done (``time.monotonic_ns()``) and the peak RSS, as bench/cold_child.py reports.
``prepare <number> ...``: run Create for each number and print, one JSON line, the private challenge
parameters and the code each sent (read from the sandbox), for Verify to answer.
``warm <trigger> <calls> <challenges-file>``: the trigger warm, against the bare boto3 call that does the
same engine work (Create: send_otp_message; Verify: verify_otp_message of a code just sent; Define has
none), in alternating blocks; prints the per-call seconds of each side as one JSON line.
"""

import json
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_pinpoint.type_defs import VerifyOTPMessageRequestParametersTypeDef

# Only what bench/cold_child.py imports too, before the work: the rest (urllib) when it is done.
#: The repository, for ``bench.cold_child``: put on the path only after a cold start's work is done (run
#: with ``-P``, the child's search path is the asset's, as on Lambda).
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

POOL_ID = "us-east-1_bench"
CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"
HANDLERS = {
    "define": "define_auth_challenge",
    "create": "create_auth_challenge",
    "verify": "verify_auth_challenge",
}
SOURCES = {
    "define": "DefineAuthChallenge_Authentication",
    "create": "CreateAuthChallenge_Authentication",
    "verify": "VerifyAuthChallengeResponse_Authentication",
}
BLOCK = 25
WARMUP = 20


class _Context:
    memory_limit_in_mb = 256
    aws_request_id = "bench-trigger"

    def __init__(self) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "otp-trigger")
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 5_000  # Cognito gives a trigger 5 seconds


def _attributes(number: str) -> dict[str, str]:
    return {
        "sub": "0b5c6f4e-2a8d-4c4e-9a43-6f3c2b1d9e10",
        "cognito:user_status": "CONFIRMED",
        "phone_number": number,
        "phone_number_verified": "true",
    }


def event(trigger: str, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": POOL_ID,
        "userName": "bench-user",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": CLIENT_ID},
        "triggerSource": SOURCES[trigger],
        "request": request,
        "response": {},
    }


def define_event(number: str = "+12065550100") -> dict[str, Any]:
    """InitiateAuth's first call: a fresh session."""
    return event("define", {"userAttributes": _attributes(number), "session": [], "userNotFound": False})


def create_event(number: str) -> dict[str, Any]:
    """InitiateAuth's second call: the first round's challenge, which sends a code."""
    request = {
        "userAttributes": _attributes(number),
        "challengeName": "CUSTOM_CHALLENGE",
        "session": [],
        "userNotFound": False,
    }
    return event("create", request)


def verify_event(challenge: dict[str, Any]) -> dict[str, Any]:
    """RespondToAuthChallenge's first call: the right code for the challenge Create made."""
    request = {
        "userAttributes": _attributes(challenge["number"]),
        "privateChallengeParameters": challenge["private"],
        "challengeAnswer": challenge["code"],
        "userNotFound": False,
    }
    return event("verify", request)


def _handler(trigger: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from otp.handlers import cognito

    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(cognito, HANDLERS[trigger])
    return handler


def _checked(trigger: str, answer: dict[str, Any]) -> dict[str, Any]:
    response = answer["response"]
    ok = {
        "define": response.get("challengeName") == "CUSTOM_CHALLENGE",
        "create": bool((response.get("privateChallengeParameters") or {}).get("referenceId")),
        "verify": response.get("answerCorrect") is True,
    }[trigger]
    if not ok:
        raise RuntimeError(f"{trigger} answered {response}")
    return answer


def code_for(reference_id: str) -> str:
    """The live code for a reference, where the sandbox serves it (as LocalStack does)."""
    import urllib.parse
    import urllib.request

    application = urllib.parse.quote(os.environ["PINPOINT_APPLICATION_ID"], safe="")
    reference = urllib.parse.quote(reference_id, safe="")
    url = f"{os.environ['AWS_ENDPOINT_URL']}/_aws/pinpoint/{application}/{reference}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        code: str = json.loads(answer.read())["Code"]
    return code


def prepare(numbers: list[str]) -> list[dict[str, Any]]:
    create = _handler("create")
    challenges = []
    for number in numbers:
        answer = _checked("create", create(create_event(number), _Context()))
        private = answer["response"]["privateChallengeParameters"]
        challenges.append({"number": number, "private": private, "code": code_for(private["referenceId"])})
    return challenges


def cold(trigger: str, argument: str | None) -> dict[str, Any]:
    if trigger == "define":
        request = define_event()
    elif trigger == "create":
        request = create_event(str(argument))
    else:
        request = verify_event(json.loads(str(argument)))
    return _checked(trigger, _handler(trigger)(request, _Context()))


# ------------------------------------------------------------------------------------------------ warm


def _bare(trigger: str, numbers: list[str]) -> Callable[[int], Callable[[], None]] | None:
    """A preparer for the bare boto3 call doing the trigger's engine work: each call prepares one request
    (outside the timing) and returns the timed call."""
    if trigger == "define":
        return None
    import boto3

    from bench.cold_child import params

    client = boto3.client("pinpoint")
    application = os.environ["PINPOINT_APPLICATION_ID"]

    def send(number: str, reference: str) -> None:
        parameters = dict(params(number), ReferenceId=reference)
        response = client.send_otp_message(
            ApplicationId=application,
            SendOTPMessageRequestParameters=parameters,  # type: ignore[arg-type]
        )
        if response["MessageResponse"]["Result"][number]["DeliveryStatus"] != "SUCCESSFUL":
            raise RuntimeError("bare send_otp_message was not delivered")

    def prepare_send(index: int) -> Callable[[], None]:
        number = numbers[index]
        return lambda: send(number, f"bench-bare-send-{index:08d}")

    def prepare_verify(index: int) -> Callable[[], None]:
        number, reference = numbers[index], f"bench-bare-verify-{index:08d}"
        send(number, reference)
        code = code_for(reference)
        request: VerifyOTPMessageRequestParametersTypeDef = {
            "DestinationIdentity": number,
            "Otp": code,
            "ReferenceId": reference,
        }

        def verify() -> None:
            answer = client.verify_otp_message(
                ApplicationId=application, VerifyOTPMessageRequestParameters=request
            )
            if not answer["VerificationResponse"].get("Valid"):
                raise RuntimeError("bare verify_otp_message: the code was not valid")

        return verify

    return prepare_send if trigger == "create" else prepare_verify


def warm(
    trigger: str, calls: int, numbers: list[str], challenges: list[dict[str, Any]]
) -> dict[str, list[float]]:
    handler = _handler(trigger)
    context = _Context()

    references: list[str] = []

    def prepare_trigger(index: int) -> Callable[[], None]:
        if trigger == "define":
            request = define_event()
        elif trigger == "create":
            request = create_event(numbers[index])
        else:
            request = verify_event(challenges[index])

        def call() -> None:
            answer = _checked(trigger, handler(request, context))
            if trigger == "create":
                references.append(answer["response"]["privateChallengeParameters"]["referenceId"])

        return call

    sides: dict[str, Callable[[int], Callable[[], None]]] = {"trigger": prepare_trigger}
    bare = _bare(trigger, numbers[len(numbers) // 2 :])
    if bare is not None:
        sides["bare"] = bare
    times: dict[str, list[float]] = {name: [] for name in sides}
    used = dict.fromkeys(sides, 0)
    clock = time.perf_counter

    def run(name: str, count: int, into: list[float]) -> None:
        for _ in range(count):
            call = sides[name](used[name])
            used[name] += 1
            started = clock()
            call()
            into.append(clock() - started)

    for name in sides:
        run(name, WARMUP, [])
    done = 0
    while done < calls:
        block = min(BLOCK, calls - done)
        for name in sides:
            run(name, block, times[name])
        done += block
    for reference in references:
        code_for(reference)  # raises unless a code went out: Create did send each time
    return times


def _quiet() -> None:
    """The triggers' log lines go to stdout in Lambda; here to /dev/null (formatting them still counts)."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process


def main(argv: list[str]) -> int:
    mode = argv[1]
    if mode == "cold":
        answer = cold(argv[2], argv[3] if len(argv) > 3 else None)
        done = time.monotonic_ns()
        sys.path.append(REPO)
        from bench.cold_child import peak_rss_kib

        peak = peak_rss_kib()
        if argv[2] == "create":  # after the timing: a code did go out
            code_for(answer["response"]["privateChallengeParameters"]["referenceId"])
        sys.stderr.write(f"\n{done} {peak}\n")
        return 0
    sys.path.append(REPO)
    out = sys.stdout
    _quiet()
    if mode == "prepare":
        out.write(json.dumps(prepare(argv[2:])) + "\n")
    else:
        with open(argv[4], encoding="utf-8") as spec_file:
            spec = json.load(spec_file)
        trigger, calls = argv[2], int(argv[3])
        found = warm(trigger, calls, spec["numbers"], spec["challenges"])
        out.write(json.dumps(found) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
