"""One cold start, run as a script in a fresh interpreter by bench/cold.py (bench/warm.py reuses params).

``handler <number>``: import the API handler and process its first POST /otp, exit 0 on a 202.
``baseline``: import boto3 and create a Pinpoint client: the bare alternative the issue compares to.
``bare-call <number>``: the baseline plus one send_otp_message, to show what the first call costs.

Only the standard library is imported here beyond what each side needs. The last line on stderr is
``time.monotonic_ns()`` when the work was done and the process's peak RSS (VmHWM, KiB). The parent
measures time from spawn to that moment, because a Lambda container stays alive after its first
invocation and never pays for interpreter shutdown. The peak RSS is read here rather than from the
parent's ``wait4``: Linux folds the parent's own peak into a vforked child's ``ru_maxrss`` at exec.
"""

import json
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_pinpoint.type_defs import SendOTPMessageRequestParametersTypeDef


class _Context:
    function_name = "otp-api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:otp-api"
    aws_request_id = "bench-cold-start"

    def get_remaining_time_in_millis(self) -> int:
        return 20_000


def _event(number: str) -> dict[str, object]:
    headers = {"Content-Type": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com"}
    return {
        "resource": "/otp",
        "path": "/otp",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": "bench-cold-start",
            "stage": "v1",
            "resourcePath": "/otp",
            "httpMethod": "POST",
            "path": "/v1/otp",
            "identity": {"sourceIp": "203.0.113.10"},
        },
        "body": json.dumps({"phoneNumber": number}),
        "isBase64Encoded": False,
    }


def handler(number: str) -> int:
    from otp.handlers.api import lambda_handler

    response = lambda_handler(_event(number), _Context())
    if response["statusCode"] != 202:  # say why: a refusal here means the benchmark measures nothing
        sys.stderr.write(f"POST /otp answered {response['statusCode']}: {str(response.get('body'))[:400]}\n")
        return 3
    return 0


def baseline() -> int:
    import boto3

    boto3.client("pinpoint")
    return 0


def bare_call(number: str, application_id: str) -> int:
    import boto3

    client = boto3.client("pinpoint")
    response = client.send_otp_message(
        ApplicationId=application_id, SendOTPMessageRequestParameters=params(number)
    )
    status = response["MessageResponse"]["Result"][number]["DeliveryStatus"]
    return 0 if status == "SUCCESSFUL" else 3


def params(number: str) -> "SendOTPMessageRequestParametersTypeDef":
    """Every parameter the handler sends, with its default values: both sides ask for the same work."""
    return {
        "AllowedAttempts": 3,
        "BrandName": "Bench",
        "Channel": "SMS",
        "CodeLength": 6,
        "DestinationIdentity": number,
        "Language": "en-US",
        "OriginationIdentity": "+12065550199",
        "ReferenceId": "bench-0123456789abcdefghijklmnop",
        "ValidityPeriod": 5,
    }


def main(argv: list[str]) -> int:
    mode = argv[1]
    if mode == "handler":
        code = handler(argv[2])
    elif mode == "baseline":
        code = baseline()
    else:
        code = bare_call(argv[2], argv[3])
    done = time.monotonic_ns()
    sys.stderr.write(f"\n{done} {peak_rss_kib()}\n")
    return code


def peak_rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
