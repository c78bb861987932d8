"""``make pump``: a pump you can watch. The real API handler (through the sandbox's API Gateway front, in
this process) against the sandbox's DynamoDB and Pinpoint, on its simulated clock, for 48 simulated hours
of realistic traffic, twice: with the adaptive defence off (the static configuration) and on. Prints what
each let through, side by side, and last the adaptive run's line:

    pump: attack_sms=<n> real_served=<pct> returning_served=<pct> false_blocks=<n> first_block_s=<s>

Traffic (every number valid for its country, as libphonenumber classifies it):

- real users across 12 countries, each asking once; about 85 % enter their code 30-120 s later; a third
  of those who did come back 6-30 hours later (returning users: proven numbers);
- attack A: 3 five-digit ranges of one country at 10x the real rate for 4 hours, never verifying;
- attack B: 200 five-digit ranges (10 in each of 20 three-digit ranges, in 5 countries), 2 codes each an
  hour for 24 hours, never verifying;
- attack C: 2 three-digit ranges at the real rate, entering 35 % of its own codes.

attack_sms counts A and B (what the issue's bound is about); C is reported on its own row. A block is
false when its range holds no attacker number.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from werkzeug.test import Client

HOURS = 48
REAL_COUNTRIES = {  # country: share of the real users
    "US": 0.24,
    "GB": 0.1,
    "DE": 0.08,
    "FR": 0.08,
    "IN": 0.12,
    "MX": 0.06,
    "ES": 0.06,
    "IT": 0.06,
    "ID": 0.05,
    "NG": 0.05,
    "ZA": 0.05,
    "KE": 0.05,
}
B_COUNTRIES = ("NG", "ID", "KE", "ZA", "PH")
# The deployment's send budget, sized for the full real traffic: 2x its daily demand (about 1,500 a day
# on the second day, first visits and returning users), and an hourly budget a quarter of the daily one,
# as the library's defaults are proportioned (500 and 2,000). At 1,500 a day the unproven part (80 %)
# was below the first visits alone (1,250 on the first day): real users were refused with no attack at
# all. At 150 an hour attack B's first quarter hour (5 codes in each of its 20 ranges before they are
# judged) spent the unproven part of the hour: 41 real users were refused (docs/sandbox.md).
BUDGET_PER_HOUR = 750
BUDGET_PER_DAY = 3000


def _mobile(region: str, fixed: str, rng: random.Random) -> str:
    """A valid mobile number of ``region`` whose national number starts with ``fixed`` (retries): of that
    region, not another one sharing its country code (a +1 number of Canada is not one of the US)."""
    code = str(phonenumbers.country_code_for_region(region))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None, region
    length = len(str(example.national_number))
    for _ in range(2000):
        national = fixed + "".join(rng.choice("0123456789") for _ in range(length - len(fixed)))
        number = phonenumbers.parse(f"+{code}{national}")
        if phonenumbers.region_code_for_number(number) == region and phonenumbers.number_type(number) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            return f"+{code}{national}"
    raise RuntimeError(f"no mobile number of {region} starts with {fixed}")


def _first_digit(region: str) -> str:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None, region
    return str(example.national_number)[:1]


def _range_of(number: str, digits: int) -> str:
    parsed = phonenumbers.parse(number)
    code = str(parsed.country_code)
    return number[: 1 + len(code) + digits]


@dataclass(order=True)
class Event:
    at: float
    order: int
    kind: str = field(compare=False)  # "send" or "verify"
    who: str = field(compare=False)  # real, returning, A, B, C
    number: str = field(compare=False)
    user: int = field(compare=False, default=-1)


@dataclass
class Plan:
    events: list[Event]
    attacker_ranges: set[str]
    a_ranges: set[str]
    a_start: float
    real_users: int


def plan(seed: int, scale: float) -> Plan:
    rng = random.Random(seed)
    events: list[Event] = []
    order = iter(range(10**9))
    horizon = HOURS * 3600.0
    real_users = int(2400 * scale)
    countries = list(REAL_COUNTRIES)
    weights = list(REAL_COUNTRIES.values())
    for user in range(real_users):
        region = rng.choices(countries, weights)[0]
        number = _mobile(region, _first_digit(region), rng)
        events.append(Event(rng.uniform(0, horizon), next(order), "send", "real", number, user))
    real_rate = real_users / HOURS
    attacker_ranges: set[str] = set()
    # A: 3 five-digit ranges of GB, 10x the real rate, hours 6-10.
    a_prefixes = [_range_of(_mobile("GB", "7", rng), 5) for _ in range(3)]
    a_ranges = set(a_prefixes)
    attacker_ranges |= a_ranges
    a_start = 6 * 3600.0
    for _ in range(int(10 * real_rate * 4)):
        prefix = rng.choice(a_prefixes)
        number = _mobile("GB", prefix[3:], rng)
        events.append(Event(rng.uniform(a_start, a_start + 4 * 3600), next(order), "send", "A", number))
    # B: 20 three-digit ranges x 10 five-digit ranges, 2 an hour each, hours 12-36.
    for index in range(int(20 * max(scale, 0.25))):
        region = B_COUNTRIES[index % len(B_COUNTRIES)]
        code = str(phonenumbers.country_code_for_region(region))
        wide = _range_of(_mobile(region, _first_digit(region), rng), 3)
        attacker_ranges.add(wide)
        for _ in range(10):
            narrow = _range_of(_mobile(region, wide[1 + len(code) :], rng), 5)
            attacker_ranges.add(narrow)
            for _ in range(2 * 24):
                number = _mobile(region, narrow[1 + len(code) :], rng)
                at = rng.uniform(12 * 3600, 36 * 3600)
                events.append(Event(at, next(order), "send", "B", number))
    # C: 2 three-digit ranges of MX at the real rate all along, entering 35 % of its codes.
    c_wides = [_range_of(_mobile("MX", _first_digit("MX"), rng), 3) for _ in range(2)]
    attacker_ranges |= set(c_wides)
    for _ in range(int(real_rate * HOURS)):
        wide = rng.choice(c_wides)
        number = _mobile("MX", wide[3:], rng)
        events.append(Event(rng.uniform(0, horizon), next(order), "send", "C", number))
    heapq.heapify(events)
    return Plan(events, attacker_ranges, a_ranges, a_start, real_users)


@dataclass
class Tally:
    asked: Counter[str] = field(default_factory=Counter)
    served: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    first_a_block_s: float | None = None
    # Real and returning users refused: whether in a 3-digit range an attack texts, and why.
    real_refusals: Counter[str] = field(default_factory=Counter)

    def dump(self, *, seed: int, scale: float) -> dict[str, Any]:
        return {
            "seed": seed,
            "scale": scale,
            "budget": [BUDGET_PER_HOUR, BUDGET_PER_DAY],
            "asked": self.asked,
            "served": self.served,
            "refusals": self.refusals,
            "blocks": self.blocks,
            "seconds": self.seconds,
        }

    @classmethod
    def load(cls, data: dict[str, Any], *, seed: int, scale: float) -> Tally:
        if (data["seed"], data["scale"], data["budget"]) != (seed, scale, [BUDGET_PER_HOUR, BUDGET_PER_DAY]):
            raise SystemExit("--static-from: that run had another seed, scale or budget")
        return cls(
            Counter(data["asked"]),
            Counter(data["served"]),
            Counter(data["refusals"]),
            data["blocks"],
            data["seconds"],
        )


@contextmanager
def quiet_sandbox(table: str, adaptive: bool, scale: float) -> Iterator[Any]:
    from local.sandbox import Sandbox, SandboxOptions

    environ = os.environ
    environ.update(
        {
            "OTP_TABLE_NAME": table,
            "OTP_ADAPTIVE_PROTECTION": str(adaptive).lower(),
            # Sized for the full real traffic (3x its hourly rate); --scale does not change it.
            "OTP_SEND_BUDGET_PER_HOUR": str(BUDGET_PER_HOUR),
            "OTP_SEND_BUDGET_PER_DAY": str(BUDGET_PER_DAY),
            "OTP_ALLOWED_COUNTRIES": ",".join(sorted({*REAL_COUNTRIES, *B_COUNTRIES, "MX"})),
            "OTP_BRAND_NAME": "Pump",
            "OTP_ORIGINATION_IDENTITY": "+12065550199",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    codes: dict[str, tuple[str, str]] = {}
    sandbox = Sandbox(
        SandboxOptions(aws_port=0, api_port=0),
        environ=environ,
        on_delivery=lambda sms: codes.__setitem__(sms.destination, (sms.reference_id, sms.code)),
    )
    from otp import wiring

    wiring.reset()
    sandbox.start()
    try:
        yield sandbox, codes
    finally:
        sandbox.stop()
        wiring.reset()


def run(the_plan: Plan, *, adaptive: bool, seed: int, scale: float, progress: Callable[[str], None]) -> Tally:
    rng = random.Random(seed + 1)
    tally = Tally()
    started = time.monotonic()
    with quiet_sandbox(f"otp-pump-{'adaptive' if adaptive else 'static'}-{seed}", adaptive, scale) as (
        sandbox,
        codes,
    ):
        api = Client(sandbox.api)
        clock = sandbox.emulator.clock
        origin = clock.now()
        queue = list(the_plan.events)
        heapq.heapify(queue)
        order = iter(range(10**9, 2 * 10**9))
        hour_reported = -1
        while queue:
            event = heapq.heappop(queue)
            behind = origin + event.at - clock.now()
            if behind > 0:
                clock.advance(behind)
            hour = int(event.at // 3600)
            if hour != hour_reported and hour % 6 == 0:
                hour_reported = hour
                progress(f"  {'adaptive' if adaptive else 'static'}: hour {hour}")
            if event.kind == "send":
                tally.asked[event.who] += 1
                answer = api.post("/v1/otp", json={"phoneNumber": event.number})
                if answer.status_code != 202:
                    body = answer.get_json(silent=True) or {}
                    kind = body.get("type", "")[16:]
                    tally.refusals[f"{event.who}:{answer.status_code}:{kind}"] += 1
                    if event.who in ("real", "returning"):
                        where = "attacked" if _attacked(the_plan, event.number) else "elsewhere"
                        tally.real_refusals[f"{event.who}:{where}:{body.get('detail', '')[:48]}"] += 1
                    if event.who == "A" and kind == "range-suspended" and tally.first_a_block_s is None:
                        tally.first_a_block_s = event.at - the_plan.a_start
                    continue
                tally.served[event.who] += 1
                enters = {"real": 0.85, "returning": 0.85, "C": 0.35}.get(event.who, 0.0)
                if rng.random() < enters:
                    heapq.heappush(
                        queue,
                        Event(
                            event.at + rng.uniform(30, 120),
                            next(order),
                            "verify",
                            event.who,
                            event.number,
                            event.user,
                        ),
                    )
            else:
                reference, code = codes[event.number]
                answer = api.post(
                    "/v1/otp/verify",
                    json={"phoneNumber": event.number, "referenceId": reference, "code": code},
                )
                valid = (
                    answer.status_code == 200 and (answer.get_json(silent=True) or {}).get("valid") is True
                )
                tally.served[f"{event.who}-verified"] += int(valid)
                back = event.at + rng.uniform(6 * 3600, 30 * 3600)
                if event.who == "real" and valid and event.user % 3 == 0 and back < HOURS * 3600:
                    heapq.heappush(
                        queue, Event(back, next(order), "send", "returning", event.number, event.user)
                    )
        if adaptive:
            from otp.adapters.adaptive_store import DynamoDbBlockBook
            from otp.adapters.store import dynamodb_client

            book = DynamoDbBlockBook(dynamodb_client(), os.environ["OTP_TABLE_NAME"])
            tally.blocks = [
                {"range": b.prefix, "since_s": (b.since_ms / 1000 - origin), "offences": b.offences}
                for b in book.blocks()
                if b.offences
            ]
    tally.seconds = time.monotonic() - started
    return tally


def _attacked(the_plan: Plan, number: str) -> bool:
    """Whether a real user's number lies in a 3-digit range an attack texts (its users share the risk)."""
    wide = _range_of(number, 3)
    return any(prefix.startswith(wide) for prefix in the_plan.attacker_ranges)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}" if whole else "n/a"


def report(the_plan: Plan, static: Tally, adaptive: Tally) -> list[str]:
    def row(label: str, get: Callable[[Tally], str]) -> str:
        return f"{label:<34}{get(static):>14}{get(adaptive):>14}"

    def attackers(tally: Tally) -> int:
        return tally.served["A"] + tally.served["B"]

    false = [
        b
        for b in adaptive.blocks
        if not any(r.startswith(b["range"]) or b["range"].startswith(r) for r in the_plan.attacker_ranges)
    ]
    # From attack A's start to its first send refused by a block (the blocks list holds each range's
    # latest block only).
    first = adaptive.first_a_block_s
    first_block = f"{first:.0f}" if first is not None else "none"
    served_real = adaptive.served["real"] + adaptive.served["returning"]
    asked_real = adaptive.asked["real"] + adaptive.asked["returning"]
    return [
        f"{'':<34}{'static':>14}{'adaptive':>14}",
        row("real users asking (first visit)", lambda t: str(t.asked["real"])),
        row("real users served %", lambda t: _pct(t.served["real"], t.asked["real"])),
        row("returning users served %", lambda t: _pct(t.served["returning"], t.asked["returning"])),
        row("real codes entered", lambda t: str(t.served["real-verified"] + t.served["returning-verified"])),
        row("attack A SMS (asked)", lambda t: f"{t.served['A']} ({t.asked['A']})"),
        row("attack B SMS (asked)", lambda t: f"{t.served['B']} ({t.asked['B']})"),
        row("attack C SMS (asked)", lambda t: f"{t.served['C']} ({t.asked['C']})"),
        row("attack C codes entered", lambda t: str(t.served["C-verified"])),
        row("attack A+B SMS", lambda t: str(attackers(t))),
        row("ranges blocked", lambda t: str(len(t.blocks))),
        row("run time s", lambda t: f"{t.seconds:.0f}"),
        "refusals by door:status:type (adaptive run): "
        + json.dumps(dict(sorted(adaptive.refusals.items())), separators=(",", ":")),
        "refusals (static run): " + json.dumps(dict(sorted(static.refusals.items())), separators=(",", ":")),
        "real users refused (adaptive run; attacked: in a 3-digit range an attack texts): "
        + json.dumps(dict(sorted(adaptive.real_refusals.items())), separators=(",", ":")),
        f"attack A+B SMS adaptive / static: {_pct(attackers(adaptive), attackers(static))} %",
        "pump: "
        f"attack_sms={attackers(adaptive)} "
        f"real_served={_pct(served_real, asked_real)} "
        f"returning_served={_pct(adaptive.served['returning'], adaptive.asked['returning'])} "
        f"false_blocks={len(false)} first_block_s={first_block}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make pump", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the traffic (1: 2,400 real users; default 1)"
    )
    parser.add_argument(
        "--static-from",
        type=argparse.FileType("r"),
        help="the static run's tally, as a previous run wrote it with --static-to (same seed and scale)",
    )
    parser.add_argument("--static-to", type=argparse.FileType("w"), help="write the static run's tally here")
    args = parser.parse_args(argv)
    the_plan = plan(args.seed, args.scale)

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    progress(f"pump: {len(the_plan.events)} sends planned over {HOURS} simulated hours, twice")
    if args.static_from:
        static = Tally.load(json.load(args.static_from), seed=args.seed, scale=args.scale)
    else:
        static = run(the_plan, adaptive=False, seed=args.seed, scale=args.scale, progress=progress)
    if args.static_to:
        json.dump(static.dump(seed=args.seed, scale=args.scale), args.static_to)
    adaptive = run(the_plan, adaptive=True, seed=args.seed, scale=args.scale, progress=progress)
    for line in report(the_plan, static, adaptive):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
