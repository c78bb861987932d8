"""Registered and unknown numbers are told apart neither by the challenge nor by timing (issue 20).

Against a sandbox of its own, with stock boto3, for each of ``SIGN_IN_TIMING_SAMPLES`` registered
numbers and as many unknown ones, it times:

- the first round (``InitiateAuth``),
- a wrong code, then a malformed answer (``RespondToAuthChallenge``, in the same sign-in),
- a refused round (``InitiateAuth`` again within the cooldown: for a registered number the send is
  refused before any engine call; an unknown number gets its decoy again),
- after 100 requests an attacker chose (malformed and wrong answers on an account of their own, meant
  to teach the service that answers are fast), a wrong code on fresh numbers of both kinds.

The two populations are measured round by round, interleaved: a registered number and an unknown one
go through their sign-ins side by side, and each round is timed for both, one right after the other, in
a random order drawn per round. Whatever the machine does meanwhile (the suite's other tests, other
processes' bursts, a slow minute) lands on both populations alike instead of on one block of samples;
measuring one whole sign-in and then the other put seconds between the two samples of a pair. One
pair runs first untimed, so that neither population pays the sandbox's first-use costs (imports, the
engine's client), which only the first real round would.

For each, the medians and a two-sided Mann-Whitney U test. ``make timing-test`` runs 200 samples each
and asserts what issue 20 asks (medians within 1 ms, p >= 0.01); the suite's short run (10 each) asserts
looser bounds fitted to its size (a real leak, such as a malformed answer refused in 3 ms against a
decoy's 15, fails it by far), and that every challenge has the same parameters, ``USERNAME`` included.
"""

from __future__ import annotations

import math
import os
import random
import re
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from local.cognito_users import create_sign_in_user
from otp.domain.phone import parse_phone_number
from tests.sandbox_harness import RunningSandbox, aws_client, running_sandbox

SAMPLES = int(os.environ.get("SIGN_IN_TIMING_SAMPLES", "10"))
FULL = SAMPLES >= 100
# The sandbox's floor (signInFloorMs). It must exceed what the sandbox's real work takes on this machine
# (moto's DynamoDB is far slower than DynamoDB): a real first round's work takes about 50 ms on a quiet
# machine, up to half a second when the suite runs on two shared cores, so the suite's short run waits
# 800 ms. The full run (make timing-test) measures the default, 150 ms; the threat model has its figures.
FLOOR_MS = int(os.environ.get("SIGN_IN_TIMING_FLOOR_MS", "150" if FULL else "800"))
# The full run asserts issue 20's bounds; the short one allows for its size (the standard error of a
# median of 20 samples is a few milliseconds under the suite's load).
MEDIAN_WITHIN_MS = 1.0 if FULL else 6.0
P_AT_LEAST = 0.01 if FULL else 0.001
ATTACKER_REQUESTS = 100
WRONG = "000000"
MALFORMED = "abcdef"

pytestmark = pytest.mark.slow


def mann_whitney_u(first: Sequence[float], second: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, ties corrected, continuity
    corrected): the probability of a difference at least this large if both came from one distribution."""
    n1, n2 = len(first), len(second)
    pooled = sorted([(value, 0) for value in first] + [(value, 1) for value in second])
    ranks = [0.0] * len(pooled)
    ties = 0.0
    index = 0
    while index < len(pooled):
        end = index
        while end + 1 < len(pooled) and pooled[end + 1][0] == pooled[index][0]:
            end += 1
        rank = (index + end) / 2 + 1
        for position in range(index, end + 1):
            ranks[position] = rank
        count = end - index + 1
        ties += count**3 - count
        index = end + 1
    rank_sum = sum(rank for rank, (_, group) in zip(ranks, pooled, strict=True) if group == 0)
    u = rank_sum - n1 * (n1 + 1) / 2
    n = n1 + n2
    mean = n1 * n2 / 2
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = max(abs(u - mean) - 0.5, 0) / math.sqrt(variance)
    return math.erfc(z / math.sqrt(2))


def test_mann_whitney_u_agrees_with_known_values() -> None:
    # Identical samples: no evidence of a difference
    assert mann_whitney_u([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    # Fully separated samples of 10: scipy.stats.mannwhitneyu(..., method="asymptotic") gives 0.000182
    assert mann_whitney_u(list(range(10)), list(range(10, 20))) == pytest.approx(0.000182, rel=0.02)
    # A shift of a tenth of the spread over 200 samples each is not significant; of one spread, it is
    rng = random.Random(1)
    base = [rng.gauss(0, 1) for _ in range(200)]
    assert mann_whitney_u(base, [rng.gauss(0.1, 1) for _ in range(200)]) > 0.01
    assert mann_whitney_u(base, [rng.gauss(1, 1) for _ in range(200)]) < 1e-6


def fresh_number() -> str:
    value = uuid.uuid4().int
    exchange = 200 + value % 799
    exchange += exchange >= 555
    return f"+1206{exchange}{value // 799 % 10000:04d}"


@pytest.fixture(scope="module")
def timing_sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox({"OTP_SIGN_IN_FLOOR_MS": str(FLOOR_MS)}) as sandbox:
        yield sandbox


class SignIn:
    def __init__(self, sandbox: RunningSandbox) -> None:
        self.cognito = aws_client("cognito-idp", sandbox.aws_url)
        health = sandbox.health().body
        self.pool_id, self.client_id = health["userPoolId"], health["userPoolClientId"]

    def register(self) -> str:
        number = fresh_number()
        create_sign_in_user(self.cognito, self.pool_id, number)
        return number

    def start(self, number: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.cognito.initiate_auth(
            ClientId=self.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": number}
        )
        return answer

    def answer(self, number: str, challenge: dict[str, Any], text: str) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self.cognito.respond_to_auth_challenge(
                ClientId=self.client_id,
                ChallengeName="CUSTOM_CHALLENGE",
                Session=challenge["Session"],
                ChallengeResponses={"USERNAME": number, "ANSWER": text},
            )
        except self.cognito.exceptions.NotAuthorizedException:
            return {}
        return answer


def timed(action: Callable[[], dict[str, Any]]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


SCENARIOS = ("first round", "wrong code", "malformed answer", "refused round", "wrong code after 100")


def shape(parameters: dict[str, str], number: str) -> dict[str, Any]:
    """What a challenge shows, with the per-session ticket reduced to its form."""
    ticket = parameters.get("OTP_DEVICE_TICKET", "")
    return {
        **{k: v for k, v in parameters.items() if k != "OTP_DEVICE_TICKET"},
        "OTP_DEVICE_TICKET": (len(ticket), bool(re.fullmatch(r"[A-Za-z0-9_-]+", ticket))),
        "USERNAME is the number typed": parameters.get("USERNAME") == number,
        "CODE_DELIVERY_DESTINATION is the number masked": parameters.get("CODE_DELIVERY_DESTINATION")
        == parse_phone_number(number, ["US"]).masked,
    }


@pytest.mark.timeout(600 + SAMPLES * 30 * FLOOR_MS // 1000)
def test_registered_and_unknown_numbers_look_and_take_the_same(timing_sandbox: RunningSandbox) -> None:
    sign_in = SignIn(timing_sandbox)
    rng = random.Random(20)
    times: dict[str, dict[bool, list[float]]] = {s: {True: [], False: []} for s in SCENARIOS}

    def play(scenario: str, number: str, registered: bool, challenges: dict[bool, dict[str, Any]]) -> float:
        """One round of one number's sign-in, timed; a challenge it is answered with is kept for the next."""
        if scenario in ("first round", "refused round"):
            elapsed, answer = timed(lambda: sign_in.start(number))
        else:
            text = WRONG if scenario == "wrong code" else MALFORMED
            elapsed, answer = timed(lambda: sign_in.answer(number, challenges[registered], text))
        if scenario == "first round":
            shapes[registered].append(shape(answer["ChallengeParameters"], number))
        if scenario == "wrong code":
            assert "AuthenticationResult" not in answer
        if scenario in ("first round", "wrong code"):
            challenges[registered] = answer
        return elapsed

    def pair(*, record: bool) -> None:
        """A registered number and an unknown one side by side: each round timed for both, one right
        after the other, in an order drawn per round."""
        numbers = {True: sign_in.register(), False: fresh_number()}
        challenges: dict[bool, dict[str, Any]] = {}
        for scenario in SCENARIOS[:4]:
            for registered in rng.sample([True, False], 2):
                elapsed = play(scenario, numbers[registered], registered, challenges)
                if record:
                    times[scenario][registered].append(elapsed)

    # Given registered numbers and unknown ones, side by side, after one untimed pair
    shapes: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    pair(record=False)
    for _ in range(SAMPLES):
        pair(record=True)

    # and then an attacker's 100 requests on accounts of their own, ten at a time: fast refusals and
    # wrong codes, meant to teach the service that answers are quick
    def attack(requests: int) -> None:
        own, sent = sign_in.register(), 0
        while sent < requests:
            challenge = sign_in.start(own)
            sent += 1
            while challenge and sent < requests:
                challenge = sign_in.answer(own, challenge, MALFORMED if sent % 4 else WRONG)
                sent += 1

    attackers = [threading.Thread(target=attack, args=(ATTACKER_REQUESTS // 10,)) for _ in range(10)]
    for attacker in attackers:
        attacker.start()
    for attacker in attackers:
        attacker.join()
    for _ in range(SAMPLES):
        numbers = {True: sign_in.register(), False: fresh_number()}
        challenges = {registered: sign_in.start(number) for registered, number in numbers.items()}
        for registered in rng.sample([True, False], 2):
            times["wrong code after 100"][registered].append(
                play("wrong code", numbers[registered], registered, challenges)
            )

    # Then every challenge showed the same parameters, USERNAME included (the number typed)
    per_number = ("USERNAME", "CODE_DELIVERY_DESTINATION")
    forms = {
        registered: [{k: v for k, v in s.items() if k not in per_number} for s in shapes[registered]]
        for registered in (True, False)
    }
    assert all(form["USERNAME is the number typed"] for form in forms[True] + forms[False])
    assert all(form["CODE_DELIVERY_DESTINATION is the number masked"] for form in forms[True] + forms[False])
    assert forms[True] == forms[False]
    # and no kind of round tells them apart by its duration
    report = []
    for scenario in SCENARIOS:
        real, decoy = times[scenario][True], times[scenario][False]
        difference = statistics.median(real) - statistics.median(decoy)
        report.append(
            (
                scenario,
                statistics.median(real),
                statistics.median(decoy),
                difference,
                mann_whitney_u(real, decoy),
            )
        )
    print(f"\n{SAMPLES} samples each (registered vs unknown), signInFloorMs {FLOOR_MS}, milliseconds:")
    for scenario, real_ms, decoy_ms, difference, p in report:
        print(
            f"  {scenario:22s} median {real_ms:7.2f} vs {decoy_ms:7.2f}"
            f"  difference {difference:+6.2f}  p = {p:.3f}"
        )
    failures = [row for row in report if abs(row[3]) > MEDIAN_WITHIN_MS or row[4] < P_AT_LEAST]
    assert not failures, failures
