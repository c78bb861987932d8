"""AWS End User Messaging notify code configurations: create, update and delete one (the stack's custom
resource, ``otp.handlers.notify_code_configuration``; the sandbox makes its own the same way).

No CloudFormation type exists for a notify code configuration, so the stack declares it as a custom
resource whose properties are the configuration: CreateNotifyCodeConfiguration's members
(``otp.engine_rules.notify_code_configuration`` builds them), which CloudFormation passes to the function
with every number and boolean turned into a string. :func:`desired_configuration` checks them and turns
them back.

Each operation may run twice for one stack event (CloudFormation and Lambda both retry), so each is
idempotent: a create carries the event's request id as ``clientToken`` (the service returns the same
configuration for the same token); an update sends the whole desired configuration, every member the
configuration may hold either set or cleared with the API's empty-value sentinel, so its result does not
depend on what was there (a member changed by hand is put back too); a delete of a configuration that is
already gone succeeds. Management calls are limited to 1 request per second ("Quotas" of Notify):
``ThrottlingException`` is retried, and so is ``InternalServerException``, which is safe here because
every call is idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from otp.adapters.retries import call_with_retries, control_plane_classifier
from otp.domain.errors import UpstreamError

if TYPE_CHECKING:
    from mypy_boto3_endusermessaging import EndUserMessagingClient
    from mypy_boto3_endusermessaging.type_defs import (
        CodeConfigurationParametersTypeDef,
        CreateNotifyCodeConfigurationInputTypeDef,
        NotifyCodeConfigurationTypeDef,
        TagTypeDef,
        UpdateNotifyCodeConfigurationInputTypeDef,
    )

T = TypeVar("T")

CREATE: Final = "CreateNotifyCodeConfiguration"
UPDATE: Final = "UpdateNotifyCodeConfiguration"
DELETE: Final = "DeleteNotifyCodeConfiguration"
#: Management calls: every one is idempotent here, so a throttled or failed one is simply made again.
_RETRYABLE: Final = frozenset({"ThrottlingException", "InternalServerException"})
MAX_ATTEMPTS: Final = 6

#: The string members each channel can hold (the model's ChannelParameters): an update clears the ones
#: the desired configuration leaves out with "", the API's "clear it" value.
CHANNEL_STRING_MEMBERS: Final[Mapping[str, tuple[str, ...]]] = {
    "text": ("inlineTemplateBody",),
    "voice": ("inlineTemplateBody", "languageCode", "voiceId"),
    "notify": ("notifyTemplateId", "voiceId"),
    "whatsApp": ("whatsAppTemplateName", "languageCode"),
}
_POLICY_INTEGERS: Final = ("codeLength", "validityPeriodMinutes", "maxAttempts")


class InvalidProperties(ValueError):
    """The custom resource's properties are not a configuration this module can create."""


class DeletionProtected(RuntimeError):
    """The configuration has deletion protection on: it stays until that is turned off."""


@dataclass(frozen=True, slots=True)
class ConfigurationRef:
    configuration_id: str
    arn: str

    @staticmethod
    def of(configuration: NotifyCodeConfigurationTypeDef) -> ConfigurationRef:
        return ConfigurationRef(
            configuration["notifyCodeConfigurationId"], configuration["notifyCodeConfigurationArn"]
        )


# ------------------------------------------------------------------------------------- properties


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidProperties(f"{where} must be a non-empty string")
    return value


def _integer(value: object, where: str) -> int:
    # CloudFormation passes numbers as strings.
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise InvalidProperties(f"{where} must be a whole number, got {value!r}")
    return int(value)


def _boolean(value: object, where: str) -> bool:
    # CloudFormation passes booleans as "true" / "false".
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidProperties(f"{where} must be true or false, got {value!r}")


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidProperties(f"{where} must be an object")
    return value


def desired_configuration(properties: Mapping[str, Any]) -> CreateNotifyCodeConfigurationInputTypeDef:
    """CreateNotifyCodeConfiguration's request from the custom resource's properties (no client token).

    Only the members this project sets are accepted; the service checks their values (a bad template is
    its ValidationException, reported to CloudFormation with the service's own words)."""
    # ServiceToken and ServiceTimeout are CloudFormation's own (it passes them along with the rest).
    known = {"ServiceToken", "ServiceTimeout", "notifyCodeConfigurationName", "codeConfigurationParameters",
             "channelParameters", "deletionProtectionEnabled", "tags"}  # fmt: skip
    unknown = sorted(set(properties) - known)
    if unknown:
        raise InvalidProperties(f"unknown properties {', '.join(unknown)}")
    request: CreateNotifyCodeConfigurationInputTypeDef = {
        "notifyCodeConfigurationName": _text(
            properties.get("notifyCodeConfigurationName"), "notifyCodeConfigurationName"
        ),
        "deletionProtectionEnabled": _boolean(
            properties.get("deletionProtectionEnabled", False), "deletionProtectionEnabled"
        ),
    }
    policy_raw = _mapping(properties.get("codeConfigurationParameters", {}), "codeConfigurationParameters")
    policy: CodeConfigurationParametersTypeDef = {}
    for member, value in policy_raw.items():
        where = f"codeConfigurationParameters.{member}"
        if member == "codeType":
            policy["codeType"] = _text(value, where)  # type: ignore[typeddict-item]
        elif member in _POLICY_INTEGERS:
            policy[member] = _integer(value, where)  # type: ignore[literal-required]
        else:
            raise InvalidProperties(f"unknown member {where}")
    if policy:
        request["codeConfigurationParameters"] = policy
    channels_raw = _mapping(properties.get("channelParameters", {}), "channelParameters")
    channels: dict[str, dict[str, Any]] = {}
    for channel, members in channels_raw.items():
        if channel not in CHANNEL_STRING_MEMBERS:
            raise InvalidProperties(f"unknown channel channelParameters.{channel}")
        parsed: dict[str, Any] = {}
        for member, value in _mapping(members, f"channelParameters.{channel}").items():
            where = f"channelParameters.{channel}.{member}"
            if member in CHANNEL_STRING_MEMBERS[channel] or (
                channel == "voice" and member == "voiceMessageBodyTextType"
            ):
                parsed[member] = _text(value, where)
            elif channel == "text" and member == "destinationCountryParameters":
                parsed[member] = {
                    _text(key, where): _text(item, f"{where}.{key}")
                    for key, item in _mapping(value, where).items()
                }
            else:
                raise InvalidProperties(f"unknown member {where}")
        channels[channel] = parsed
    if channels:
        request["channelParameters"] = channels  # type: ignore[typeddict-item]
    tags_raw = properties.get("tags", [])
    if not isinstance(tags_raw, list):
        raise InvalidProperties("tags must be a list of {key, value}")
    tags: list[TagTypeDef] = []
    for index, tag in enumerate(tags_raw):
        tag_map = _mapping(tag, f"tags[{index}]")
        tags.append(
            {"key": _text(tag_map.get("key"), f"tags[{index}].key"), "value": str(tag_map.get("value", ""))}
        )
    if tags:
        request["tags"] = tags
    return request


def update_request(
    configuration_id: str, desired: CreateNotifyCodeConfigurationInputTypeDef
) -> UpdateNotifyCodeConfigurationInputTypeDef:
    """The update that makes the configuration exactly ``desired``, whatever it holds now: every string
    member of every channel set or cleared (""), the country parameters set or cleared ({})."""
    wanted = cast("Mapping[str, Mapping[str, Any]]", desired.get("channelParameters", {}))
    channels: dict[str, dict[str, Any]] = {}
    for channel, members in CHANNEL_STRING_MEMBERS.items():
        given = wanted.get(channel, {})
        update = {member: given.get(member, "") for member in members}
        if channel == "text":
            update["destinationCountryParameters"] = dict(given.get("destinationCountryParameters", {}))
        if channel == "voice" and "voiceMessageBodyTextType" in given:
            update["voiceMessageBodyTextType"] = given["voiceMessageBodyTextType"]
        channels[channel] = update
    request: UpdateNotifyCodeConfigurationInputTypeDef = {
        "notifyCodeConfigurationId": configuration_id,
        "notifyCodeConfigurationName": desired["notifyCodeConfigurationName"],
        "channelParameters": channels,  # type: ignore[typeddict-item]
        "deletionProtectionEnabled": desired.get("deletionProtectionEnabled", False),
    }
    policy = desired.get("codeConfigurationParameters")
    if policy:
        request["codeConfigurationParameters"] = dict(policy)  # type: ignore[typeddict-item]
    return request


# --------------------------------------------------------------------------------------- the calls


class NotifyCodeConfigurations:
    """The three calls the custom resource makes, each idempotent and retried while that is safe."""

    def __init__(
        self,
        client: EndUserMessagingClient,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._max_attempts = max_attempts
        self._sleep = sleep

    def create(
        self, desired: CreateNotifyCodeConfigurationInputTypeDef, *, client_token: str
    ) -> ConfigurationRef:
        """Create it; the same ``client_token`` again returns the configuration the first call created."""
        request: CreateNotifyCodeConfigurationInputTypeDef = {**desired, "clientToken": client_token}
        answer = self._call(CREATE, lambda: self._client.create_notify_code_configuration(**request))
        return ConfigurationRef.of(answer["notifyCodeConfiguration"])

    def update(
        self, configuration_id: str, desired: CreateNotifyCodeConfigurationInputTypeDef
    ) -> ConfigurationRef | None:
        """Make it ``desired``; None when the account no longer holds it."""
        request = update_request(configuration_id, desired)
        try:
            answer = self._call(UPDATE, lambda: self._client.update_notify_code_configuration(**request))
        except UpstreamError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise
        return ConfigurationRef.of(answer["notifyCodeConfiguration"])

    def delete(self, configuration_id: str) -> bool:
        """Delete it; False when it was already gone. Raises DeletionProtected while protection is on."""
        try:
            self._call(
                DELETE,
                lambda: self._client.delete_notify_code_configuration(
                    notifyCodeConfigurationId=configuration_id
                ),
            )
        except UpstreamError as exc:
            if exc.code == "ResourceNotFoundException":
                return False
            if exc.code == "ConflictException":
                raise DeletionProtected(exc.message) from exc
            raise
        return True

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        classify = control_plane_classifier(operation, _RETRYABLE)
        return call_with_retries(call, classify, max_attempts=self._max_attempts, sleep=self._sleep)
