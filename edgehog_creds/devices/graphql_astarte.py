"""Fields Edgehog reads from Astarte, and relations we do not have: here they answer null or empty.

Edgehog's device page reads a device's hardware, OS, runtime, base image,
location, storage, system status, Wi-Fi, battery, modems and network
interfaces from Astarte, and lists its OTA operations, file transfers and
files. This service has no Astarte and keeps none of those: each field
answers null (or an empty connection, or an empty list), with Edgehog's
names and types, so that Edgehog's UI runs its queries unchanged and shows
"no data". `forwarderConfig` is null (no remote terminal forwarder) and
`deviceGroups` is empty (no groups).

The types declare the fields Edgehog's UI reads, typed exactly as Edgehog's
schema types them; links back to the device or to campaigns beyond their
id and name are left out, since no object of these types is ever returned.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET

from ..domain.errors import Unavailable
from ..domain.listing import ListQuery, Page, PageRequest
from ..engine import plain
from ..graphql.context import Context
from ..graphql.fields import list_field
from ..graphql.listing import Id, Listing, SortOrder
from ..graphql.relay import Connection, Node, connection, page_request
from ..graphql.scalars import JsonString
from ..systemmodels.graphql import non_null

# --- what a device's operating system reports --------------------------------------


@strawberry.type(description="Hardware-related info of a device, read by its operating system.")
class HardwareInfo:
    cpu_architecture: str | None = strawberry.field(description="The architecture of the CPU.")
    cpu_model: str | None = strawberry.field(description="The reference code of the CPU model.")
    cpu_model_name: str | None = strawberry.field(description="The display name of the CPU model.")
    cpu_vendor: str | None = strawberry.field(description="The vendor's name.")
    memory_total_bytes: int | None = strawberry.field(description="The Bytes count of memory.")


@strawberry.type(description="The information on the system's base image for a device.")
class BaseImageInfo:
    name: str | None
    version: str | None
    build_id: str | None
    fingerprint: str | None


@strawberry.type(description="An operating system of a device.")
class OsInfo:
    name: str | None
    version: str | None


@strawberry.type(description="An Edgehog runtime.")
class RuntimeInfo:
    name: str | None
    version: str | None
    environment: str | None
    url: str | None


@strawberry.type(description="The place where a device is located.")
class Location:
    formatted_address: str
    timestamp: datetime
    source: str | None


@strawberry.type(description="The position of a device.")
class Position:
    latitude: float
    longitude: float
    accuracy: float | None
    altitude: float | None
    altitude_accuracy: float | None
    heading: float | None
    speed: float | None
    timestamp: datetime
    source: str | None


@strawberry.type(description="The current usage of a storage unit on a device.")
class StorageUnit:
    label: str
    total_bytes: int | None
    free_bytes: int | None


@strawberry.type(description="The current status of the operating system of a device.")
class SystemStatus:
    boot_id: str | None
    memory_free_bytes: int | None
    task_count: int | None
    uptime_milliseconds: int | None
    timestamp: datetime


@strawberry.type(description="A WiFi Access Point found by the device.")
class WifiScanResult:
    channel: int | None
    connected: bool | None
    essid: str | None
    mac_address: str | None
    rssi: int | None
    timestamp: datetime


@strawberry.enum
class BatterySlotStatus(enum.Enum):
    CHARGING = "charging"
    DISCHARGING = "discharging"
    EITHER_IDLE_OR_CHARGING = "either_idle_or_charging"
    FAILURE = "failure"
    IDLE = "idle"
    REMOVED = "removed"
    UNKNOWN = "unknown"


@strawberry.type(description="A battery slot of a device.")
class BatterySlot:
    level_absolute_error: float | None
    level_percentage: float | None
    slot: str
    status: BatterySlotStatus | None


@strawberry.enum
class ModemRegistrationStatus(enum.Enum):
    NOT_REGISTERED = "not_registered"
    REGISTERED = "registered"
    REGISTERED_ROAMING = "registered_roaming"
    REGISTRATION_DENIED = "registration_denied"
    SEARCHING_OPERATOR = "searching_operator"
    UNKNOWN = "unknown"


@strawberry.enum
class ModemTechnology(enum.Enum):
    EUTRAN = "eutran"
    GSM = "gsm"
    GSM_COMPACT = "gsm_compact"
    GSM_EGPRS = "gsm_egprs"
    UTRAN = "utran"
    UTRAN_HSDPA = "utran_hsdpa"
    UTRAN_HSDPA_HSUPA = "utran_hsdpa_hsupa"
    UTRAN_HSUPA = "utran_hsupa"


@strawberry.type(description="A modem of a device.")
class Modem:
    apn: str | None
    carrier: str | None
    cell_id: int | None
    imei: str | None
    imsi: str | None
    local_area_code: int | None
    mobile_country_code: int | None
    mobile_network_code: int | None
    registration_status: ModemRegistrationStatus | None
    rssi: float | None
    slot: str
    technology: ModemTechnology | None


@strawberry.enum
class NetworkInterfaceTechnology(enum.Enum):
    BLUETOOTH = "bluetooth"
    CELLULAR = "cellular"
    ETHERNET = "ethernet"
    WIFI = "wifi"


@strawberry.type(description="A network interface of a device.")
class NetworkInterface:
    name: str
    mac_address: str | None
    technology: NetworkInterfaceTechnology | None


@strawberry.type(description="Supported encodings for file transfer targets.")
class FileTransferTargetCapabilities:
    storage: list[str | None] | None
    filesystem: list[str | None] | None
    streaming: list[str | None] | None


@strawberry.type(description="File transfer capabilities supported by the device.")
class FileTransferCapabilities:
    unix_permissions: bool | None
    server_to_device: FileTransferTargetCapabilities | None
    device_to_server: FileTransferTargetCapabilities | None


# --- what Edgehog sends a device and tracks: OTA, file transfers, files ---------------


@strawberry.type(description="A campaign (only its id and name are read here).")
class Campaign(Node):
    id: strawberry.ID
    name: str


@strawberry.type(description="A target of a campaign.")
class CampaignTarget:
    id: strawberry.ID
    campaign: Campaign


@strawberry.enum
class OtaOperationStatus(enum.Enum):
    ACKNOWLEDGED = "acknowledged"
    DEPLOYED = "deployed"
    DEPLOYING = "deploying"
    DOWNLOADING = "downloading"
    ERROR = "error"
    FAILURE = "failure"
    PENDING = "pending"
    REBOOTING = "rebooting"
    SUCCESS = "success"


@strawberry.enum
class OtaOperationStatusCode(enum.Enum):
    CANCELED = "canceled"
    INTERNAL_ERROR = "internal_error"
    INVALID_BASE_IMAGE = "invalid_base_image"
    INVALID_REQUEST = "invalid_request"
    IO_ERROR = "io_error"
    NETWORK_ERROR = "network_error"
    REQUEST_TIMEOUT = "request_timeout"
    SYSTEM_ROLLBACK = "system_rollback"
    UPDATE_ALREADY_IN_PROGRESS = "update_already_in_progress"


@strawberry.type(description="An OTA update operation.")
class OtaOperation:
    id: strawberry.ID
    base_image_url: str
    status: OtaOperationStatus
    status_progress: int
    status_code: OtaOperationStatusCode | None
    message: str | None
    created_at: datetime
    updated_at: datetime
    campaign_target: CampaignTarget | None


@strawberry.enum
class FileDestination(enum.Enum):
    FILESYSTEM = "filesystem"
    STORAGE = "storage"
    STREAMING = "streaming"


@strawberry.enum
class FileDownloadRequestStatus(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    SENT = "sent"


@strawberry.enum
class FileUploadRequestStatus(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    SENT = "sent"


@strawberry.enum
class FileSource(enum.Enum):
    FILESYSTEM = "filesystem"
    STORAGE = "storage"
    STREAMING = "streaming"


@strawberry.enum
class FileDeleteRequestStatus(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"
    PENDING = "pending"
    SENT = "sent"


@strawberry.type(description="A file stored on a device.")
class DeviceFile:
    id: strawberry.ID
    file_id: str
    path_on_device: str | None
    size_bytes: int | None
    deleted: bool | None
    file_download_request: FileDownloadRequest | None


@strawberry.type(description="A request to download a file to a device.")
class FileDownloadRequest:
    id: strawberry.ID
    url: str
    file_name: str | None
    uncompressed_file_size_bytes: int | None
    digest: str
    encoding: str | None
    ttl_seconds: int | None
    file_mode: int | None
    user_id: int | None
    group_id: int | None
    destination_type: FileDestination
    destination: str | None
    progress_tracked: bool | None
    status: FileDownloadRequestStatus | None
    progress_percentage: int | None
    response_code: int | None
    response_message: str | None
    inserted_at: datetime
    updated_at: datetime
    campaign_target: CampaignTarget | None
    device_file: DeviceFile | None


@strawberry.type(description="A request to upload a file from a device.")
class FileUploadRequest:
    id: strawberry.ID
    url: str
    source: str | None
    source_type: FileSource
    encoding: str | None
    progress_tracked: bool | None
    status: FileUploadRequestStatus | None
    progress_percentage: int | None
    response_code: int | None
    response_message: str | None
    http_headers: JsonString | None
    inserted_at: datetime
    updated_at: datetime
    get_presigned_url: str | None


@strawberry.type(description="A request to delete a file from a device.")
class FileDeleteRequest:
    id: strawberry.ID
    force: bool | None
    status: FileDeleteRequestStatus | None
    response_code: int | None
    response_messages: list[str] | None
    inserted_at: datetime
    updated_at: datetime
    device_file: DeviceFile | None


OTA_OPERATIONS = Listing(
    "OtaOperation",
    filters={"id": Id("id", "OtaOperation")},
    sorts=[
        "id",
        "base_image_url",
        "status",
        "status_progress",
        "status_code",
        "message",
        "created_at",
        "updated_at",
    ],
)
FILE_DOWNLOAD_REQUESTS = Listing(
    "FileDownloadRequest",
    filters={"id": Id("id", "FileDownloadRequest")},
    sorts=[
        "id",
        "url",
        "file_name",
        "uncompressed_file_size_bytes",
        "digest",
        "encoding",
        "ttl_seconds",
        "file_mode",
        "user_id",
        "group_id",
        "destination_type",
        "destination",
        "progress_tracked",
        "status",
        "progress_percentage",
        "response_code",
        "response_message",
        "inserted_at",
        "updated_at",
    ],
)
FILE_UPLOAD_REQUESTS = Listing(
    "FileUploadRequest",
    filters={"id": Id("id", "FileUploadRequest")},
    sorts=[
        "id",
        "url",
        "source",
        "source_type",
        "encoding",
        "progress_tracked",
        "status",
        "progress_percentage",
        "response_code",
        "response_message",
        "http_headers",
        "inserted_at",
        "updated_at",
    ],
)
FILE_DELETE_REQUESTS = Listing(
    "FileDeleteRequest",
    filters={"id": Id("id", "FileDeleteRequest")},
    sorts=["id", "force", "status", "response_code", "inserted_at", "updated_at"],
)


# DeviceFile's filter has a boolean field (`deleted`, which Edgehog's UI
# filters on), a kind the shared Listing does not make: declared here.
@strawberry.input
class DeviceFileFilterDeleted:
    is_nil: bool | None = UNSET
    eq: bool | None = UNSET
    not_eq: bool | None = UNSET
    in_: list[bool | None] | None = strawberry.field(name="in", default=UNSET)
    is_distinct_from: bool | None = UNSET
    is_not_distinct_from: bool | None = UNSET


@strawberry.input
class DeviceFileFilterInput:
    and_: list[DeviceFileFilterInput] | None = strawberry.field(name="and", default=UNSET)
    or_: list[DeviceFileFilterInput] | None = strawberry.field(name="or", default=UNSET)
    not_: list[DeviceFileFilterInput] | None = strawberry.field(name="not", default=UNSET)
    deleted: DeviceFileFilterDeleted | None = strawberry.field(
        default=UNSET,
        description="Whether the file transferred with this request was deleted from the device",
    )


@strawberry.enum
class DeviceFileSortField(enum.Enum):
    ID = "id"
    FILE_ID = "file_id"
    PATH_ON_DEVICE = "path_on_device"
    SIZE_BYTES = "size_bytes"
    DELETED = "deleted"


@strawberry.input
class DeviceFileSortInput:
    order: SortOrder | None = SortOrder.ASC
    field: DeviceFileSortField


_EMPTY: Page[Any] = Page(
    items=[], cursors=[], has_next_page=False, has_previous_page=False, total=0
)


async def _none_here(ctx: Context, _query: ListQuery, request: PageRequest) -> Page[Any]:
    """An empty page, after the same checks as any other list's."""
    ctx.user()
    request.check()
    return _EMPTY


def _empty(node_type: Any, listing: Listing, description: str) -> Any:
    return non_null(list_field(node_type, _none_here, listing=listing, description=description))


async def _device_files(
    info: strawberry.Info[Context, None],
    sort: list[DeviceFileSortInput | None] | None = None,
    filter: DeviceFileFilterInput | None = None,
    first: int | None = None,
    before: str | None = None,
    after: str | None = None,
    last: int | None = None,
) -> Connection[DeviceFile]:
    page = await _none_here(
        info.context, ListQuery(), page_request(info, first, last, after, before)
    )
    return connection(page)


@strawberry.type(description="A remote terminal forwarder instance.")
class ForwarderConfig:
    id: strawberry.ID
    hostname: str
    port: int
    secure_sessions: bool


@strawberry.type(description="A group of devices (none here: this service has no groups).")
class DeviceGroup(Node):
    id: strawberry.ID
    name: str
    handle: str
    selector: str


def _nothing(root: Any) -> None:
    return None


def _no_groups(
    root: strawberry.Parent[Any], limit: int | None = None, offset: int | None = None
) -> list[DeviceGroup]:
    return []


def _null(description: str) -> Any:
    # A pure function of the device: the fast engine's plans inline it.
    return strawberry.field(resolver=_nothing, description=description, metadata=plain(_nothing))


@strawberry.type
class AstarteFields:
    """The Device fields of this module, inherited by Device (devices/graphql.py)."""

    last_seen_ip: str | None = _null("Not recorded here: null.")
    serial_number: str | None = _null("Read from Astarte by Edgehog: null here.")
    part_number: str | None = _null("Read from Astarte by Edgehog: null here.")
    hardware_info: HardwareInfo | None = _null("Read from Astarte by Edgehog: null here.")
    base_image: BaseImageInfo | None = _null("Read from Astarte by Edgehog: null here.")
    os_info: OsInfo | None = _null("Read from Astarte by Edgehog: null here.")
    runtime_info: RuntimeInfo | None = _null("Read from Astarte by Edgehog: null here.")
    location: Location | None = _null("Estimated from Astarte data by Edgehog: null here.")
    position: Position | None = _null("Estimated from Astarte data by Edgehog: null here.")
    storage_usage: list[StorageUnit] | None = _null("Read from Astarte by Edgehog: null here.")
    system_status: SystemStatus | None = _null("Read from Astarte by Edgehog: null here.")
    wifi_scan_results: list[WifiScanResult] | None = _null(
        "Read from Astarte by Edgehog: null here."
    )
    battery_status: list[BatterySlot] | None = _null("Read from Astarte by Edgehog: null here.")
    cellular_connection: list[Modem] | None = _null("Read from Astarte by Edgehog: null here.")
    network_interfaces: list[NetworkInterface] | None = _null(
        "Read from Astarte by Edgehog: null here."
    )
    file_transfer_capabilities: FileTransferCapabilities | None = _null(
        "Read from Astarte by Edgehog: null here."
    )
    device_groups: list[DeviceGroup] = strawberry.field(
        resolver=_no_groups, description="The groups the device belongs to: none here."
    )
    ota_operations: Connection[OtaOperation] = _empty(
        OtaOperation, OTA_OPERATIONS, "OTA operations: none here."
    )
    file_download_requests: Connection[FileDownloadRequest] = _empty(
        FileDownloadRequest, FILE_DOWNLOAD_REQUESTS, "File download requests: none here."
    )
    file_upload_requests: Connection[FileUploadRequest] = _empty(
        FileUploadRequest, FILE_UPLOAD_REQUESTS, "File upload requests: none here."
    )
    file_delete_requests: Connection[FileDeleteRequest] = _empty(
        FileDeleteRequest, FILE_DELETE_REQUESTS, "File delete requests: none here."
    )
    device_files: Connection[DeviceFile] = strawberry.field(
        resolver=_device_files, description="Files stored on the device: none here."
    )


def _no_forwarder(info: strawberry.Info[Context, None]) -> ForwarderConfig | None:
    info.context.user()
    return None


# --- what Edgehog does through Astarte and this service cannot -------------------------


@strawberry.enum
class DeviceLedBehavior(enum.Enum):
    BLINK = "blink"
    DOUBLE_BLINK = "double_blink"
    SLOW_BLINK = "slow_blink"


@strawberry.input
class SetDeviceLedBehaviorInput:
    behavior: DeviceLedBehavior


@strawberry.input
class RequestForwarderSessionInput:
    device_id: strawberry.ID


@strawberry.enum
class ForwarderSessionStatus(enum.Enum):
    CONNECTED = "connected"
    CONNECTING = "connecting"


@strawberry.type
class ForwarderSession:
    id: strawberry.ID
    token: str
    status: ForwarderSessionStatus
    forwarder_hostname: str
    forwarder_port: int
    secure: bool


def no_astarte(ctx: Context, what: str) -> Any:
    """What Edgehog does through Astarte, answered with a clear `unavailable`."""
    ctx.user()
    raise Unavailable(f"{what} need Astarte, which this service does not use")


def _forwarder_session(
    info: strawberry.Info[Context, None], token: str, device_id: strawberry.ID
) -> ForwarderSession | None:
    info.context.user()
    return None


@strawberry.type
class AstarteQueries:
    forwarder_config: ForwarderConfig | None = strawberry.field(
        resolver=_no_forwarder,
        description="The remote terminal forwarder: none here (null).",
    )
    forwarder_session: ForwarderSession | None = strawberry.field(
        resolver=_forwarder_session,
        description="A remote terminal session: none here (null).",
    )
