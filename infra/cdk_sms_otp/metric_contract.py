"""The metric names the Lambda code emits, read from the code's own module.

``lambda/otp/metric_names.py`` is the single source of truth; it is dependency-free, so it is loaded by
file path (``lambda`` is a Python keyword and ``otp`` is not on the CDK app's import path). If a name
is renamed or removed there, synthesis fails here instead of producing alarms on metrics nobody emits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from cdk_sms_otp.lambda_source import OTP_PACKAGE, load_module

METRIC_NAMES_FILE: Final = OTP_PACKAGE / "metric_names.py"


@dataclass(frozen=True)
class MetricContract:
    namespace: str
    service: str
    dim_service: str
    otp_delivery: str
    otp_verification: str
    otp_rejected: str
    otp_upstream_error: str
    dim_delivery_status: str
    dim_result: str
    dim_reason: str
    dim_error_code: str
    delivery_statuses: tuple[str, ...]
    verification_results: tuple[str, ...]
    #: ErrorCode values that mean this deployment is wrong (bad request, missing app, missing permission).
    deployment_fault_codes: tuple[str, ...]
    #: Sends by destination country (the protection construct's new-country alarms).
    otp_sent_by_country: str = "OtpSentByCountry"
    dim_country: str = "Country"
    #: The deployment-fault codes of each engine (``otp.engine_rules`` names the engines).
    deployment_fault_codes_by_engine: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def deployment_faults_for(self, engines: tuple[str, ...]) -> tuple[str, ...]:
        """The fault codes of the engines a deployment uses, in a stable order (first engine first)."""
        by_engine = dict(self.deployment_fault_codes_by_engine)
        codes: list[str] = []
        for engine in engines:
            codes += [
                code for code in by_engine.get(engine, self.deployment_fault_codes) if code not in codes
            ]
        return tuple(codes)

    #: Percent of a send budget used (the budget alarms of cdk_sms_otp.protection_alarms).
    otp_send_budget_used: str = "OtpSendBudgetUsed"
    dim_budget: str = "Budget"
    #: An engine's account quota used up (its own alarm, cdk_sms_otp.monitoring), and its codes by engine.
    otp_engine_quota_exceeded: str = "OtpEngineQuotaExceeded"
    dim_engine: str = "Engine"
    engine_quota_codes_by_engine: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def engine_quota_codes_for(self, engine: str) -> tuple[str, ...]:
        return dict(self.engine_quota_codes_by_engine).get(engine, ())

    #: Right codes by destination country, and the adaptive defence's blocks by country (the conversion
    #: alarms and widgets of cdk_sms_otp.protection_alarms).
    otp_verified_by_country: str = "OtpVerifiedByCountry"
    otp_range_blocked: str = "OtpRangeBlocked"


def _str(module: object, name: str, default: str | None = None) -> str:
    value = getattr(module, name, default)
    if not isinstance(value, str) or not value:
        raise RuntimeError(f"{METRIC_NAMES_FILE}: {name} must be a non-empty string, got {value!r}")
    return value


def _strs(module: object, name: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
    value = getattr(module, name, default)
    if not isinstance(value, tuple) or not value or not all(isinstance(v, str) and v for v in value):
        raise RuntimeError(f"{METRIC_NAMES_FILE}: {name} must be a non-empty tuple of strings, got {value!r}")
    return value


@cache
def load_metric_contract(path: Path = METRIC_NAMES_FILE) -> MetricContract:
    module = load_module(path, "_otp_metric_names")
    return MetricContract(
        namespace=_str(module, "NAMESPACE"),
        service=_str(module, "SERVICE"),
        # Powertools names the service dimension "service"; older versions of the module do not export it.
        dim_service=_str(module, "DIM_SERVICE", "service"),
        otp_delivery=_str(module, "OTP_DELIVERY"),
        otp_verification=_str(module, "OTP_VERIFICATION"),
        otp_rejected=_str(module, "OTP_REJECTED"),
        otp_upstream_error=_str(module, "OTP_UPSTREAM_ERROR"),
        dim_delivery_status=_str(module, "DIM_DELIVERY_STATUS"),
        dim_result=_str(module, "DIM_RESULT"),
        dim_reason=_str(module, "DIM_REASON"),
        dim_error_code=_str(module, "DIM_ERROR_CODE"),
        delivery_statuses=_strs(module, "DELIVERY_STATUSES"),
        verification_results=_strs(module, "VERIFICATION_RESULTS", ("VALID", "INVALID")),
        # otp/observability.py logs these as errors; the module may export them to keep the alarm in step.
        deployment_fault_codes=_strs(
            module,
            "DEPLOYMENT_FAULT_ERROR_CODES",
            ("BadRequestException", "NotFoundException", "ForbiddenException", "MethodNotAllowedException"),
        ),
        otp_sent_by_country=_str(module, "OTP_SENT_BY_COUNTRY"),
        dim_country=_str(module, "DIM_COUNTRY"),
        deployment_fault_codes_by_engine=_codes_by_engine(module),
        otp_engine_quota_exceeded=_str(module, "OTP_ENGINE_QUOTA_EXCEEDED"),
        dim_engine=_str(module, "DIM_ENGINE"),
        engine_quota_codes_by_engine=_codes_by_engine(module, "ENGINE_QUOTA_ERROR_CODES_BY_ENGINE"),
        otp_send_budget_used=_str(module, "OTP_SEND_BUDGET_USED"),
        dim_budget=_str(module, "DIM_BUDGET"),
        otp_verified_by_country=_str(module, "OTP_VERIFIED_BY_COUNTRY"),
        otp_range_blocked=_str(module, "OTP_RANGE_BLOCKED"),
    )


def _codes_by_engine(
    module: object, name: str = "DEPLOYMENT_FAULT_ERROR_CODES_BY_ENGINE"
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    value = getattr(module, name, {})
    if not isinstance(value, dict) or not all(
        isinstance(engine, str) and isinstance(codes, tuple) and all(isinstance(c, str) for c in codes)
        for engine, codes in value.items()
    ):
        raise RuntimeError(f"{METRIC_NAMES_FILE}: {name} must map str to tuples")
    return tuple((engine, tuple(codes)) for engine, codes in value.items())
