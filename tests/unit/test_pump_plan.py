"""make pump's traffic and its last line (local/pump.py); the run itself is ``make pump``."""

from __future__ import annotations

from collections import Counter

import phonenumbers
import pytest

from local.pump import B_COUNTRIES, HOURS, REAL_COUNTRIES, Tally, plan, report


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
    # Every real user's number is of an allowed country (a +1 number of Canada is not one of the US's:
    # 4 % of the real users were refused COUNTRY_NOT_ALLOWED before the plan checked the region)
    regions = {phonenumbers.region_code_for_number(phonenumbers.parse(e.number)) for e in the_plan.events}
    assert regions <= {*REAL_COUNTRIES, *B_COUNTRIES, "MX"}
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
    adaptive.first_a_block_s = 90
    lines = report(the_plan, static, adaptive)
    assert lines[-1] == (
        "pump: attack_sms=25 real_served=99.09 returning_served=100.00 false_blocks=0 first_block_s=90"
    )
    assert "attack A+B SMS adaptive / static: 12.50 %" in lines


def test_a_static_run_is_reused_only_with_its_own_seed_scale_and_budget() -> None:
    static = Tally()
    static.served.update(A=3, B=4)
    again = Tally.load(static.dump(seed=19, scale=1.0), seed=19, scale=1.0)
    assert again.served == static.served
    with pytest.raises(SystemExit):
        Tally.load(static.dump(seed=19, scale=1.0), seed=19, scale=0.1)
