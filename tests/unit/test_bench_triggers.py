"""bench/triggers.py, bench/trigger_child.py and the last line of ``make bench``: what the trigger rows
measure and how they are summed up. No timing here (``make bench`` measures)."""

from __future__ import annotations

from pathlib import Path

from bench import asset, trigger_child
from bench.cold import trigger_environments
from bench.endpoint import Endpoint
from bench.report import summary_line
from bench.triggers import TRIGGERS, WarmTrigger, warm_step_ratios

ENDPOINT = Endpoint(url="http://127.0.0.1:1", application_id="0123456789abcdef0123456789abcdef")
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:otp-bench-real"


def test_the_last_line_names_every_figure_in_order_and_says_na_for_one_not_measured():
    results = {"cold_time": 0.981, "cold_rss": 1.0, "cold_asset": 0.97, "warm_p50": 1.1, "warm_p99": 1.2}
    results |= {"trigger_cold": 1.004, "trigger_warm_p50": 3.0}
    assert summary_line(results) == (
        "bench: cold_time=0.98 cold_rss=1.00 cold_asset=0.97 warm_p50=1.10 warm_p99=1.20 "
        "trigger_cold=1.00 trigger_warm_p50=3.00 protected_p50=n/a"
    )
    assert summary_line({**results, "protected_p50": 1.25}).endswith("protected_p50=1.25")


def test_each_trigger_runs_with_its_own_functions_variables_name_handler_and_the_real_secret(tmp_path):
    # Given the stack's variables, which differ by function (only Create is granted the secret)
    deployed = {
        trigger.function: {
            "variables": {"OTP_BRAND_NAME": trigger.function}
            | ({"OTP_SECRET_ARN": {"Ref": "Secret"}} if trigger.name == "create" else {}),
            "tracing": "Active",
        }
        for trigger in TRIGGERS
    }
    # When each trigger's environment is derived
    envs = trigger_environments(ENDPOINT, Path(tmp_path), deployed, SECRET)
    # Then each has its own function's variables, Lambda's name and handler for it, and the secret that
    # the benchmark created where the stack refers to one
    assert set(envs) == {"define", "create", "verify"}
    for trigger in TRIGGERS:
        env = envs[trigger.name]
        assert env["OTP_BRAND_NAME"] == trigger.function
        assert env["_HANDLER"] == trigger.handler
        assert env["AWS_LAMBDA_FUNCTION_NAME"] == f"otp-{trigger.function}"
        assert env["PYTHONPATH"] == str(tmp_path)
        assert env["OTP_SEND_BUDGET_PER_HOUR"] == "1000000"
        assert env["OTP_VALIDITY_MINUTES"] == "60"
    assert envs["create"]["OTP_SECRET_ARN"] == SECRET
    assert "OTP_SECRET_ARN" not in envs["define"]
    # and the API keeps the secret nobody reads
    api = asset.lambda_environment(
        {"variables": {"OTP_SECRET_ARN": {"Ref": "S"}}, "tracing": "Active"}, ENDPOINT, tmp_path, {}
    )
    assert api["OTP_SECRET_ARN"] == asset.UNREAD_SECRET_ARN


def test_the_sign_in_steps_add_the_triggers_medians_and_divide_by_the_bare_calls():
    warm = {
        "define": WarmTrigger("define", [0.001, 0.001, 0.003], []),
        "create": WarmTrigger("create", [0.004, 0.005, 0.006], [0.002, 0.003, 0.004]),
        "verify": WarmTrigger("verify", [0.002, 0.003, 0.009], [0.001, 0.002, 0.002]),
    }
    steps = warm_step_ratios(warm)
    assert round(steps["initiate_auth"], 6) == round((0.001 + 0.005) / 0.003, 6)
    assert round(steps["respond_to_auth_challenge"], 6) == round((0.003 + 0.001) / 0.002, 6)


def test_the_events_are_cognitos_and_verify_answers_the_code_create_sent():
    challenge = {"number": "+12065550300", "private": {"referenceId": "r-1"}, "code": "123456"}
    define, create, verify = (
        trigger_child.define_event(),
        trigger_child.create_event("+12065550300"),
        trigger_child.verify_event(challenge),
    )
    assert define["triggerSource"] == "DefineAuthChallenge_Authentication"
    assert define["request"]["session"] == []
    assert create["triggerSource"] == "CreateAuthChallenge_Authentication"
    assert create["request"]["userAttributes"]["phone_number"] == "+12065550300"
    assert verify["triggerSource"] == "VerifyAuthChallengeResponse_Authentication"
    assert verify["request"]["privateChallengeParameters"] == {"referenceId": "r-1"}
    assert verify["request"]["challengeAnswer"] == "123456"
