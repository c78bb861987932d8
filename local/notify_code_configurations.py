"""The sandbox's notify code configurations: AWS End User Messaging's reusable passcode policy and templates.

Create / Get / List / Update / DeleteNotifyCodeConfiguration and tags on them, with the service's
validation (botocore's ``endusermessaging`` 2026-09-21 model, ``local/notify_code_validation.py``) and
the rules the model and the user guide ("Notify code configurations") document:

- a configuration holds a passcode policy (code type, length, validity, attempts: each optional; "when
  you omit a member, no value is applied at create time and the default is applied when a passcode is
  sent") and per-channel parameters (text, voice, notify, whatsApp); names need not be unique;
- create rejects empty values; ``clientToken`` makes a create idempotent;
- update is loose: an omitted member keeps its value; within a supplied channel an empty string (an
  empty map for the destination-country parameters) clears a member, and clearing every member drops
  the channel;
- delete answers ``ConflictException`` while deletion protection is on; verifications already sent are
  not affected (a send captures the policy and templates: ``NotifyCodeEmulator``);
- ``ResourceNotFoundException`` for an id (or ARN) the account does not hold in the request's region.

Decisions where AWS documents nothing: ids are ``ncc-`` and 17 lowercase letters and digits (the shape of
the SDK examples' ``ncc-abc12345678901234``); a client token reused with other parameters is a
``ConflictException`` (the one conflict Create's model lists); List returns the configurations oldest
first, 25 a page unless ``maxResults`` says otherwise, with an opaque ``nextToken``; an update never
conflicts.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from local import notify_code_validation as v
from local.notify_code_validation import NotifyCodeError, conflict, not_found, validation_error

RESOURCE_TYPE: Final = "NotifyCodeConfiguration"
ARN_RESOURCE: Final = "notify-code-configuration"
ID_PREFIX: Final = "ncc-"
ID_ALPHABET: Final = string.ascii_lowercase + string.digits
ID_LENGTH: Final = 17
DEFAULT_PAGE_SIZE: Final = 25
MAX_TAGS: Final = 50
CHANNELS: Final = ("text", "voice", "notify", "whatsApp")
POLICY_MEMBERS: Final = ("codeType", "codeLength", "validityPeriodMinutes", "maxAttempts")

Channels = dict[str, dict[str, Any]]


def parse_policy(raw: Mapping[str, object], name: str, path: str) -> dict[str, Any]:
    """CodeConfigurationParameters (create, update and a send's overrides share the shape)."""
    policy = v.object_member(raw, name, path)
    where = f"{path}/{name}"
    parsed: dict[str, Any] = {
        "codeType": v.enum_member(policy, "codeType", v.CODE_TYPES, where),
        "codeLength": v.integer_member(policy, "codeLength", v.CODE_LENGTH_RANGE, where),
        "validityPeriodMinutes": v.integer_member(
            policy, "validityPeriodMinutes", v.VALIDITY_MINUTES_RANGE, where
        ),
        "maxAttempts": v.integer_member(policy, "maxAttempts", v.MAX_ATTEMPTS_RANGE, where),
    }
    return {member: value for member, value in parsed.items() if value is not None}


def parse_channels(raw: Mapping[str, object], name: str, path: str, *, update: bool = False) -> Channels:
    """ChannelParameters (create, a send's overrides) or UpdateChannelParameters (``update``): each
    supplied channel's members as given, ``""`` / ``{}`` included for an update (its "clear" sentinel)."""
    channels = v.object_member(raw, name, path)
    where = f"{path}/{name}"
    template = v.UPDATE_TEMPLATE if update else v.TEMPLATE
    language = v.UPDATE_LANGUAGE if update else v.LANGUAGE
    voice_id = v.UPDATE_VOICE_ID if update else v.VOICE_ID
    notify_template = v.UPDATE_NOTIFY_TEMPLATE_ID if update else v.NOTIFY_TEMPLATE_ID
    whatsapp_template = v.UPDATE_WHATSAPP_TEMPLATE if update else v.WHATSAPP_TEMPLATE
    parsed: Channels = {}
    for channel in CHANNELS:
        if channel not in channels or channels[channel] is None:
            continue
        members = v.object_member(channels, channel, where)
        at = f"{where}/{channel}"
        values: dict[str, Any]
        if channel == "text":
            values = {"inlineTemplateBody": v.template_member(members, "inlineTemplateBody", template, at)}
            if members.get("destinationCountryParameters") is not None:
                values["destinationCountryParameters"] = v.string_map_member(
                    members, "destinationCountryParameters", at,
                    keys=v.COUNTRY_PARAMETER, values=v.COUNTRY_PARAMETER, entries=(0 if update else 1, 10),
                )  # fmt: skip
        elif channel == "voice":
            values = {
                "inlineTemplateBody": v.template_member(members, "inlineTemplateBody", template, at),
                "languageCode": v.string_member(members, "languageCode", language, at),
                "voiceId": v.string_member(members, "voiceId", voice_id, at),
                "voiceMessageBodyTextType": v.enum_member(
                    members, "voiceMessageBodyTextType", v.VOICE_BODY_TYPES, at
                ),
            }
        elif channel == "notify":
            values = {
                "notifyTemplateId": v.string_member(members, "notifyTemplateId", notify_template, at),
                "voiceId": v.string_member(members, "voiceId", voice_id, at),
            }
        else:
            values = {
                "whatsAppTemplateName": v.whatsapp_name_member(members, whatsapp_template, at),
                "languageCode": v.string_member(members, "languageCode", language, at),
            }
        parsed[channel] = {member: value for member, value in values.items() if value is not None}
    return parsed


def _merged_channels(stored: Channels, changes: Channels) -> Channels:
    """UpdateChannelParameters applied: supplied members replace, empty ones clear, a channel left with no
    member is dropped, an omitted channel is kept."""
    result = {channel: dict(members) for channel, members in stored.items()}
    for channel, members in changes.items():
        current = result.setdefault(channel, {})
        for member, value in members.items():
            if value in ("", {}):
                current.pop(member, None)
            else:
                current[member] = value
        if not current:
            del result[channel]
    return result


def _new_id() -> str:
    return ID_PREFIX + "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


@dataclass
class CodeConfiguration:
    """One configuration; mutated only under the store's lock."""

    configuration_id: str
    arn: str
    region: str
    name: str
    policy: dict[str, Any]
    channels: Channels
    deletion_protection: bool
    created_at: float
    updated_at: float
    sequence: int
    tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "notifyCodeConfigurationId": self.configuration_id,
            "notifyCodeConfigurationArn": self.arn,
            "notifyCodeConfigurationName": self.name,
            "deletionProtectionEnabled": self.deletion_protection,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        if self.policy:
            document["codeConfigurationParameters"] = dict(self.policy)
        if self.channels:
            document["channelParameters"] = {c: dict(m) for c, m in self.channels.items()}
        return document


@dataclass(frozen=True)
class _TokenUse:
    fingerprint: str
    configuration_id: str


class NotifyCodeConfigurations:
    """Every region's configurations of the sandbox's one account."""

    def __init__(self, *, account_id: str, clock: Callable[[], float]) -> None:
        self.account_id = account_id
        self._clock = clock
        self._lock = threading.Lock()
        self._configurations: dict[tuple[str, str], CodeConfiguration] = {}
        self._tokens: dict[tuple[str, str], _TokenUse] = {}
        self._sequence = 0

    # ------------------------------------------------------------------------------------ operations

    def create(self, raw: Mapping[str, object], region: str) -> dict[str, Any]:
        name = v.required_member(raw, "notifyCodeConfigurationName", v.CONFIGURATION_NAME, "")
        policy = parse_policy(raw, "codeConfigurationParameters", "")
        channels = {c: m for c, m in parse_channels(raw, "channelParameters", "").items() if m}
        protection = bool(v.boolean_member(raw, "deletionProtectionEnabled", ""))
        token = v.string_member(raw, "clientToken", v.CLIENT_TOKEN, "")
        tags = _tag_list(raw, "tags", "", entries=(0, MAX_TAGS))
        fingerprint = json.dumps(
            {"name": name, "policy": policy, "channels": channels, "protection": protection, "tags": tags},
            sort_keys=True,
        )
        with self._lock:
            if token is not None:
                used = self._tokens.get((region, token))
                held = self._configurations.get((region, used.configuration_id)) if used else None
                if used is not None and held is not None:
                    if used.fingerprint != fingerprint:
                        raise conflict(
                            RESOURCE_TYPE,
                            used.configuration_id,
                            "clientToken was already used with different parameters",
                        )
                    return {"notifyCodeConfiguration": held.to_json()}
            now = self._clock()
            self._sequence += 1
            configuration_id = _new_id()
            configuration = CodeConfiguration(
                configuration_id=configuration_id,
                arn=self._arn(region, configuration_id),
                region=region,
                name=name,
                policy=policy,
                channels=channels,
                deletion_protection=protection,
                created_at=now,
                updated_at=now,
                sequence=self._sequence,
                tags=tags,
            )
            self._configurations[(region, configuration_id)] = configuration
            if token is not None:
                self._tokens[(region, token)] = _TokenUse(fingerprint, configuration_id)
            return {"notifyCodeConfiguration": configuration.to_json()}

    def get(self, identifier: str, region: str) -> dict[str, Any]:
        with self._lock:
            return {"notifyCodeConfiguration": self._held(identifier, region).to_json()}

    def list_page(self, query: Mapping[str, str], region: str) -> dict[str, Any]:
        size = _query_integer(query, "maxResults", v.MAX_RESULTS_RANGE) or DEFAULT_PAGE_SIZE
        token = v.string_member(query, "nextToken", v.NEXT_TOKEN, "")
        start = _decode_page_token(token) if token is not None else 0
        with self._lock:
            ordered = sorted(
                (c for c in self._configurations.values() if c.region == region), key=lambda c: c.sequence
            )
            remaining = [c for c in ordered if c.sequence >= start]
        page, rest = remaining[:size], remaining[size:]
        answer: dict[str, Any] = {"notifyCodeConfigurations": [c.to_json() for c in page]}
        if rest:
            answer["nextToken"] = _encode_page_token(rest[0].sequence)
        return answer

    def update(self, identifier: str, raw: Mapping[str, object], region: str) -> dict[str, Any]:
        name = v.string_member(raw, "notifyCodeConfigurationName", v.CONFIGURATION_NAME, "")
        policy = parse_policy(raw, "codeConfigurationParameters", "")
        channels = parse_channels(raw, "channelParameters", "", update=True)
        protection = v.boolean_member(raw, "deletionProtectionEnabled", "")
        with self._lock:
            held = self._held(identifier, region)
            if name is not None:
                held.name = name
            held.policy = {**held.policy, **policy}
            held.channels = _merged_channels(held.channels, channels)
            if protection is not None:
                held.deletion_protection = protection
            held.updated_at = self._clock()
            return {"notifyCodeConfiguration": held.to_json()}

    def delete(self, identifier: str, region: str) -> dict[str, Any]:
        with self._lock:
            held = self._held(identifier, region)
            if held.deletion_protection:
                raise conflict(
                    RESOURCE_TYPE,
                    held.configuration_id,
                    "deletion protection is enabled: turn it off before deleting the configuration",
                )
            del self._configurations[(region, held.configuration_id)]
        return {}

    def resolve(self, identifier: str, region: str) -> CodeConfiguration:
        """The configuration a send names, as it is now (the send copies what it uses)."""
        with self._lock:
            held = self._held(identifier, region)
            return CodeConfiguration(
                configuration_id=held.configuration_id,
                arn=held.arn,
                region=held.region,
                name=held.name,
                policy=dict(held.policy),
                channels={c: dict(m) for c, m in held.channels.items()},
                deletion_protection=held.deletion_protection,
                created_at=held.created_at,
                updated_at=held.updated_at,
                sequence=held.sequence,
            )

    # ------------------------------------------------------------------------------------------ tags

    def list_tags(self, resource_arn: str, region: str) -> dict[str, Any]:
        with self._lock:
            held = self._by_arn(resource_arn, region)
            return {"tags": [{"key": k, "value": value} for k, value in held.tags.items()]}

    def tag(self, resource_arn: str, raw: Mapping[str, object], region: str) -> dict[str, Any]:
        if raw.get("tags") is None:
            raise validation_error("/tags", "is required")
        tags = _tag_list(raw, "tags", "", entries=(1, MAX_TAGS))
        with self._lock:
            held = self._by_arn(resource_arn, region)
            merged = {**held.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise validation_error("/tags", f"a resource can have at most {MAX_TAGS} tags")
            held.tags = merged
        return {}

    def untag(self, resource_arn: str, keys: list[str], region: str) -> dict[str, Any]:
        if not keys:
            raise validation_error("/tagKeys", "is required")
        for key in keys:
            v.required_member({"key": key}, "key", v.TAG_KEY, "/tagKeys")
        with self._lock:
            held = self._by_arn(resource_arn, region)
            held.tags = {k: value for k, value in held.tags.items() if k not in keys}
        return {}

    # ------------------------------------------------------------------------------------- internals

    def _arn(self, region: str, configuration_id: str) -> str:
        return f"arn:aws:end-user-messaging:{region}:{self.account_id}:{ARN_RESOURCE}/{configuration_id}"

    def _held(self, identifier: str, region: str) -> CodeConfiguration:
        v.required_member({"id": identifier}, "id", v.CONFIGURATION_ID_OR_ARN, "/notifyCodeConfigurationId")
        configuration_id = identifier
        if identifier.startswith("arn:"):
            prefix = f"arn:aws:end-user-messaging:{region}:{self.account_id}:{ARN_RESOURCE}/"
            if not identifier.startswith(prefix):
                raise not_found(RESOURCE_TYPE, identifier)
            configuration_id = identifier.removeprefix(prefix)
        held = self._configurations.get((region, configuration_id))
        if held is None:
            raise not_found(RESOURCE_TYPE, identifier)
        return held

    def _by_arn(self, resource_arn: str, region: str) -> CodeConfiguration:
        v.required_member({"resourceArn": resource_arn}, "resourceArn", v.ARN, "")
        if f":{ARN_RESOURCE}/" not in resource_arn:
            raise not_found("Resource", resource_arn)
        return self._held(resource_arn, region)


def _tag_list(raw: Mapping[str, object], name: str, path: str, *, entries: tuple[int, int]) -> dict[str, str]:
    value = raw.get(name)
    if value is None:
        return {}
    where = f"{path}/{name}"
    low, high = entries
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise validation_error(where, f"must be a list of {low} to {high} tags")
    tags: dict[str, str] = {}
    for index, tag in enumerate(value):
        at = f"{where}/{index}"
        if not isinstance(tag, dict):
            raise validation_error(at, "must be an object")
        key = v.required_member(tag, "key", v.TAG_KEY, at)
        tag_value = v.string_member(tag, "value", v.TAG_VALUE, at)
        if tag_value is None:
            raise validation_error(f"{at}/value", "is required")
        if key in tags:
            raise validation_error(at, f"duplicate tag key {key}")
        tags[key] = tag_value
    return tags


def _query_integer(query: Mapping[str, str], name: str, bounds: tuple[int, int]) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    low, high = bounds
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise validation_error(f"/{name}", f"must be an integer from {low} to {high}")
    return int(raw)


def _encode_page_token(sequence: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"from": sequence}).encode()).decode()


def _decode_page_token(token: str) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError):
        decoded = None
    start = decoded.get("from") if isinstance(decoded, dict) else None
    if isinstance(start, bool) or not isinstance(start, int) or start < 1:
        raise validation_error("/nextToken", "is not a token this operation returned")
    return start


__all__ = [
    "CodeConfiguration",
    "NotifyCodeConfigurations",
    "NotifyCodeError",
    "parse_channels",
    "parse_policy",
]
