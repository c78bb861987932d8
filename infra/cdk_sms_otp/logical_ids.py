"""A stack that keeps the logical ids resources had before ``OtpService`` existed.

Until 0.2.0 the app's stack held the product's constructs directly (``SmsOtp/Functions/...``); now they
are inside one ``OtpService`` (``SmsOtp/Otp/Functions/...``). CloudFormation knows a resource by its
logical id, and an id derived from the new path would replace every resource of a running deployment,
the user pool and the protection table included. :class:`OtpServiceStack` derives each id from the path
without the service's own component, exactly as CDK's ``makeUniqueId`` does, so the app's template keeps
its ids. A stack of your own that adds ``OtpService`` needs none of this: its resources are new.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

from aws_cdk import CfnElement, Stack
from constructs import Construct

# CDK's own constants (aws-cdk-lib/core/lib/private/uniqueid.ts).
_HIDDEN_ID: Final = "Default"
_HIDDEN_FROM_HUMAN_ID: Final = "Resource"
_PATH_SEP: Final = "/"
_HASH_LEN: Final = 8
_MAX_HUMAN_LEN: Final = 240
_MAX_ID_LEN: Final = 255
# What a unique id ends with: the path's hash, 8 upper-case hex digits.
_EMBEDDED_UNIQUE_ID: Final = re.compile(r"[0-9A-F]{8}")


def make_unique_id(components: list[str]) -> str:
    """A port of CDK's ``makeUniqueId``: a readable prefix and a hash of the whole path."""
    components = [c for c in components if c != _HIDDEN_ID]
    if not components:
        raise ValueError("unable to calculate a unique id for an empty set of components")
    if len(components) == 1:
        candidate = _alphanumeric(components[0])
        if len(candidate) <= _MAX_ID_LEN:
            return candidate
    digest = hashlib.md5(_PATH_SEP.join(components).encode(), usedforsecurity=False).hexdigest()
    human = "".join(_alphanumeric(c) for c in _without_dupes(components) if c != _HIDDEN_FROM_HUMAN_ID)
    return human[:_MAX_HUMAN_LEN] + digest[:_HASH_LEN].upper()


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _without_dupes(path: list[str]) -> list[str]:
    kept: list[str] = []
    for component in path:
        if not kept or not kept[-1].endswith(component):
            kept.append(component)
    return kept


class OtpServiceStack(Stack):
    """A stack whose ``OtpService`` child (id ``service_id``) is transparent to logical ids."""

    def __init__(self, scope: Construct, construct_id: str, *, service_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._service_id = service_id
        self._unique_ids: dict[str, str] | None = None

    def _allocate_logical_id(self, cfn_element: CfnElement) -> str:
        scopes = cfn_element.node.scopes
        path = [scope.node.id for scope in scopes[scopes.index(self) + 1 :]]
        if len(path) > 1 and path[0] == self._service_id:
            path = [self._as_before(component) for component in path[1:]]
        return make_unique_id(path)

    def _as_before(self, component: str) -> str:
        """Some construct ids embed another construct's unique id (``Names.nodeUniqueId``: an API's
        invoke permissions, a usage plan's key): put back the one that construct had before."""
        if not _EMBEDDED_UNIQUE_ID.search(component):
            return component
        if self._unique_ids is None or not any(now in component for now in self._unique_ids):
            # (again when nothing matches: ids are allocated while the tree still grows)
            self._unique_ids = self._service_unique_ids()
        for now, before in self._unique_ids.items():
            if now in component:
                component = component.replace(now, before)
        return component

    def _service_unique_ids(self) -> dict[str, str]:
        """Each construct's unique id under the service, now -> as it was without the service."""
        found: dict[str, str] = {}
        service = self.node.try_find_child(self._service_id)
        for construct in service.node.find_all() if service is not None else ():
            scopes = construct.node.scopes
            below = [scope.node.id for scope in scopes[scopes.index(self) + 1 :]]
            if len(below) > 1:
                found[make_unique_id([self.node.id, *below])] = make_unique_id([self.node.id, *below[1:]])
        return found
