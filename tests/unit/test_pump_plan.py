"""make pump's traffic and its last line (local/pump.py); the run itself is ``make pump``."""

from __future__ import annotations

from collections import Counter

import phonenumbers

from local.pump import HOURS, Tally, plan, report


def test_the_plan_is_the_documented_traffic_of_valid_mobile_numbers() -> None:
    the_plan = plan(seed=1, scale=0.05)
    kinds = Counter(event.who for event in the_plan.events)
    assert kinds["real"] == the_plan.real_users == 120
    assert kinds["A"] == 10 * 120 // HOURS * 4  # 10x the real rate for 4 hours
    assert kinds["B"] == 5 * 10 * 48  # 10 five-digit ranges x 2 an hour x 24 h, in 5 three-digit ranges
    assert all(0 <= event.at <= HOURS * 3600 for event in the_plan.events)
    for event in the_plan.events[:300]:
        number = phonenumbers.parse(event.number)
        assert phonenumbers.is_valid_number(number), event.number
    assert len(the_plan.a_ranges) == 3
    a_numbers = [event.number for event in the_plan.events if event.who == "A"]
    assert all(any(number.startswith(prefix) for prefix in the_plan.a_ranges) for number in a_numbers)


def test_the_last_line_is_the_adaptive_runs_and_counts_attacks_a_and_b() -> None:
    the_plan = plan(seed=1, scale=0.05)
    static, adaptive = Tally(), Tally()
    static.asked.update(real=100, A=50, B=200)
    static.served.update(real=60, A=50, B=150)
    adaptive.asked.update(real=100, returning=10, A=50, B=200, C=30)
    adaptive.served.update(real=99, returning=10, A=20, B=5, C=10)
    prefix = next(iter(the_plan.a_ranges))
    adaptive.blocks = [{"range": prefix, "since_s": the_plan.a_start + 90, "offences": 1}]
    lines = report(the_plan, static, adaptive)
    assert lines[-1] == (
        "pump: attack_sms=25 real_served=99.09 returning_served=100.00 false_blocks=0 first_block_s=90"
    )
    assert "attack A+B SMS adaptive / static: 12.50 %" in lines
