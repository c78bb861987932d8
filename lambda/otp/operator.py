"""The operators' command over the adaptive defence's range blocks (``make ranges``): list them with their
evidence, lift one, pin one, allow or disallow a range. It talks to the protection table with the
operator's own AWS credentials: no function offers it, so who may use it is decided by IAM alone.

    python -m otp.operator [--table NAME] list [--all]
    python -m otp.operator [--table NAME] lift|allow|disallow PREFIX
    python -m otp.operator [--table NAME] pin PREFIX [--hours N]

A PREFIX is a range the defence keeps: a country code and 3 or 5 digits (+44770, +4477009). Every change
is logged on one JSON line (the range and the action, never a number) and counted (``OtpRangeOperator`` by
``Action``, with PutMetricData); a function sees it within a minute (otp.domain.adaptive.BLOCK_CACHE_MS).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TextIO

import phonenumbers

from otp import metric_names as names
from otp.domain.adaptive import HOUR_MS, RANGE_DIGITS
from otp.domain.ports import BlockBook, RangeBlock

ACTIONS = ("LIFT", "PIN", "ALLOW", "DISALLOW")
_DAY_S = 86_400


class OperatorError(ValueError):
    """A command the table cannot take (a prefix that is not a range, a lift of no block)."""


def range_prefix(text: str) -> str:
    """``text`` if it is a range the defence keeps: ``+``, a country code, then 3 or 5 digits."""
    digits = text.strip()
    if digits.startswith("+") and digits[1:].isdigit():
        for length in (1, 2, 3):
            code = int(digits[1 : 1 + length])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE and len(digits) - 1 - length in RANGE_DIGITS:
                return digits
    raise OperatorError(
        f"{text!r} is not a range: a country code and 3 or 5 digits, such as +44770 or +4477009"
    )


def state_of(block: RangeBlock, now_ms: int) -> str:
    if block.allowed:
        return "allowed"
    if block.pinned:
        return "pinned"
    return "blocked" if block.until_ms > now_ms else "ended"


def _iso(epoch_ms: int) -> str | None:
    if epoch_ms <= 0:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def describe(block: RangeBlock, now_ms: int) -> dict[str, Any]:
    """What ``list`` prints for one range: its state and the evidence of its last block."""
    return {
        "range": block.prefix,
        "state": state_of(block, now_ms),
        "sends": block.sends,
        "verified": block.verified,
        "offences": block.offences,
        "since": _iso(block.since_ms),
        "until": None if block.pinned else _iso(block.until_ms),
    }


@dataclass
class RangeOperator:
    """The commands, on a BlockBook; ``count`` reports each change (the metric), ``log`` prints it."""

    book: BlockBook
    count: Callable[[str], None]
    log: Callable[[dict[str, Any]], None]
    clock: Callable[[], float] = time.time

    def list(self, *, everything: bool = False) -> list[dict[str, Any]]:
        now_ms = int(self.clock() * 1000)
        rows = [describe(block, now_ms) for block in self.book.blocks()]
        return rows if everything else [row for row in rows if row["state"] != "ended"]

    def _current(self, prefix: str) -> RangeBlock:
        found = [block for block in self.book.blocks() if block.prefix == prefix]
        return found[0] if found else RangeBlock(prefix)

    def _change(self, action: str, block: RangeBlock, expires_at: int | None) -> dict[str, Any]:
        self.book.put(block, expires_at=expires_at)
        now_ms = int(self.clock() * 1000)
        entry = {
            "message": "number range changed by an operator",
            "action": action,
            **describe(block, now_ms),
        }
        self.log(entry)
        self.count(action)
        return entry

    def lift(self, prefix: str) -> dict[str, Any]:
        block = self._current(range_prefix(prefix))
        now_ms = int(self.clock() * 1000)
        if not block.pinned and block.until_ms <= now_ms:
            raise OperatorError(f"{block.prefix} is not blocked")
        # The level and offences stay: a range that offends again after a lift still gets a longer block.
        lifted = replace(block, until_ms=now_ms, pinned=False)
        return self._change("LIFT", lifted, now_ms // 1000 + 30 * _DAY_S)

    def pin(self, prefix: str, *, hours: int | None = None) -> dict[str, Any]:
        block = self._current(range_prefix(prefix))
        now_ms = int(self.clock() * 1000)
        if hours is None:
            pinned = replace(block, pinned=True, allowed=False, since_ms=now_ms)
            return self._change("PIN", pinned, None)
        until_ms = now_ms + hours * HOUR_MS
        timed = replace(block, pinned=False, allowed=False, since_ms=now_ms, until_ms=until_ms)
        return self._change("PIN", timed, until_ms // 1000 + 30 * _DAY_S)

    def allow(self, prefix: str) -> dict[str, Any]:
        block = self._current(range_prefix(prefix))
        now_ms = int(self.clock() * 1000)
        allowed = replace(block, allowed=True, pinned=False, until_ms=min(block.until_ms, now_ms))
        return self._change("ALLOW", allowed, None)

    def disallow(self, prefix: str) -> dict[str, Any]:
        block = self._current(range_prefix(prefix))
        if not block.allowed:
            raise OperatorError(f"{block.prefix} is not allowed")
        return self._change("DISALLOW", replace(block, allowed=False), int(self.clock()) + 30 * _DAY_S)


def cloudwatch_counter(client: Any, err: TextIO = sys.stderr) -> Callable[[str], None]:
    """``OtpRangeOperator`` by ``Action``, as the functions' metrics are (namespace, service dimension)."""

    def count(action: str) -> None:
        try:
            client.put_metric_data(
                Namespace=names.NAMESPACE,
                MetricData=[
                    {
                        "MetricName": names.OTP_RANGE_OPERATOR,
                        "Dimensions": [
                            {"Name": names.DIM_SERVICE, "Value": names.SERVICE},
                            {"Name": names.DIM_ACTION, "Value": action},
                        ],
                        "Value": 1.0,
                        "Unit": "Count",
                    }
                ],
            )
        except Exception as exc:
            print(f"warning: the change was made but not counted ({type(exc).__name__})", file=err)

    return count


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout) -> int:
    import boto3

    from otp.adapters.adaptive_store import DynamoDbBlockBook

    parser = argparse.ArgumentParser(prog="make ranges ARGS=", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", default=os.environ.get("OTP_TABLE_NAME"), help="default: $OTP_TABLE_NAME")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="blocks in force, pinned and allowed ranges")
    listing.add_argument("--all", action="store_true", help="also blocks that ended")
    for name in ("lift", "allow", "disallow"):
        commands.add_parser(name).add_argument("prefix")
    pin = commands.add_parser("pin")
    pin.add_argument("prefix")
    pin.add_argument("--hours", type=int, default=None, help="default: until lifted")
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("no table: pass --table or set OTP_TABLE_NAME (the stack's ProtectionTableName output)")
    operator = RangeOperator(
        DynamoDbBlockBook(boto3.client("dynamodb"), args.table),
        count=cloudwatch_counter(boto3.client("cloudwatch")),
        log=lambda entry: print(json.dumps(entry), file=sys.stderr),
    )
    try:
        if args.command == "list":
            result: object = operator.list(everything=args.all)
        elif args.command == "pin":
            result = operator.pin(args.prefix, hours=args.hours)
        else:
            result = getattr(operator, args.command)(args.prefix)
    except OperatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
