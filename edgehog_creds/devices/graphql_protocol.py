"""What a device says about itself, with its own token: the interfaces it implements.

`reportIntrospection(interfaces:)` is the device's Astarte-style
introspection: every interface it implements, with its major and minor
version. Each report replaces the last. Its capabilities
(`Device.capabilities`) are derived from it as Edgehog derives them
(capabilities.py). Only a device token may report; a tenant user is refused.
"""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from strawberry.types import Info

from ..graphql.context import Context
from ..graphql.results import MutationError, mutation_field
from .capabilities import CAPABILITIES
from .service import DeviceProtocolService

# Edgehog's descriptions of its DeviceCapability values.
_ABOUT = {
    "base_image": "The device provides information about its base image.",
    "battery_status": "The device provides information about its battery status.",
    "cellular_connection": "The device provides information about its cellular connection.",
    "commands": "The device supports commands, for example the rebooting command.",
    "container_management": "The device supports running applications using containers.",
    "file_transfer_delete": "The device supports deleting files transferred to the device using "
    "file transfer storage",
    "file_transfer_read": "The device supports reading files from it.",
    "file_transfer_storage": "The device supports transferring files to and from its storage "
    "units.",
    "file_transfer_stream": "The device supports streaming files to and from it.",
    "geolocation": "The device can be geolocated.",
    "hardware_info": "The device provides information about its hardware.",
    "led_behaviors": "The device can be asked to blink its LED in a specific pattern.",
    "network_interface_info": "The device can provide information about its network interfaces.",
    "operating_system": "The device provides information about its operating system.",
    "remote_terminal": "The device supports remote terminal sessions.",
    "runtime_info": "The device provides information about its runtime.",
    "software_updates": "The device can be updated remotely.",
    "storage": "The device provides information about its storage units.",
    "system_info": "The device provides information about its system.",
    "system_status": "The device provides information about its system status.",
    "telemetry_config": "The device telemetry can be configured.",
    "wifi": "The device provides information about surrounding WiFi APs.",
}


@strawberry.enum(description="What a device can do: derived from the interfaces it declares.")
class DeviceCapability(enum.Enum):
    BASE_IMAGE = strawberry.enum_value("base_image", description=_ABOUT["base_image"])
    BATTERY_STATUS = strawberry.enum_value("battery_status", description=_ABOUT["battery_status"])
    CELLULAR_CONNECTION = strawberry.enum_value(
        "cellular_connection", description=_ABOUT["cellular_connection"]
    )
    COMMANDS = strawberry.enum_value("commands", description=_ABOUT["commands"])
    CONTAINER_MANAGEMENT = strawberry.enum_value(
        "container_management", description=_ABOUT["container_management"]
    )
    FILE_TRANSFER_DELETE = strawberry.enum_value(
        "file_transfer_delete", description=_ABOUT["file_transfer_delete"]
    )
    FILE_TRANSFER_READ = strawberry.enum_value(
        "file_transfer_read", description=_ABOUT["file_transfer_read"]
    )
    FILE_TRANSFER_STORAGE = strawberry.enum_value(
        "file_transfer_storage", description=_ABOUT["file_transfer_storage"]
    )
    FILE_TRANSFER_STREAM = strawberry.enum_value(
        "file_transfer_stream", description=_ABOUT["file_transfer_stream"]
    )
    GEOLOCATION = strawberry.enum_value("geolocation", description=_ABOUT["geolocation"])
    HARDWARE_INFO = strawberry.enum_value("hardware_info", description=_ABOUT["hardware_info"])
    LED_BEHAVIORS = strawberry.enum_value("led_behaviors", description=_ABOUT["led_behaviors"])
    NETWORK_INTERFACE_INFO = strawberry.enum_value(
        "network_interface_info", description=_ABOUT["network_interface_info"]
    )
    OPERATING_SYSTEM = strawberry.enum_value(
        "operating_system", description=_ABOUT["operating_system"]
    )
    REMOTE_TERMINAL = strawberry.enum_value(
        "remote_terminal", description=_ABOUT["remote_terminal"]
    )
    RUNTIME_INFO = strawberry.enum_value("runtime_info", description=_ABOUT["runtime_info"])
    SOFTWARE_UPDATES = strawberry.enum_value(
        "software_updates", description=_ABOUT["software_updates"]
    )
    STORAGE = strawberry.enum_value("storage", description=_ABOUT["storage"])
    SYSTEM_INFO = strawberry.enum_value("system_info", description=_ABOUT["system_info"])
    SYSTEM_STATUS = strawberry.enum_value("system_status", description=_ABOUT["system_status"])
    TELEMETRY_CONFIG = strawberry.enum_value(
        "telemetry_config", description=_ABOUT["telemetry_config"]
    )
    WIFI = strawberry.enum_value("wifi", description=_ABOUT["wifi"])


# Edgehog's enum and capabilities.py name the same capabilities.
assert {c.name.lower() for c in DeviceCapability} == set(CAPABILITIES)


@strawberry.input(description="One interface a device implements, as Astarte names it.")
class InterfaceInput:
    name: str = strawberry.field(
        description="e.g. io.edgehog.devicemanager.apps.CreateImageRequest"
    )
    major: int = strawberry.field(description="Major version.")
    minor: int = strawberry.field(description="Minor version.")


@strawberry.type(description="An interface a device declared.")
class DeviceInterface:
    name: str
    major: int
    minor: int


@strawberry.type(description="The interfaces a device declared, and what they let it do.")
class Introspection:
    interfaces: list[DeviceInterface] = strawberry.field(
        description="Every interface it declared, by name."
    )
    capabilities: list[DeviceCapability] = strawberry.field(
        description="Its capabilities, derived from them as Edgehog derives them."
    )


@strawberry.type
class ReportIntrospectionResult:
    result: Introspection | None
    errors: list[MutationError] = strawberry.field(default_factory=list)


async def _report(
    info: Info[Context, None], interfaces: list[InterfaceInput]
) -> ReportIntrospectionResult:
    ctx = info.context
    service = DeviceProtocolService(ctx.db, ctx.device())  # a tenant user is refused here
    stored, capabilities = await service.report_introspection(
        [(i.name, i.major, i.minor) for i in interfaces]
    )
    return ReportIntrospectionResult(
        result=Introspection(
            interfaces=[DeviceInterface(name=i.name, major=i.major, minor=i.minor) for i in stored],
            capabilities=[DeviceCapability(c) for c in capabilities],
        )
    )


@strawberry.type
class DeviceProtocolMutations:
    report_introspection: Any = mutation_field(
        _report,
        ReportIntrospectionResult,
        "For a device token only: declare every interface the device implements "
        "(replacing what it declared before). Its capabilities are derived from them.",
    )
