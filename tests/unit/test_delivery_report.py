"""Reading Pinpoint's MessageResponse: the entry for our destination, missing or unexpected entries."""

from __future__ import annotations

import pytest

from otp.adapters.pinpoint import _report_for
from otp.domain.models import DeliveryStatus

DEST = "+12065550100"


def test_the_entry_for_the_destination_is_read() -> None:
    response = {
        "RequestId": "req-1",
        "Result": {
            DEST: {
                "DeliveryStatus": "SUCCESSFUL",
                "MessageId": "m-1",
                "StatusCode": 200,
                "StatusMessage": "ok",
            },
        },
    }
    report = _report_for(DEST, response)
    assert (report.status, report.message_id, report.status_code, report.request_id) == (
        DeliveryStatus.SUCCESSFUL,
        "m-1",
        200,
        "req-1",
    )


def test_a_single_entry_under_another_key_is_ours() -> None:
    # Pinpoint may key the result by a normalised address; with one destination it can only be ours.
    report = _report_for(DEST, {"Result": {"12065550100": {"DeliveryStatus": "OPT_OUT", "StatusCode": 400}}})
    assert report.status is DeliveryStatus.OPT_OUT


@pytest.mark.parametrize(
    "response",
    [
        {},
        {"Result": {}},
        {"Result": None},
        {"Result": {"+1": {"DeliveryStatus": "SUCCESSFUL"}, "+2": {"DeliveryStatus": "SUCCESSFUL"}}},
        {"Result": {DEST: "not a dict"}},
    ],
)
def test_a_missing_or_ambiguous_entry_is_an_unknown_failure(response: dict[str, object]) -> None:
    report = _report_for(DEST, response)
    assert report.status is DeliveryStatus.UNKNOWN_FAILURE
    assert report.raw_status is None


@pytest.mark.parametrize("raw", ["QUEUED", "", None, "successful"])
def test_statuses_pinpoint_may_add_later_count_as_unknown_failures(raw: str | None) -> None:
    report = _report_for(DEST, {"Result": {DEST: {"DeliveryStatus": raw, "StatusCode": "200"}}})
    assert report.status is DeliveryStatus.UNKNOWN_FAILURE
    assert report.raw_status == raw
    assert report.status_code is None  # a non-integer status code is dropped, not trusted


@pytest.mark.parametrize("status", list(DeliveryStatus))
def test_every_documented_status_is_recognised(status: DeliveryStatus) -> None:
    assert _report_for(DEST, {"Result": {DEST: {"DeliveryStatus": status.value}}}).status is status


def test_the_metric_catalogue_lists_exactly_the_domain_statuses() -> None:
    # The dashboards and alarms are built from otp/metric_names.py; they must cover every status.
    from otp import metric_names

    assert set(metric_names.DELIVERY_STATUSES) == {status.value for status in DeliveryStatus}
