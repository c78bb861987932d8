"""The Cognito custom-auth triggers, each run as Lambda runs its function: cold and warm.

A sign-in after an idle period may pay three cold starts inside Cognito's 5-second limit: InitiateAuth
runs Define then Create, RespondToAuthChallenge runs Verify then Define. Each trigger is its own function
with its own environment (read from the synthesized stack: protection on, the stack's tracing, the
deployment secret for Create only), started from the built asset (bench/asset.py) in a fresh interpreter
(bench/trigger_child.py) and handling one event as Cognito sends it, against the sandbox.

Cold: each trigger's first answer against the same bare-boto3 baseline as the API (``import boto3`` and a
Pinpoint client), in the same rotation (bench/cold.py). ``trigger_cold`` is the worst of the three ratios.
Warm: in a process per trigger, the trigger against the bare boto3 call doing its engine work, alternating
blocks; the sign-in's two steps are compared with that work: InitiateAuth (Define + Create) with a bare
``send_otp_message``, RespondToAuthChallenge (Verify + Define) with a bare ``verify_otp_message``.
``trigger_warm_p50`` is the worse of the two (the sum of the triggers' medians over the bare call's).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.endpoint import Endpoint
from bench.stats import median, percentile

CHILD: Final = Path(__file__).resolve().parent / "trigger_child.py"


@dataclass(frozen=True)
class Trigger:
    name: str  # define, create, verify (bench/trigger_child.py)
    function: str  # the stack's function id (infra.functions)
    handler: str


TRIGGERS: Final = (
    Trigger("define", "DefineAuthChallenge", "otp.handlers.cognito.define_auth_challenge"),
    Trigger("create", "CreateAuthChallenge", "otp.handlers.cognito.create_auth_challenge"),
    Trigger("verify", "VerifyAuthChallenge", "otp.handlers.cognito.verify_auth_challenge"),
)
#: What the benchmark changes of the stack's environment (the work stays the same): thousands of sends
#: in minutes are charged to the account-wide send budget, which must not refuse them; Verify answers
#: codes Create sent before the rotation started, which on a loaded machine can take longer than the
#: default 5 minutes of validity; and thousands of codes nobody enters, to a few number ranges, are what
#: the adaptive defence blocks: it judges a range only after 100,000 codes in an hour here, so it still
#: reads and counts every send and verification (the same work) but never suspends one.
#: The sign-in floor (``OTP_SIGN_IN_FLOOR_MS``, 150 ms by default) is a deliberate wait: every Create or
#: Verify round that sends or checks a code lasts at least that long (plus up to 4 ms drawn at random), so
#: that timing does not tell registered numbers apart. It is 0 here so that the trigger rows time the
#: triggers' own work; the table states the deployed floor apart (:func:`deployed_floor_ms`).
BENCH_OVERRIDES: Final = {
    "OTP_SEND_BUDGET_PER_HOUR": "1000000",
    "OTP_SEND_BUDGET_PER_DAY": "10000000",
    "OTP_VALIDITY_MINUTES": "60",
    "OTP_ADAPTIVE_MIN_SENDS": "100000",
    "OTP_SIGN_IN_FLOOR_MS": "0",
}
FLOOR_VARIABLE: Final = "OTP_SIGN_IN_FLOOR_MS"


def deployed_floor_ms(variables: dict[str, Any]) -> int:
    """The sign-in floor the stack gives a trigger: its variable, or the option's default when the stack
    leaves it out (the functions' environment holds only values that are not the default)."""
    if FLOOR_VARIABLE in variables:
        return int(variables[FLOOR_VARIABLE])
    from otp.options.declaration import by_env_name
    from otp.options.schema import OtpOptions

    default: int = by_env_name(OtpOptions)[FLOOR_VARIABLE].default
    return default


def create_secret(endpoint: Endpoint) -> str:
    """The deployment secret, in the sandbox (as the stack generates one); Create reads it at init."""
    import secrets

    import boto3

    client = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name = f"otp-bench-{secrets.token_hex(4)}"
    arn: str = client.create_secret(Name=name, SecretString=secrets.token_urlsafe(48))["ARN"]
    return arn


def child_command(*args: str) -> list[str]:
    return [sys.executable, "-P", str(CHILD), *args]


def prepare_challenges(env: dict[str, str], numbers: Iterator[str], count: int) -> list[dict[str, Any]]:
    """``count`` first-round challenges made by Create (a process with Create's environment), each with
    the code it sent: the right answers Verify is given."""
    chosen = [next(numbers) for _ in range(count)]
    found = subprocess.run(
        child_command("prepare", *chosen), env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if found.returncode != 0:
        raise RuntimeError(f"preparing Verify's challenges failed:\n{found.stderr}")
    challenges: list[dict[str, Any]] = json.loads(found.stdout.strip().splitlines()[-1])
    return challenges


@dataclass(frozen=True)
class WarmTrigger:
    name: str
    seconds: list[float]
    bare_seconds: list[float]  # empty for Define: it calls nothing

    @property
    def p50(self) -> float:
        return median(self.seconds)

    @property
    def p99(self) -> float:
        return percentile(self.seconds, 99)

    @property
    def bare_p50(self) -> float:
        return median(self.bare_seconds)


def measure_warm(
    envs: dict[str, dict[str, str]], numbers: Iterator[str], calls: int
) -> dict[str, WarmTrigger]:
    """Each trigger warm in a process of its own; Verify answers challenges Create made beforehand."""
    from bench.trigger_child import WARMUP

    needed = calls + WARMUP
    found: dict[str, WarmTrigger] = {}
    with tempfile.TemporaryDirectory(prefix="otp-bench-triggers-") as temp:
        for trigger in TRIGGERS:
            challenges = (
                prepare_challenges(envs["create"], numbers, needed) if trigger.name == "verify" else []
            )
            spec = Path(temp) / f"{trigger.name}.json"
            own = [next(numbers) for _ in range(2 * needed)]
            spec.write_text(json.dumps({"numbers": own, "challenges": challenges}), encoding="utf-8")
            result = subprocess.run(
                child_command("warm", trigger.name, str(calls), str(spec)),
                env=envs[trigger.name],
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"warm {trigger.name} failed:\n{result.stderr}")
            times = json.loads(result.stdout.strip().splitlines()[-1])
            found[trigger.name] = WarmTrigger(trigger.name, times["trigger"], times.get("bare", []))
    return found


def warm_step_ratios(warm: dict[str, WarmTrigger]) -> dict[str, float]:
    """InitiateAuth and RespondToAuthChallenge, warm: the triggers' p50s over the bare call's p50."""
    define, create, verify = warm["define"], warm["create"], warm["verify"]
    return {
        "initiate_auth": (define.p50 + create.p50) / create.bare_p50,
        "respond_to_auth_challenge": (verify.p50 + define.p50) / verify.bare_p50,
    }
