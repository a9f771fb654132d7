"""reportIntrospection (a device declares its interfaces) and Device.capabilities.

The expected capabilities are Edgehog's (backend/lib/edgehog/capabilities.ex),
written out here again from its table rather than read from ours.
"""

from __future__ import annotations

from .devices_gql import create_device, report_introspection
from .gql import errors_of

CAPABILITIES = "query($id: ID!) { device(id: $id) { capabilities } }"

DM = "io.edgehog.devicemanager."
APPS = [
    "AvailableContainers",
    "AvailableDeployments",
    "AvailableImages",
    "AvailableNetworks",
    "AvailableVolumes",
    "AvailableDeviceMappings",
    "AvailableDeviceRequests",
    "CreateContainerRequest",
    "CreateDeploymentRequest",
    "CreateImageRequest",
    "CreateNetworkRequest",
    "CreateVolumeRequest",
    "CreateDeviceMappingRequest",
    "CreateDeviceRequest",
    "DeploymentCommand",
    "DeploymentEvent",
    "DeploymentUpdate",
]
CONTAINER_MANAGEMENT = [(f"{DM}apps.{name}", 0, 1) for name in APPS]

# Edgehog's table: each capability and one set of interfaces (all 0.1 unless said).
EDGEHOG = {
    "BASE_IMAGE": ["BaseImage"],
    "BATTERY_STATUS": ["BatteryStatus"],
    "CELLULAR_CONNECTION": ["CellularConnectionProperties", "CellularConnectionStatus"],
    "COMMANDS": ["Commands"],
    "FILE_TRANSFER_READ": [
        "fileTransfer.DeviceToServer",
        "fileTransfer.Progress",
        "fileTransfer.Response",
    ],
    "FILE_TRANSFER_DELETE": ["storage.DeleteFile", "storage.Response"],
    "HARDWARE_INFO": ["HardwareInfo"],
    "LED_BEHAVIORS": ["LedBehavior"],
    "NETWORK_INTERFACE_INFO": ["NetworkInterfaceProperties"],
    "OPERATING_SYSTEM": ["OSInfo"],
    "REMOTE_TERMINAL": ["ForwarderSessionRequest", "ForwarderSessionState"],
    "RUNTIME_INFO": ["RuntimeInfo"],
    "STORAGE": ["StorageUsage"],
    "SYSTEM_INFO": ["SystemInfo"],
    "SYSTEM_STATUS": ["SystemStatus"],
    "TELEMETRY_CONFIG": ["config.Telemetry"],
    "WIFI": ["WiFiScanResults"],
}


def v01(*names: str) -> list[tuple[str, int, int]]:
    return [(DM + name, 0, 1) for name in names]


async def capabilities(tenant, device_gid: str) -> list[str]:
    body = await tenant.gql(CAPABILITIES, {"id": device_gid})
    assert "errors" not in body, body
    return body["data"]["device"]["capabilities"]


async def declared(tenant, interfaces: list[tuple[str, int, int]]) -> list[str]:
    """The capabilities of a new device that declared `interfaces`."""
    device, token = await create_device(tenant)
    body = await report_introspection(tenant, token, interfaces)
    assert "errors" not in body, body
    reported = body["data"]["reportIntrospection"]["result"]["capabilities"]
    assert await capabilities(tenant, device["id"]) == reported
    return reported


async def test_no_capabilities_until_the_device_declares_its_interfaces(tenant):
    device, token = await create_device(tenant)
    assert await capabilities(tenant, device["id"]) == []
    # Declaring nothing at all is still an introspection: Edgehog then gives geolocation.
    await report_introspection(tenant, token, [])
    assert await capabilities(tenant, device["id"]) == ["GEOLOCATION"]


async def test_a_report_is_stored_and_answered(tenant, pool):
    device, token = await create_device(tenant)
    body = await report_introspection(
        tenant, token, [*CONTAINER_MANAGEMENT, (f"{DM}OSInfo", 0, 3), ("com.example.Custom", 2, 0)]
    )
    result = body["data"]["reportIntrospection"]
    assert result["errors"] == []
    names = [i["name"] for i in result["result"]["interfaces"]]
    assert names == sorted(names) and len(names) == len(APPS) + 2
    assert {"name": "com.example.Custom", "major": 2, "minor": 0} in result["result"]["interfaces"]
    assert result["result"]["capabilities"] == [
        "CONTAINER_MANAGEMENT",
        "GEOLOCATION",
        "OPERATING_SYSTEM",
    ]
    assert await capabilities(tenant, device["id"]) == result["result"]["capabilities"]
    stored = await pool.fetchval(
        "SELECT count(*) FROM device_interfaces WHERE tenant_id = $1", tenant.id
    )
    assert stored == len(APPS) + 2

    # Each report replaces the last.
    await report_introspection(tenant, token, v01("OSInfo"))
    assert await capabilities(tenant, device["id"]) == ["GEOLOCATION", "OPERATING_SYSTEM"]
    stored = await pool.fetchval(
        "SELECT count(*) FROM device_interfaces WHERE tenant_id = $1", tenant.id
    )
    assert stored == 1


async def test_every_capability_as_edgehog_derives_it(tenant):
    for capability, names in EDGEHOG.items():
        assert await declared(tenant, v01(*names)) == sorted([capability, "GEOLOCATION"]), names
    assert await declared(tenant, CONTAINER_MANAGEMENT) == ["CONTAINER_MANAGEMENT", "GEOLOCATION"]
    stream = v01("fileTransfer.ServerToDevice", "fileTransfer.Progress", "fileTransfer.Response")
    assert await declared(tenant, stream) == ["FILE_TRANSFER_STREAM", "GEOLOCATION"]
    # Storage needs the streaming interfaces and storage.File: both capabilities then.
    assert await declared(tenant, [*stream, *v01("storage.File")]) == [
        "FILE_TRANSFER_STORAGE",
        "FILE_TRANSFER_STREAM",
        "GEOLOCATION",
    ]
    # Software updates: either OTARequest 0.1 with OTAResponse, or OTARequest 1.0 with OTAEvent.
    assert await declared(tenant, v01("OTARequest", "OTAResponse")) == [
        "GEOLOCATION",
        "SOFTWARE_UPDATES",
    ]
    assert await declared(tenant, [(DM + "OTARequest", 1, 0), *v01("OTAEvent")]) == [
        "GEOLOCATION",
        "SOFTWARE_UPDATES",
    ]
    assert await declared(tenant, [(DM + "OTARequest", 1, 0), *v01("OTAResponse")]) == [
        "GEOLOCATION"
    ]


async def test_versions_match_as_in_edgehog(tenant):
    # Same major, a later minor: supported. Another major, or an earlier minor: not.
    assert await declared(tenant, [(DM + "HardwareInfo", 0, 7)]) == [
        "GEOLOCATION",
        "HARDWARE_INFO",
    ]
    assert await declared(tenant, [(DM + "HardwareInfo", 1, 1)]) == ["GEOLOCATION"]
    assert await declared(tenant, [(DM + "OTARequest", 1, 0), (DM + "OTAEvent", 1, 0)]) == [
        "GEOLOCATION"
    ]
    # One interface of a set missing: no capability.
    assert await declared(tenant, CONTAINER_MANAGEMENT[:-1]) == ["GEOLOCATION"]


async def test_every_problem_of_a_report_comes_back(tenant):
    device, token = await create_device(tenant)
    body = await report_introspection(
        tenant,
        token,
        [
            ("not a name", 0, 1),
            (DM + "OSInfo", 0, 1),
            (DM + "OSInfo", 0, 2),
            (DM + "HardwareInfo", -1, 1),
            (DM + "SystemInfo", 0, 0),
            ("a." + "b" * 130, 0, 1),
        ],
    )
    assert body["data"] == {"reportIntrospection": None}
    assert errors_of(body) == [
        ("invalid", ["interfaces.0.name"]),
        ("invalid", ["interfaces.2.name"]),
        ("invalid", ["interfaces.3.major"]),
        ("invalid", ["interfaces.4.minor"]),
        ("too_long", ["interfaces.5.name"]),
    ]
    too_many = [(f"com.example.I{n}", 0, 1) for n in range(257)]
    body = await report_introspection(tenant, token, too_many)
    assert errors_of(body) == [("too_long", ["interfaces"])]
    # Nothing was stored.
    assert await capabilities(tenant, device["id"]) == []
    body = await report_introspection(tenant, token, too_many[:256])
    assert body["data"]["reportIntrospection"]["errors"] == []


async def test_only_a_device_reports_and_only_for_itself(tenant, other_tenant):
    one, one_token = await create_device(tenant)
    two, _ = await create_device(tenant)
    await report_introspection(tenant, one_token, v01("OSInfo"))
    assert await capabilities(tenant, one["id"]) == ["GEOLOCATION", "OPERATING_SYSTEM"]
    assert await capabilities(tenant, two["id"]) == []
    # A tenant user may not report.
    body = await tenant.gql(
        "mutation { reportIntrospection(interfaces: []) { result { capabilities } } }"
    )
    assert errors_of(body) == [("forbidden", [])]
    # Another tenant cannot see the device, nor use its token.
    seen = await other_tenant.gql(CAPABILITIES, {"id": one["id"]})
    assert seen["data"]["device"] is None
    response = await other_tenant.post(
        {"query": "mutation { reportIntrospection(interfaces: []) { errors { code } } }"},
        token=one_token,
    )
    assert response.status_code == 401
