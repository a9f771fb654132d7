"""What a device may report, parsed: Edgehog's device-owned interfaces, checked.

A device reports with the messages Edgehog's device runtime publishes to
Astarte (edgehog-astarte-interfaces): the same interface names, paths and
values, so a runtime needs only another transport. Each report carries the
device's timestamp (Astarte's explicit timestamp); reports may arrive late or
twice, and the timestamps order them. Nothing here does I/O.

| interface (io.edgehog.devicemanager.apps.) | path | data |
| --- | --- | --- |
| DeploymentEvent | /<deploymentId> | {status, message, addInfo} |
| AvailableDeployments | /<deploymentId>/status | "Started" / "Stopped" / null (removed) |
| AvailableContainers | /<containerId>/status | "Received", "Created", "Running", "Stopped", null |
| AvailableImages | /<imageId>/pulled | true / false / null |
| AvailableVolumes, AvailableNetworks | /<id>/created | true / false / null |
| AvailableDeviceMappings, AvailableDeviceRequests | /<id>/present | true / false / null |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import text
from ..domain.errors import Invalid
from .model import EVENT_TYPES

PREFIX = "io.edgehog.devicemanager.apps."
MAX_REPORTS = 500  # per request: a device reports what changed, a few at a time
MAX_MESSAGE = 4096
MAX_ADD_INFO = 32


@dataclass(frozen=True, slots=True)
class ResourceState:
    """An Available* property: what the device holds of one resource."""

    kind: str  # image, volume, network, device_mapping, device_request, container
    resource_id: uuid.UUID
    state: str | None  # None: the device removed it
    at: datetime


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """AvailableDeployments: started, stopped, or None once the device deleted it."""

    deployment_id: uuid.UUID
    state: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Event:
    """DeploymentEvent: something that happened to a deployment on the device."""

    deployment_id: uuid.UUID
    type: str  # one of model.EVENT_TYPES
    message: str
    add_info: tuple[str, ...]
    at: datetime


Report = ResourceState | DeploymentStatus | Event

# interface -> (kind, the path's last part, {value reported: state kept})
_PROPERTIES: dict[str, tuple[str, str, dict[Any, str]]] = {
    "AvailableImages": ("image", "pulled", {True: "pulled", False: "unpulled"}),
    "AvailableVolumes": ("volume", "created", {True: "available", False: "unavailable"}),
    "AvailableNetworks": ("network", "created", {True: "available", False: "unavailable"}),
    "AvailableDeviceMappings": (
        "device_mapping",
        "present",
        {True: "present", False: "not_present"},
    ),
    "AvailableDeviceRequests": (
        "device_request",
        "present",
        {True: "present", False: "not_present"},
    ),
    "AvailableContainers": (
        "container",
        "status",
        {
            "Received": "received",
            "Created": "device_created",
            "Running": "running",
            "Stopped": "stopped",
        },
    ),
}
_DEPLOYMENT_STATES = {"Started": "started", "Stopped": "stopped"}


def _id(field: str, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(field, "must name a resource by its id (a UUID)") from None


def _path(field: str, path: str, parts: int) -> list[str]:
    """`/a/b` split into exactly `parts` non-empty parts."""
    split = path.split("/")
    if len(path) > 200 or split[0] != "" or len(split) != parts + 1 or not all(split[1:]):
        raise Invalid(field, "is not a path of this interface")
    return split[1:]


def _value(field: str, data: Any, mapping: dict[Any, str]) -> str | None:
    if data is None:
        return None
    # A JSON true is not the number 1: compare types too.
    for given, state in mapping.items():
        if type(data) is type(given) and data == given:
            return state
    allowed = ", ".join(str(v).lower() if isinstance(v, bool) else v for v in mapping)
    raise Invalid(field, f"must be one of: {allowed}, or null")


def parse(index: int, interface: str, path: str, data: Any, at: datetime) -> Report:
    """One report of a device, or Invalid naming `messages.<index>.<field>`."""
    where = f"messages.{index}"
    if not interface.startswith(PREFIX):
        raise Invalid(f"{where}.interface", "is not an interface a device reports on")
    name = interface[len(PREFIX) :]
    if name == "DeploymentEvent":
        (deployment,) = _path(f"{where}.path", path, 1)
        return _event(where, _id(f"{where}.path", deployment), data, at)
    if name == "AvailableDeployments":
        deployment, last = _path(f"{where}.path", path, 2)
        if last != "status":
            raise Invalid(f"{where}.path", "is not a path of this interface")
        state = _value(f"{where}.data", data, {k: k for k in _DEPLOYMENT_STATES})
        return DeploymentStatus(
            _id(f"{where}.path", deployment), _DEPLOYMENT_STATES.get(state or ""), at
        )
    if name in _PROPERTIES:
        kind, property_name, mapping = _PROPERTIES[name]
        resource, last = _path(f"{where}.path", path, 2)
        if last != property_name:
            raise Invalid(f"{where}.path", "is not a path of this interface")
        return ResourceState(
            kind, _id(f"{where}.path", resource), _value(f"{where}.data", data, mapping), at
        )
    raise Invalid(f"{where}.interface", "is not an interface a device reports on")


def _event(where: str, deployment_id: uuid.UUID, data: Any, at: datetime) -> Event:
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        raise Invalid(f"{where}.data", "must be an object with status, message and addInfo")
    status = data["status"].lower()
    if status not in EVENT_TYPES:
        raise Invalid(f"{where}.data.status", f"must be one of: {', '.join(EVENT_TYPES)}")
    message = data.get("message") or ""
    add_info = data.get("addInfo") or []
    if not isinstance(message, str) or not isinstance(add_info, list):
        raise Invalid(f"{where}.data", "must be an object with status, message and addInfo")
    _free_text(f"{where}.data.message", message)
    if len(add_info) > MAX_ADD_INFO or not all(isinstance(a, str) for a in add_info):
        raise Invalid(
            f"{where}.data.add_info", f"must be at most {MAX_ADD_INFO} strings", code="too_long"
        )
    for i, line in enumerate(add_info):
        _free_text(f"{where}.data.add_info.{i}", line)
    return Event(deployment_id, status, message, tuple(add_info), at)


def _free_text(field: str, value: str) -> None:
    """An error text from a device: bounded, lines allowed, no other control character."""
    if len(value) > MAX_MESSAGE:
        raise Invalid(field, f"should be at most {MAX_MESSAGE} character(s)", code="too_long")
    if text.bad_characters(value, allowed="\t\n\r"):
        raise Invalid(field, "must not contain NUL or other control characters")
