"""The device's side of deployments, with its own token (docs/device-protocol.md).

`deviceMessages(after:)` hands the device what it must do, in order: the
messages Edgehog sends through Astarte (Create*Request, DeploymentCommand,
DeploymentUpdate), as {sequence, interface, path, data, timestamp}. Asking
with `after: N` says every message up to N is handled: those are forgotten,
and anything after N is sent (again, if it was sent before): retries are safe.

`reportDeviceMessages` takes what the device publishes (DeploymentEvent and
the Available* properties), as {interface, path, data, timestamp}.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from ..domain.errors import Collector, Invalid
from ..graphql.context import Context
from ..graphql.scalars import BigInt, Json
from . import protocol
from .payload_service import PayloadService
from .reports_service import ReportsService

MAX_MESSAGES = 100  # per read


@strawberry.type(description="Something the device must do (a server-owned Astarte message).")
class DeviceMessage:
    sequence: BigInt = strawberry.field(
        description="Ask again with after: this to say it (and all before it) is handled."
    )
    interface: str
    path: str
    data: Json = strawberry.field(
        description="The message's value: an object (Create*Request, DeploymentUpdate) or "
        "a string (DeploymentCommand)."
    )
    timestamp: datetime = strawberry.field(description="When it was queued.")


@strawberry.input(description="Something the device reports (a device-owned Astarte message).")
class DeviceReportInput:
    interface: str
    path: str
    data: Json | None = strawberry.field(
        default=None, description="The value; null unsets a property (the device removed it)."
    )
    timestamp: datetime | None = strawberry.field(
        default=None,
        description="When it happened, by the device's clock (Astarte's explicit "
        "timestamp): orders late reports, and makes a retried event the same event. "
        "Default: when it arrives.",
    )


@strawberry.type
class ReportDeviceMessagesResult:
    accepted: int = strawberry.field(description="Reports applied (or seen before).")
    ignored: int = strawberry.field(
        description="Reports about what is not this device's: a deleted deployment, "
        "another tenant's resource."
    )


async def _messages(
    info: Info[Context, None], after: BigInt | None = None, first: int | None = None
) -> list[Any]:
    ctx = info.context
    device = ctx.device()
    check = Collector()
    if after is not None and after < 0:
        check.add(Invalid("after", "must be 0 or more"))
    if first is not None and not 1 <= first <= MAX_MESSAGES:
        check.add(Invalid("first", f"must be between 1 and {MAX_MESSAGES}"))
    check.raise_all()
    payloads = PayloadService(ctx.db, device, ctx.vault, ctx.templates)
    found = await payloads.messages(after or 0, first or MAX_MESSAGES)
    return [
        DeviceMessage(
            sequence=BigInt(m.sequence),
            interface=m.interface,
            path=m.path,
            data=m.data,
            timestamp=m.inserted_at,
        )
        for m in found
    ]


async def _report(info: Info[Context, None], messages: list[DeviceReportInput]) -> Any:
    ctx = info.context
    device = ctx.device()
    if len(messages) > protocol.MAX_REPORTS:
        raise Invalid(
            "messages", f"should have at most {protocol.MAX_REPORTS} item(s)", code="too_long"
        )
    now = datetime.now(UTC)
    check = Collector()
    reports = [
        check.check(protocol.parse, i, m.interface, m.path, m.data, _aware(m.timestamp) or now)
        for i, m in enumerate(messages)
    ]
    check.raise_all()
    outcome = await ReportsService(ctx.db, device).apply([r for r in reports if r is not None])
    return ReportDeviceMessagesResult(accepted=outcome.accepted, ignored=outcome.ignored)


def _aware(at: datetime | None) -> datetime | None:
    """A timestamp without a zone is taken as UTC, as Astarte takes it."""
    if at is not None and at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at


@strawberry.type
class DeviceQueries:
    device_messages: list[DeviceMessage] | None = strawberry.field(
        resolver=_messages,
        description="For a device token only: what the device must do next, oldest first "
        f"(at most {MAX_MESSAGES}; `first` for fewer). `after`: the last sequence handled.",
    )


@strawberry.type
class DeviceMutations:
    report_device_messages: ReportDeviceMessagesResult | None = strawberry.mutation(
        resolver=_report,
        description="For a device token only: what the device did and holds "
        "(DeploymentEvent, Available*), applied all or nothing.",
    )
