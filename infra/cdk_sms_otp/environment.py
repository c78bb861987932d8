"""The functions' environment, written from the configuration schema.

A variable is written only where the functions could not know its value themselves: an option that
differs from its default (both sides read the default from the same schema), a required one, and the
names and ids of the resources the construct made. The functions' environment stays small (Lambda
allows 4 KB) and a default changed in the schema reaches deployed functions with the next deploy.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from cdk_sms_otp._lambda.otp.options.declaration import fields
from cdk_sms_otp._lambda.otp.options.deployment import DeploymentValues
from cdk_sms_otp._lambda.otp.options.schema import OtpOptions


def function_environment(
    options: OtpOptions, *, omit: Collection[str] = (), **deployment: Any
) -> dict[str, str]:
    """The variables ``otp.settings`` reads: ``options`` (but those in ``omit``), and ``deployment``:
    values of :class:`DeploymentValues` by attribute name (``table_name=...``; None: not set)."""
    env: dict[str, str] = {}
    for declared in fields(options):
        variable = declared.option.env
        value = getattr(options, declared.name)
        if variable is None or declared.name in omit or value is None:
            continue
        if declared.required or value != declared.default:
            env[variable] = declared.option.kind.to_env(value)
    env.update(deployment_environment(**deployment))
    return env


def deployment_environment(**deployment: Any) -> dict[str, str]:
    """The variables of :class:`DeploymentValues` given by attribute name (None: not set)."""
    known = {declared.name: declared for declared in fields(DeploymentValues)}
    unknown = set(deployment) - set(known)
    if unknown:
        raise TypeError(f"not a deployment value: {', '.join(sorted(unknown))}")
    env: dict[str, str] = {}
    for name, value in deployment.items():
        variable = known[name].option.env
        if value is not None and variable is not None:
            env[variable] = known[name].option.kind.to_env(value)
    return env
