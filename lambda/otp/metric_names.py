"""Metric names and dimensions: the one source of truth for the Lambda code and the CDK dashboards/alarms.

Dependency-free on purpose: the CDK app loads this file by path.
"""

NAMESPACE = "OtpService"
SERVICE = "otp"

OTP_DELIVERY = "OtpDelivery"
OTP_VERIFICATION = "OtpVerification"
OTP_REJECTED = "OtpRejected"
OTP_UPSTREAM_ERROR = "OtpUpstreamError"
# One per send that reached Pinpoint, by destination country: SMS pumping shows up as a burst of sends
# to a country the service rarely texts (alarmed per allowed country by cdk_sms_otp.protection_alarms).
OTP_SENT_BY_COUNTRY = "OtpSentByCountry"
# Percent of a send budget used, as the shard a send was charged to saw it (one per send and budget):
# dimension Budget = ALL or the country's ISO code. Alarmed at 80 % (cdk_sms_otp.protection_alarms).
OTP_SEND_BUDGET_USED = "OtpSendBudgetUsed"

# One per right code, by destination country: with OtpSentByCountry, a country's conversion (alarmed when
# it collapses, per allowed country, by cdk_sms_otp.protection_alarms).
OTP_VERIFIED_BY_COUNTRY = "OtpVerifiedByCountry"
# One per range block the adaptive defence imposed (by Country) and per operator action (by Action:
# LIFT, PIN, ALLOW, DISALLOW): otp/domain/adaptive.py, otp/operator.py.
OTP_RANGE_BLOCKED = "OtpRangeBlocked"
OTP_RANGE_OPERATOR = "OtpRangeOperator"

DIM_SERVICE = "service"
DIM_DELIVERY_STATUS = "DeliveryStatus"
DIM_RESULT = "Result"
DIM_REASON = "Reason"
DIM_ERROR_CODE = "ErrorCode"
DIM_COUNTRY = "Country"
DIM_BUDGET = "Budget"
DIM_ACTION = "Action"

DELIVERY_STATUSES = (
    "SUCCESSFUL",
    "THROTTLED",
    "TEMPORARY_FAILURE",
    "PERMANENT_FAILURE",
    "UNKNOWN_FAILURE",
    "OPT_OUT",
    "DUPLICATE",
    "TIMEOUT",
)
VERIFICATION_RESULTS = ("VALID", "INVALID")

# OtpUpstreamError codes that mean the deployment itself is wrong (the request it builds, its resources,
# its IAM role) or needs an operator (an account quota): logged as errors and alarmed (OtpDeploymentFault)
# for the engines a deployment uses.
DEPLOYMENT_FAULT_ERROR_CODES_BY_ENGINE = {
    "pinpoint": (
        "BadRequestException",
        "NotFoundException",
        "ForbiddenException",
        "MethodNotAllowedException",
    ),
    "endusermessaging": (
        "ValidationException",
        "AccessDeniedException",
        "ResourceNotFoundException",
    ),
}
# An account quota of the engine is used up (End User Messaging's monthly Notify spend limit): nothing is
# sent until an operator raises it. Logged as an error and counted by OtpUpstreamError like any failed
# call, and by its own metric (dimension Engine), alarmed on its own (OtpEngineQuotaExceeded) because the
# remedy is not a deployment's: raise the limit.
OTP_ENGINE_QUOTA_EXCEEDED = "OtpEngineQuotaExceeded"
DIM_ENGINE = "Engine"
ENGINE_QUOTA_ERROR_CODES_BY_ENGINE = {"endusermessaging": ("ServiceQuotaExceededException",)}
