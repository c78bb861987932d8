"""Which exception of which service means what: the adapters' tables, and what the entry points make of them.

The adapters alone know the engines' exception names; the handlers see only an UpstreamFailure. These
tests keep each table complete against botocore's model of the operations the adapter calls, and the
deployment-fault alarm's codes (otp/metric_names.py, read by the CDK app) in step with the tables.
"""

from __future__ import annotations

import botocore.session
import pytest

from otp.adapters import end_user_messaging, pinpoint
from otp.domain.errors import UpstreamFailure
from otp.engine_rules import END_USER_MESSAGING, PINPOINT
from otp.handlers.problems import UPSTREAM_PROBLEMS
from otp.metric_names import DEPLOYMENT_FAULT_ERROR_CODES_BY_ENGINE, ENGINE_QUOTA_ERROR_CODES_BY_ENGINE

ADAPTERS = {
    PINPOINT: ("pinpoint", pinpoint.FAILURES, (pinpoint.SEND, pinpoint.VERIFY)),
    END_USER_MESSAGING: (
        "endusermessaging",
        end_user_messaging.FAILURES,
        (end_user_messaging.SEND, "ValidateNotifyCodeVerification"),
    ),
}
#: Failures that mean an operator must change the deployment (alarmed, logged as errors); an account quota
#: has an alarm of its own (its remedy is raising the quota).
OPERATOR_FAILURES = {UpstreamFailure.REQUEST_REJECTED, UpstreamFailure.MISCONFIGURED}


def _modelled_errors(service: str, operations: tuple[str, ...]) -> set[str]:
    model = botocore.session.get_session().get_service_model(service)
    return {error.name for name in operations for error in model.operation_model(name).error_shapes}


@pytest.mark.parametrize("engine", sorted(ADAPTERS))
def test_every_exception_the_model_lists_has_a_meaning(engine: str) -> None:
    service, failures, operations = ADAPTERS[engine]
    assert _modelled_errors(service, operations) == set(failures)


@pytest.mark.parametrize("engine", sorted(ADAPTERS))
def test_the_deployment_fault_alarm_watches_exactly_the_failures_an_operator_must_fix(engine: str) -> None:
    _, failures, _ = ADAPTERS[engine]
    expected = {code for code, failure in failures.items() if failure in OPERATOR_FAILURES}
    assert set(DEPLOYMENT_FAULT_ERROR_CODES_BY_ENGINE[engine]) == expected


@pytest.mark.parametrize("engine", sorted(ADAPTERS))
def test_the_quota_alarm_watches_exactly_the_failures_that_say_a_quota_is_used_up(engine: str) -> None:
    _, failures, _ = ADAPTERS[engine]
    expected = {code for code, failure in failures.items() if failure is UpstreamFailure.QUOTA_EXCEEDED}
    assert set(ENGINE_QUOTA_ERROR_CODES_BY_ENGINE.get(engine, ())) == expected


def test_every_failure_but_the_unexpected_one_has_its_own_problem() -> None:
    assert set(UPSTREAM_PROBLEMS) == set(UpstreamFailure) - {UpstreamFailure.UNEXPECTED}
    # A failure that may be temporary tells the caller when to come back.
    temporary = (UpstreamFailure.THROTTLED, UpstreamFailure.UNAVAILABLE, UpstreamFailure.STORE_UNAVAILABLE)
    for failure in temporary:
        assert UPSTREAM_PROBLEMS[failure].retry_after is not None
