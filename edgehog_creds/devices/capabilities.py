"""What a device can do, derived from the interfaces it declares, exactly as Edgehog does.

Edgehog (backend/lib/edgehog/capabilities.ex, `Edgehog.Capabilities`) maps
each capability to sets of Astarte interfaces; a device has a capability when
its introspection holds every interface of one of its sets, each with the
same major version and at least the minor version. A device whose
introspection is known always has `geolocation` too; one whose introspection
is unknown has none at all.
"""

from __future__ import annotations

from collections.abc import Mapping

_DM = "io.edgehog.devicemanager."


def _v01(*names: str) -> tuple[tuple[str, int, int], ...]:
    return tuple((_DM + name, 0, 1) for name in names)


# (capability, interfaces it needs): a capability may appear more than once,
# each a set of interfaces that is enough (software_updates has two).
CAPABILITY_INTERFACES: tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...] = (
    ("base_image", _v01("BaseImage")),
    ("battery_status", _v01("BatteryStatus")),
    (
        "cellular_connection",
        _v01("CellularConnectionProperties", "CellularConnectionStatus"),
    ),
    ("commands", _v01("Commands")),
    (
        "container_management",
        _v01(
            "apps.AvailableContainers",
            "apps.AvailableDeployments",
            "apps.AvailableImages",
            "apps.AvailableNetworks",
            "apps.AvailableVolumes",
            "apps.AvailableDeviceMappings",
            "apps.AvailableDeviceRequests",
            "apps.CreateContainerRequest",
            "apps.CreateDeploymentRequest",
            "apps.CreateImageRequest",
            "apps.CreateNetworkRequest",
            "apps.CreateVolumeRequest",
            "apps.CreateDeviceMappingRequest",
            "apps.CreateDeviceRequest",
            "apps.DeploymentCommand",
            "apps.DeploymentEvent",
            "apps.DeploymentUpdate",
        ),
    ),
    (
        "file_transfer_stream",
        _v01("fileTransfer.ServerToDevice", "fileTransfer.Progress", "fileTransfer.Response"),
    ),
    (
        "file_transfer_storage",
        _v01(
            "fileTransfer.ServerToDevice",
            "fileTransfer.Progress",
            "fileTransfer.Response",
            "storage.File",
        ),
    ),
    (
        "file_transfer_read",
        _v01("fileTransfer.DeviceToServer", "fileTransfer.Progress", "fileTransfer.Response"),
    ),
    ("file_transfer_delete", _v01("storage.DeleteFile", "storage.Response")),
    ("hardware_info", _v01("HardwareInfo")),
    ("led_behaviors", _v01("LedBehavior")),
    ("network_interface_info", _v01("NetworkInterfaceProperties")),
    ("operating_system", _v01("OSInfo")),
    ("remote_terminal", _v01("ForwarderSessionRequest", "ForwarderSessionState")),
    ("runtime_info", _v01("RuntimeInfo")),
    ("software_updates", _v01("OTARequest", "OTAResponse")),
    ("software_updates", ((_DM + "OTARequest", 1, 0), (_DM + "OTAEvent", 0, 1))),
    ("storage", _v01("StorageUsage")),
    ("system_info", _v01("SystemInfo")),
    ("system_status", _v01("SystemStatus")),
    ("telemetry_config", _v01("config.Telemetry")),
    ("wifi", _v01("WiFiScanResults")),
)

# Every capability Edgehog knows, in its order (its DeviceCapability enum).
CAPABILITIES = tuple(sorted({name for name, _ in CAPABILITY_INTERFACES} | {"geolocation"}))


def _supported(
    introspection: Mapping[str, tuple[int, int]], name: str, major: int, minor: int
) -> bool:
    found = introspection.get(name)
    return found is not None and found[0] == major and found[1] >= minor


def from_introspection(introspection: Mapping[str, tuple[int, int]] | None) -> list[str]:
    """The capabilities of a device whose introspection maps interface name ->
    (major, minor), sorted by name; [] when its introspection is unknown (None)."""
    if introspection is None:
        return []
    found = {
        capability
        for capability, interfaces in CAPABILITY_INTERFACES
        if all(_supported(introspection, *interface) for interface in interfaces)
    }
    # Edgehog adds it to every device it knows the introspection of (its
    # TODO: "add checks on device privacy settings and geolocation providers").
    found.add("geolocation")
    return sorted(found)
