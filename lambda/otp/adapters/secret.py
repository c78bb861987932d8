"""Secrets Manager adapter: the deployment secret, read once per container (see otp.wiring.deployment_key).

The stack generates the secret at deploy time (infra/secret.py) and grants it only to the functions that
derive keys from it; the value never appears in a log, a metric or an error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, cast

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from otp.adapters import aws_sdk
from otp.domain.errors import UpstreamError, UpstreamFailure

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

# UpstreamError.code when the deployment secret cannot be read.
SECRET_UNAVAILABLE = "SecretUnavailable"
_FAILURE = UpstreamFailure.SECRET_UNAVAILABLE
_OPERATION = "GetSecretValue"

_CLIENT_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 3}
)


@lru_cache(maxsize=1)
def secretsmanager_client() -> SecretsManagerClient:
    """One client per container."""
    return cast("SecretsManagerClient", aws_sdk.client("secretsmanager", _CLIENT_CONFIG))


def read_secret(secret_arn: str) -> bytes:
    """The secret's value; UpstreamError(SecretUnavailable) when it cannot be read (never its text)."""
    try:
        answer = secretsmanager_client().get_secret_value(SecretId=secret_arn)
    except (ClientError, BotoCoreError) as exc:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        raise UpstreamError(
            SECRET_UNAVAILABLE, code or type(exc).__name__, failure=_FAILURE, operation=_OPERATION
        ) from None
    value = answer.get("SecretBinary") or answer.get("SecretString", "").encode()
    if len(value) < 32:
        raise UpstreamError(
            SECRET_UNAVAILABLE, "the secret is shorter than 32 bytes", failure=_FAILURE, operation=_OPERATION
        )
    return value
