"""``make load``: a bounded load test of the sandbox's HTTP API on loopback.

16 clients send a few thousand requests: codes to numbers nobody texted before (each must be
delivered exactly once), repeated hits at a few "hot" numbers spread over the run (their SMS must
respect the per-number cooldown and hourly cap however many requests arrive together), then
verifications of the codes that went out (right and wrong). Fails (exit 1) on any 5xx, any SMS lost
or doubled, a limit that gave way or a wrong verdict; prints throughput and latency percentiles.
Bounded twice: by the number of requests and by a deadline.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.load_client import ApiClient, Outcome
from bench.phones import destinations
from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
# The sandbox's default per-number send limits (OTP_SEND_COOLDOWN_SECONDS, OTP_SEND_LIMIT_PER_HOUR).
COOLDOWN_SECONDS = 30
PER_HOUR = 5


@dataclass
class Plan:
    """What to send: unique numbers, hot numbers hit many times each, and the deadline."""

    unique: list[str]
    hot: list[str]
    hits_per_hot: int
    deadline: float

    def sends(self) -> list[str]:
        requests = self.unique + [number for number in self.hot for _ in range(self.hits_per_hot)]
        random.shuffle(requests)  # hot numbers' hits arrive interleaved with the rest, from all clients
        return requests


@dataclass
class Results:
    outcomes: list[Outcome] = field(default_factory=list)

    def by_status(self) -> Counter[int]:
        return Counter(outcome.status for outcome in self.outcomes)

    def latencies(self) -> list[float]:
        return [outcome.seconds for outcome in self.outcomes]


def run_phase(clients: list[ApiClient], work: list[Any], task: str, deadline: float) -> list[Outcome]:
    """Spread ``work`` over the clients (one thread each); stop taking new work at the deadline."""
    queues = [work[index :: len(clients)] for index in range(len(clients))]

    def drain(index: int) -> list[Outcome]:
        done = []
        for item in queues[index]:
            if time.monotonic() > deadline:
                break
            done.append(getattr(clients[index], task)(item))
        return done

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return [outcome for outcomes in pool.map(drain, range(len(clients))) for outcome in outcomes]


def check(
    plan: Plan, sends: list[Outcome], verifies: list[Outcome], outbox: list[dict[str, Any]]
) -> list[str]:
    """Every rule the load test holds the service to; returns what broke."""
    wrong_verdicts = sum(1 for o in verifies if o.valid is not o.expect_valid)
    return [
        *_no_server_errors(sends + verifies),
        *_every_accepted_send_delivered_once(sends, outbox),
        *_limits_hold(plan, sends, outbox),
        *([f"{wrong_verdicts} verifications gave the wrong answer"] if wrong_verdicts else []),
    ]


def _no_server_errors(outcomes: list[Outcome]) -> list[str]:
    failed = Counter(o.status for o in outcomes if o.status >= 500 or o.status == 0)
    return [f"{sum(failed.values())} requests answered 5xx or no answer: {dict(failed)}"] if failed else []


def _every_accepted_send_delivered_once(sends: list[Outcome], outbox: list[dict[str, Any]]) -> list[str]:
    delivered = Counter((sms["destination"], sms["referenceId"]) for sms in outbox)
    accepted = [o for o in sends if o.status == 202]
    problems = []
    lost = [o for o in accepted if delivered[(o.number, o.reference_id)] != 1]
    if lost:
        problems.append(f"{len(lost)} accepted sends without exactly one SMS (lost or doubled)")
    if sum(delivered.values()) != len(accepted):
        problems.append(f"{sum(delivered.values())} SMS in the outbox for {len(accepted)} accepted sends")
    return problems


def _limits_hold(plan: Plan, sends: list[Outcome], outbox: list[dict[str, Any]]) -> list[str]:
    """Fresh numbers are all served; a hot number's SMS respect its cooldown and its hourly cap.

    The sandbox's defaults: one SMS per 30 s and 5 per hour per number. A burst lasting longer than
    the cooldown may rightly get a second SMS through, so the check is on the SMS times themselves.
    """
    problems = []
    fresh = Counter(o.status for o in sends if o.number not in plan.hot)
    if set(fresh) != {202}:
        problems.append(f"sends to fresh numbers answered {dict(fresh)}, expected only 202")
    for number in plan.hot:
        statuses = Counter(o.status for o in sends if o.number == number)
        times = sorted(_epoch(sms["time"]) for sms in outbox if sms["destination"] == number)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        # 1 s of slack: the limiter stamps the event just before the SMS, which is stamped when sent.
        if (
            set(statuses) - {202, 429}
            or statuses[202] != len(times)
            or any(gap < COOLDOWN_SECONDS - 1 for gap in gaps)
        ):
            problems.append(f"a hot number got {dict(statuses)}, SMS {[round(g, 1) for g in gaps]} s apart")
        if len(times) > PER_HOUR:
            problems.append(f"a hot number got {len(times)} SMS within the hour (cap {PER_HOUR})")
    return problems


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def report(label: str, outcomes: list[Outcome], seconds: float) -> str:
    latencies = [outcome.seconds * 1000 for outcome in outcomes]
    if not latencies:
        return f"{label:<8} no requests"
    rate = len(outcomes) / seconds
    statuses = dict(sorted(Counter(o.status for o in outcomes).items()))
    return (
        f"{label:<7} {len(outcomes):>5} requests in {seconds:5.1f} s = {rate:6.1f} req/s  "
        f"p50 {percentile(latencies, 50):6.1f} ms  p90 {percentile(latencies, 90):6.1f} ms  "
        f"p99 {percentile(latencies, 99):6.1f} ms  max {max(latencies):6.1f} ms  statuses {statuses}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--sends", type=int, default=2400, help="sends to fresh numbers")
    parser.add_argument("--hot", type=int, default=8, help="numbers hit by bursts")
    parser.add_argument("--hits", type=int, default=40, help="sends to each hot number")
    parser.add_argument("--verifies", type=int, default=400, help="verifications afterwards")
    parser.add_argument("--deadline", type=float, default=240.0, help="seconds before no new request starts")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "lambda"))
    from tests.sandbox_harness import running_sandbox

    numbers = destinations(start=random.randrange(0, 20_000))
    plan = Plan(
        unique=[next(numbers) for _ in range(args.sends)],
        hot=[next(numbers) for _ in range(args.hot)],
        hits_per_hot=args.hits,
        deadline=time.monotonic() + args.deadline,
    )
    print(
        f"load: starting the sandbox; {args.clients} clients, deadline {args.deadline:.0f} s", file=sys.stderr
    )
    with running_sandbox() as sandbox:
        clients = [ApiClient(sandbox.api_url) for _ in range(args.clients)]
        # The sandbox imports the handler, and moto its DynamoDB backend, on first use: a Lambda
        # function initialises before it takes traffic, and so does this test, so that the latencies
        # measured are those of a warm service.
        warm_up = clients[0].send(next(numbers))
        if warm_up.status != 202:
            print(f"load: the warm-up send answered {warm_up.status}", file=sys.stderr)
            return 1
        started = time.monotonic()
        sends = [warm_up, *run_phase(clients, plan.sends(), "send", plan.deadline)]
        send_seconds = time.monotonic() - started
        outbox = sandbox.outbox()
        codes = {(sms["destination"], sms["referenceId"]): sms["code"] for sms in outbox}
        accepted = [o for o in sends if o.status == 202][: args.verifies]
        checks = [
            (o.number, o.reference_id, codes.get((o.number, o.reference_id), ""), i % 3 != 0)
            for i, o in enumerate(accepted)
        ]
        started = time.monotonic()
        verifies = run_phase(clients, checks, "verify", plan.deadline)
        verify_seconds = time.monotonic() - started
    finished = len(sends) == 1 + len(plan.sends()) and len(verifies) == len(checks)
    problems = check(plan, sends, verifies, outbox)
    if not finished:
        problems.append(f"deadline reached after {len(sends)} sends and {len(verifies)} verifications")
    print(report("send", sends, send_seconds))
    print(report("verify", verifies, verify_seconds))
    print(report("all", sends + verifies, send_seconds + verify_seconds))
    for problem in problems:
        print(f"FAILED: {problem}")
    print(
        f"load: {'ok' if not problems else 'FAILED'} ({len(sends) + len(verifies)} requests, 0 5xx expected)"
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
