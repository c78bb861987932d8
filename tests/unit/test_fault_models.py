"""The sandbox injects exactly the errors botocore's models list, with their statuses (issue 20).

``local.faults`` is written out by hand (the sandbox does not load three service models to start); these
tests read the installed botocore's models and the model the Lambda asset ships, so a sandbox that
accepts a fault the real service cannot answer (or refuses one it can) fails here, and so do the docs
when they name other errors for End User Messaging's validation than its model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.loaders
import pytest

from local.faults import (
    DYNAMODB_ERROR_STATUS,
    DYNAMODB_OPERATION_ERRORS,
    NOTIFY_ERROR_STATUS,
    NOTIFY_SEND,
    NOTIFY_VALIDATE,
    OPERATION_ERRORS,
    PINPOINT_ERROR_STATUS,
    PINPOINT_OPERATIONS,
)
from otp.adapters.end_user_messaging import FAILURES, SERVICE_MODELS_DIR

REPO = Path(__file__).resolve().parents[2]


def _model(service: str, *, shipped: bool = False) -> dict[str, Any]:
    loader = (
        botocore.loaders.Loader(
            extra_search_paths=[str(SERVICE_MODELS_DIR)], include_default_search_paths=False
        )
        if shipped
        else botocore.loaders.Loader()
    )
    model: dict[str, Any] = loader.load_service_model(service, "service-2")
    return model


def _errors(model: dict[str, Any], operation: str) -> set[str]:
    return {error["shape"] for error in model["operations"][operation].get("errors", [])}


def _status(model: dict[str, Any], error: str) -> int:
    # A client error the model gives no status (End User Messaging's ValidationException) is a 400.
    return int(model["shapes"][error].get("error", {}).get("httpStatusCode", 400))


@pytest.mark.parametrize("shipped", [False, True], ids=["installed botocore", "shipped with the asset"])
def test_end_user_messaging_faults_are_the_models_errors_per_operation(shipped: bool) -> None:
    model = _model("endusermessaging", shipped=shipped)
    for operation in (NOTIFY_SEND, NOTIFY_VALIDATE):
        assert OPERATION_ERRORS[operation] == _errors(model, operation), operation
    # Validate cannot answer a missing resource, a conflict or a quota: only a send can
    assert _errors(model, NOTIFY_VALIDATE) == {
        "ValidationException",
        "AccessDeniedException",
        "ThrottlingException",
        "InternalServerException",
    }
    assert {error: _status(model, error) for error in NOTIFY_ERROR_STATUS} == NOTIFY_ERROR_STATUS
    # and the adapter knows what each of them means
    assert set(FAILURES) == _errors(model, NOTIFY_SEND) | _errors(model, NOTIFY_VALIDATE)


def test_pinpoint_faults_are_the_models_errors_with_their_statuses() -> None:
    model = _model("pinpoint")
    for operation in PINPOINT_OPERATIONS:
        assert OPERATION_ERRORS[operation] == _errors(model, operation), operation
    assert {error: _status(model, error) for error in PINPOINT_ERROR_STATUS} == PINPOINT_ERROR_STATUS


def test_dynamodb_faults_are_errors_the_model_lists_for_each_operation() -> None:
    model = _model("dynamodb")
    for operation, injected in DYNAMODB_OPERATION_ERRORS.items():
        # Of the errors the sandbox injects, each operation takes exactly those its model lists
        assert injected == _errors(model, operation) & set(DYNAMODB_ERROR_STATUS), operation
    for error in DYNAMODB_ERROR_STATUS:
        assert model["shapes"][error].get("exception") is True
    # The storm's reasons are a member of the modeled exception
    assert "CancellationReasons" in model["shapes"]["TransactionCanceledException"]["members"]


def test_the_sandbox_docs_name_validates_errors_as_its_model_does() -> None:
    text = (REPO / "docs" / "sandbox.md").read_text(encoding="utf-8")
    [listed] = re.findall(r"`ValidateNotifyCodeVerification` answers only ([^;)]*)", text)
    assert set(re.findall(r"`(\w+Exception)`", listed)) == _errors(
        _model("endusermessaging"), NOTIFY_VALIDATE
    )
