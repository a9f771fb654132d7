"""Edgehog's device list and device page, run as its UI runs them.

The documents are Edgehog's own (frontend/src/pages/Devices.tsx and
Device.tsx with the fragments they spread), with one cut: the Deployment
fields of the Applications tab that this service does not have yet
(`isReady`, `events`, `containerDeployments`).
"""

from __future__ import annotations

from .devices_gql import (
    container,
    create_device,
    create_system_model,
    deploy,
    make_release,
    report_introspection,
)

DEVICES_PAGE = """
query Devices_getDevices_Query($first: Int, $after: String, $filter: DeviceFilterInput = {}) {
  ...Devices_DevicesFragment
}
fragment Devices_DevicesFragment on RootQueryType {
  devices(first: $first, after: $after, filter: $filter) {
    edges { node { __typename } }
    ...DevicesTable_DeviceEdgeFragment
  }
}
fragment DevicesTable_DeviceEdgeFragment on DeviceConnection {
  edges {
    node {
      id deviceId lastConnection lastDisconnection name online
      systemModel { name hardwareType { name } }
      tags { edges { node { name } } }
    }
  }
}
"""

DEVICE_PAGE = """
query Device_getDevice_Query($id: ID!, $first: Int, $after: String) {
  forwarderConfig { __typename }
  device(id: $id) {
    id deviceId name online capabilities partNumber serialNumber
    systemModel { name pictureUrl hardwareType { name } }
    tags { edges { node { id name } } }
    deviceGroups { id name }
    capabilities
    hardwareInfo { cpuArchitecture cpuModel cpuModelName cpuVendor memoryTotalBytes }
    baseImage { name version buildId fingerprint }
    osInfo { name version }
    runtimeInfo { name version environment url }
    position { latitude longitude timestamp }
    location { formattedAddress }
    storageUsage { label totalBytes freeBytes }
    systemStatus { memoryFreeBytes taskCount uptimeMilliseconds timestamp }
    wifiScanResults { channel connected essid macAddress rssi timestamp }
    batteryStatus { slot status levelPercentage levelAbsoluteError }
    otaOperations(first: $first, after: $after) {
      edges { node { __typename baseImageUrl createdAt status statusProgress statusCode
        updatedAt campaignTarget { campaign { id name } } } }
    }
    cellularConnection { apn carrier cellId imei imsi localAreaCode mobileCountryCode
      mobileNetworkCode registrationStatus rssi slot technology }
    networkInterfaces { name macAddress technology }
    fileTransferCapabilities {
      unixPermissions
      serverToDevice { storage streaming filesystem }
      deviceToServer { storage streaming filesystem }
    }
    fileDownloadRequests(first: $first, after: $after, sort: [{field: UPDATED_AT, order: DESC}]) {
      edges { node { id fileName status progressPercentage responseCode responseMessage
        destinationType destination deviceFile { pathOnDevice sizeBytes } progressTracked
        ttlSeconds uncompressedFileSizeBytes campaignTarget { campaign { id name } }
        userId groupId fileMode } }
    }
    fileUploadRequests(first: $first, after: $after, sort: [{field: UPDATED_AT, order: DESC}]) {
      edges { node { getPresignedUrl source sourceType encoding progressTracked status
        progressPercentage responseCode responseMessage } }
    }
    deviceFiles(first: $first, after: $after, filter: {deleted: {eq: false}}) {
      edges { node { id fileId pathOnDevice sizeBytes fileDownloadRequest { id fileName } } }
    }
    fileDeleteRequests(first: $first, after: $after, sort: [{field: UPDATED_AT, order: DESC}]) {
      edges { node { force status responseCode responseMessages
        deviceFile { fileId pathOnDevice fileDownloadRequest { fileName } } } }
    }
    lastConnection
    lastDisconnection
  }
  ...ApplicationsTab_deployedApplications
}
fragment ApplicationsTab_deployedApplications on RootQueryType {
  device(id: $id) {
    id online capabilities systemModel { name }
    applicationDeployments(first: $first, after: $after) {
      edges { node { id state device { id } release { id version application { id name } } } }
    }
  }
}
"""

ASTARTE_NULLS = [
    "partNumber",
    "serialNumber",
    "hardwareInfo",
    "baseImage",
    "osInfo",
    "runtimeInfo",
    "position",
    "location",
    "storageUsage",
    "systemStatus",
    "wifiScanResults",
    "batteryStatus",
    "cellularConnection",
    "networkInterfaces",
    "fileTransferCapabilities",
]
EMPTY_CONNECTIONS = [
    "otaOperations",
    "fileDownloadRequests",
    "fileUploadRequests",
    "deviceFiles",
    "fileDeleteRequests",
]


async def test_the_device_list_as_edgehog_asks_for_it(tenant):
    model = await create_system_model(tenant, "gw", name="Gateway")
    await create_device(tenant, "dev-a", "Alpha", systemModelId=model["id"], tags=["lab"])
    await create_device(tenant, "dev-b", "Beta")
    body = await tenant.gql(DEVICES_PAGE, {"first": 40})
    assert "errors" not in body, body
    devices = [e["node"] for e in body["data"]["devices"]["edges"]]
    assert devices[0] == {
        "__typename": "Device",
        "id": devices[0]["id"],
        "deviceId": "dev-a",
        "name": "Alpha",
        "online": False,
        "lastConnection": None,
        "lastDisconnection": None,
        "systemModel": {"name": "Gateway", "hardwareType": {"name": "gw-hw"}},
        "tags": {"edges": [{"node": {"name": "lab"}}]},
    }
    assert devices[1]["systemModel"] is None and devices[1]["tags"] == {"edges": []}
    # The search box: name or deviceId, case-insensitively.
    search = {"or": [{"name": {"ilike": "%BET%"}}, {"deviceId": {"ilike": "%BET%"}}]}
    body = await tenant.gql(DEVICES_PAGE, {"first": 40, "filter": search})
    assert [e["node"]["deviceId"] for e in body["data"]["devices"]["edges"]] == ["dev-b"]


async def test_the_device_page_as_edgehog_asks_for_it(tenant, pool):
    model = await create_system_model(
        tenant, "gw", name="Gateway", pictureUrl="https://example.com/gw.png"
    )
    device, token = await create_device(tenant, "dev-1", "Gateway 1", systemModelId=model["id"])
    await tenant.gql(
        'mutation($id: ID!) { addDeviceTags(id: $id, input: {tags: ["lab"]}) { result { id } } }',
        {"id": device["id"]},
    )
    release_id = await make_release(tenant, pool, [container("nginx:1.27")], "1.0.0")
    deployment = await deploy(tenant, release_id, device["id"])
    await report_introspection(tenant, token, [("io.edgehog.devicemanager.OSInfo", 0, 1)])

    body = await tenant.gql(DEVICE_PAGE, {"id": device["id"], "first": 40})
    assert "errors" not in body, body
    assert body["data"]["forwarderConfig"] is None
    shown = body["data"]["device"]
    assert shown["deviceId"] == "dev-1" and shown["name"] == "Gateway 1"
    assert shown["online"] is True  # it reported, with its token
    assert shown["lastConnection"] is not None and shown["lastDisconnection"] is None
    assert shown["capabilities"] == ["GEOLOCATION", "OPERATING_SYSTEM"]
    assert shown["systemModel"] == {
        "name": "Gateway",
        "pictureUrl": "https://example.com/gw.png",
        "hardwareType": {"name": "gw-hw"},
    }
    assert [e["node"]["name"] for e in shown["tags"]["edges"]] == ["lab"]
    assert shown["deviceGroups"] == []
    for field in ASTARTE_NULLS:
        assert shown[field] is None, field
    for field in EMPTY_CONNECTIONS:
        assert shown[field] == {"edges": []}, field
    deployments = shown["applicationDeployments"]["edges"]
    assert len(deployments) == 1
    node = deployments[0]["node"]
    assert node["id"] == deployment["id"] and node["device"] == {"id": device["id"]}
    assert node["release"]["id"] == release_id and node["release"]["version"] == "1.0.0"


async def test_pages_of_the_empty_connections_are_checked_as_any_other(tenant):
    device, _ = await create_device(tenant)
    body = await tenant.gql(
        "query($id: ID!) { device(id: $id) { otaOperations(first: 1, last: 1) { count } } }",
        {"id": device["id"]},
    )
    assert [(e["code"], e["fields"]) for e in body["errors"]] == [("invalid", ["first"])]
    body = await tenant.gql(
        "query($id: ID!) { device(id: $id) { deviceFiles(first: 1) { count pageInfo {"
        " hasNextPage hasPreviousPage } } } }",
        {"id": device["id"]},
    )
    assert body["data"]["device"]["deviceFiles"] == {
        "count": 0,
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
    }
