"""What a device reports about its deployments, applied as Edgehog applies it.

A device reports with its own token (protocol.py parses the reports):

- AvailableDeployments: a deployment is started or stopped (its state, and
  the command sent last is answered); null: the device deleted it, and it
  goes here too.
- Available* (images, volumes, networks, device mappings and requests,
  containers): what the device holds, which makes deployments ready.
- DeploymentEvent: kept as the deployment's events, shown to users.

Reports are idempotent and may come late: each carries the device's
timestamp, a state older than the one kept changes nothing, and an event
reported twice is kept once. A deployment waiting to replace another
(upgradeDeployment) gets its DeploymentUpdate queued as soon as it is ready.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from ..audit import store as audit
from ..db import Connection, Database
from ..domain.principal import Device
from ..store import tables
from . import store
from .model import DEPLOYMENT, Deployment
from .protocol import DeploymentStatus, Event, Report, ResourceState
from .service import UPDATE, readiness


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: int  # reports applied (or already known)
    ignored: int  # reports about what is not this device's (a deleted deployment, ...)


class ReportsService:
    def __init__(self, db: Database, device: Device) -> None:
        self.db = db
        self.device = device
        self.tenant_id = device.tenant.id

    async def apply(self, reports: Sequence[Report]) -> Outcome:
        """Apply a device's reports, all in one transaction."""
        deployment_ids = [
            r.deployment_id for r in reports if isinstance(r, DeploymentStatus | Event)
        ]
        async with self.db.transaction() as conn:
            mine = await store.deployments_of_device(
                conn, self.tenant_id, self.device.device_id, deployment_ids
            )
            ignored = 0
            resources = [r for r in reports if isinstance(r, ResourceState)]
            known = await self._known(conn, resources)
            states = [
                (r.kind, r.resource_id, r.state, r.at)
                for r in resources
                if r.resource_id in known[r.kind]
            ]
            ignored += len(resources) - len(states)
            await store.record_resource_states(conn, self.tenant_id, self.device.device_id, states)
            events = [
                (r.deployment_id, r.type, r.message, r.add_info, r.at)
                for r in reports
                if isinstance(r, Event) and r.deployment_id in mine
            ]
            ignored += sum(1 for r in reports if isinstance(r, Event)) - len(events)
            await store.insert_events(conn, self.tenant_id, events)
            for status in (r for r in reports if isinstance(r, DeploymentStatus)):
                deployment = mine.get(status.deployment_id)
                if deployment is None:
                    ignored += 1
                    continue
                mine[deployment.id] = await self._status(conn, deployment, status)
            await self._upgrades_ready(conn)
        return Outcome(len(reports) - ignored, ignored)

    async def _known(
        self, conn: Connection, resources: Sequence[ResourceState]
    ) -> dict[str, set[uuid.UUID]]:
        """The resources reported that are the tenant's, by kind: a device cannot
        fill the table with ids of its own invention."""
        out: dict[str, set[uuid.UUID]] = {}
        for kind in {r.kind for r in resources}:
            ids = [r.resource_id for r in resources if r.kind == kind]
            out[kind] = await store.known_resources(conn, self.tenant_id, kind, ids)
        return out

    async def _status(
        self, conn: Connection, deployment: Deployment, status: DeploymentStatus
    ) -> Deployment:
        reported = deployment.state_reported_at
        if reported is not None and status.at < reported:
            return deployment  # older than what is known: out of order
        if status.state is None:
            # The device deleted it: so does the server (its events go with it).
            await tables.delete_by_id(conn, store.DEPLOYMENTS, self.tenant_id, deployment.id)
            await audit.record(
                conn,
                self.tenant_id,
                actor=self.device.subject,
                action="delete",
                entity_type=DEPLOYMENT,
                events=[
                    (
                        deployment.id,
                        {
                            "device_id": str(deployment.device_id),
                            "release_id": str(deployment.release_id),
                        },
                    )
                ],
            )
            return deployment
        return await store.update(
            conn,
            self.tenant_id,
            deployment.id,
            state=status.state,
            context=None,
            state_reported_at=status.at,
        )

    async def _upgrades_ready(self, conn: Connection) -> None:
        """Queue DeploymentUpdate {from, to} for every upgrade whose new deployment is ready."""
        waiting = await store.upgrades_waiting(conn, self.tenant_id, self.device.device_id)
        if not waiting:
            return
        found = await store.resources_of(conn, self.tenant_id, [d.id for d in waiting])
        for new in waiting:
            if new.upgrade_from is None or not readiness(new, found[new.id]).ready:
                continue
            data = {"from": str(new.upgrade_from), "to": str(new.id)}
            await store.enqueue(
                conn,
                self.tenant_id,
                self.device.device_id,
                [(new.id, UPDATE, "/deployment", data, None)],
            )
            await store.update(conn, self.tenant_id, new.id, upgrade_from=None)
