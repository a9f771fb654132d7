"""Deployments: deploy, start, stop, upgrade, redeploy and delete, as Edgehog does them.

A user's action never changes what a device runs by itself: it puts the
messages Edgehog would send (Create*Request, DeploymentCommand,
DeploymentUpdate) in the device's queue (store.enqueue), and the state
changes when the device reports what it did (reports_service.py). The
messages a deployment needs come from its release's template
(payload.py), less what the device already holds: an upgrade sends only the
new release's new images, volumes, networks and containers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from ..applications import store as applications_store
from ..applications.model import Release
from ..db import Connection, Database
from ..domain.errors import Conflict, Invalid, NotFound, raise_all
from ..domain.listing import ListQuery, Page, PageRequest, Sort
from ..domain.principal import TenantUser
from ..domain.text import semver_key
from ..service import TenantService
from ..store import pages, tables
from . import payload_store, store
from .model import (
    DEPLOYMENT,
    ContainerDeployment,
    CredentialDelivery,
    Deployment,
    DeploymentEvent,
    Readiness,
    Resource,
    ResourceDeployment,
)
from .payload import (
    INTERFACE_PREFIX,
    CreateDeploymentRequest,
    ReleaseTemplate,
    ReleaseTemplates,
    message,
    template,
)

NOT_READY = "This action cannot be performed because the deployment has not the desired readiness."
INCOMPATIBLE = (
    "The device's system model does not match the system model of the application's release."
)
COMMAND = INTERFACE_PREFIX + "DeploymentCommand"
UPDATE = INTERFACE_PREFIX + "DeploymentUpdate"


def readiness(deployment: Deployment, resources: Sequence[Resource]) -> Readiness:
    """A deployment's containers with what they need on the device, from its resources."""
    containers: dict[uuid.UUID, dict[str, list[Resource]]] = {}
    for r in resources:
        containers.setdefault(r.container_id, {}).setdefault(r.kind, []).append(r)
    return Readiness(
        deployment,
        [
            ContainerDeployment(
                id=uuid.uuid5(deployment.device_id, str(container_id)),
                deployment_id=deployment.id,
                device_id=deployment.device_id,
                container_id=container_id,
                container=kinds["container"][0],
                image=kinds["image"][0],
                volumes=kinds.get("volume", []),
                networks=kinds.get("network", []),
                device_mappings=kinds.get("device_mapping", []),
                device_requests=kinds.get("device_request", []),
            )
            for container_id, kinds in containers.items()
        ],
    )


async def enqueue_release(
    conn: Connection,
    tenant_id: uuid.UUID,
    deployment: Deployment,
    made: ReleaseTemplate,
    *,
    skip_ready: bool = True,
) -> None:
    """Queue what the device needs for `deployment`, then its CreateDeploymentRequest.

    With `skip_ready`, what the device already holds (ready by its own
    reports) is not sent again: an image it has keeps the credentials it
    was pulled with, and an upgrade carries credentials for new images only.
    """
    held: set[tuple[str, uuid.UUID]] = set()
    if skip_ready:
        resources = (await store.resources_of(conn, tenant_id, [deployment.id]))[deployment.id]
        held = {(r.kind, r.resource_id) for r in resources if r.ready}
    dep = str(deployment.id)
    messages = []
    for part in made.parts:
        if (part.kind, part.resource_id) in held:
            continue
        shown = message(part.request)
        data = {**part.data, "deploymentId": dep}
        image_id = part.resource_id if part.kind == "image" else None
        messages.append((deployment.id, shown["interface"], shown["path"], data, image_id))
    create = message(CreateDeploymentRequest(dep, made.start_order))
    messages.append((deployment.id, create["interface"], create["path"], create["data"], None))
    await store.enqueue(conn, tenant_id, deployment.device_id, messages)


async def release_template(
    conn: Connection, templates: ReleaseTemplates, tenant_id: uuid.UUID, release_id: uuid.UUID
) -> ReleaseTemplate:
    """A release's requests, read once and kept: none of it changes."""
    made = templates.get(tenant_id, release_id)
    if made is None:
        containers, start_order = await payload_store.read_release(conn, tenant_id, release_id)
        made = templates.put(tenant_id, release_id, template(containers, start_order))
    return made


class DeploymentsService(TenantService):
    def __init__(
        self, db: Database, user: TenantUser, templates: ReleaseTemplates | None = None
    ) -> None:
        super().__init__(db, user)
        # Filled here only by a user of the release's tenant, for a deployment
        # of theirs: authorised.
        self.templates = templates if templates is not None else ReleaseTemplates(16)

    # --- deploy --------------------------------------------------------------------

    async def deploy(self, *, release_id: uuid.UUID, device_id: uuid.UUID) -> Deployment:
        """Deploy a release to a device (one deployment per device and release).

        NotFound names whichever of the two is absent; Conflict on
        `device_id` when the release is already deployed to that device.
        """
        async with self.db.transaction() as conn:
            deployment = await self._create(conn, release_id, device_id)
            await self._enqueue(conn, deployment)
            await self.audit(
                conn,
                "create",
                DEPLOYMENT,
                deployment.id,
                {"device_id": str(device_id), "release_id": str(release_id)},
            )
        return deployment

    async def _create(
        self,
        conn: Connection,
        release_id: uuid.UUID,
        device_id: uuid.UUID,
        upgrade_from: uuid.UUID | None = None,
    ) -> Deployment:
        device, release = await store.lock_references(conn, self.tenant_id, device_id, release_id)
        missing = [NotFound("release_id")] if not release else []
        if not device:
            missing.append(NotFound("device_id"))
        raise_all(missing)
        if await store.of_device_and_release(conn, self.tenant_id, device_id, release_id):
            # Edgehog's identity (device, release): its error names the device.
            raise Conflict("device_id")
        if await store.incompatible(conn, self.tenant_id, device_id, release_id):
            raise Invalid("system_model", INCOMPATIBLE)
        return await store.insert(
            conn,
            self.tenant_id,
            device_id=device_id,
            release_id=release_id,
            upgrade_from=upgrade_from,
        )

    async def _enqueue(self, conn: Connection, deployment: Deployment) -> None:
        made = await release_template(conn, self.templates, self.tenant_id, deployment.release_id)
        await enqueue_release(conn, self.tenant_id, deployment, made)

    # --- the commands ------------------------------------------------------------

    async def start(self, deployment_id: uuid.UUID) -> Deployment:
        return await self._command(deployment_id, "Start", "start_message_sent")

    async def stop(self, deployment_id: uuid.UUID) -> Deployment:
        return await self._command(deployment_id, "Stop", "stop_message_sent")

    async def delete(self, deployment_id: uuid.UUID) -> Deployment:
        """Delete a deployment from its device: the device is told to, and the
        deployment goes when the device says it is gone.

        One the device never read (still pending) goes at once, with its
        queued messages. Delivery records stay: they are history.
        """
        async with self.db.transaction() as conn:
            deployment = await store.lock(conn, self.tenant_id, deployment_id)
            if deployment is None:
                raise NotFound()
            if deployment.state == "pending":
                await tables.delete_by_id(conn, store.DEPLOYMENTS, self.tenant_id, deployment_id)
                await self.audit(conn, "delete", DEPLOYMENT, deployment_id, _names(deployment))
                return deployment
        return await self._command(deployment_id, "Delete", "delete_message_sent")

    async def _command(self, deployment_id: uuid.UUID, command: str, context: str) -> Deployment:
        """Queue Start, Stop or Delete for a ready deployment (Edgehog's IsReady)."""
        async with self.db.transaction() as conn:
            deployment = await store.lock(conn, self.tenant_id, deployment_id)
            if deployment is None:
                raise NotFound()
            await self._require(conn, deployment, ready=True)
            await store.enqueue(
                conn,
                self.tenant_id,
                deployment.device_id,
                [(deployment.id, COMMAND, f"/{deployment.id}/command", command, None)],
            )
            updated = await store.update(conn, self.tenant_id, deployment.id, context=context)
            await self.audit(conn, command.lower(), DEPLOYMENT, deployment.id, _names(deployment))
        return updated

    async def _require(self, conn: Connection, deployment: Deployment, *, ready: bool) -> None:
        found = await store.resources_of(conn, self.tenant_id, [deployment.id])
        if readiness(deployment, found[deployment.id]).ready != ready:
            raise Invalid(None, NOT_READY)

    async def send(self, deployment_id: uuid.UUID) -> Deployment:
        """Send a deployment that is not ready again (Edgehog's "Redeploy"):
        everything the device does not hold yet, and the deployment."""
        async with self.db.transaction() as conn:
            deployment = await store.lock(conn, self.tenant_id, deployment_id)
            if deployment is None:
                raise NotFound()
            await self._require(conn, deployment, ready=False)
            await self._enqueue(conn, deployment)
            deployment = await store.update(conn, self.tenant_id, deployment.id, timed_out=False)
            await self.audit(conn, "send", DEPLOYMENT, deployment.id, _names(deployment))
        return deployment

    async def upgrade(self, deployment_id: uuid.UUID, target_release_id: uuid.UUID) -> Deployment:
        """Upgrade a ready deployment to a newer release of the same application.

        The new release is deployed to the same device (or its deployment
        reused); once the device has it ready, it is told to stop the old
        one and start the new (DeploymentUpdate, see reports_service.py).
        Returns the new deployment, as Edgehog does; the old one stays.
        """
        async with self.db.transaction() as conn:
            old = await store.lock(conn, self.tenant_id, deployment_id)
            if old is None:
                raise NotFound()
            await self._require(conn, old, ready=True)
            releases = await tables.by_ids(
                conn,
                applications_store.RELEASES,
                self.tenant_id,
                [old.release_id, target_release_id],
            )
            current, target = releases.get(old.release_id), releases.get(target_release_id)
            if target is None:
                raise NotFound("target")
            assert current is not None  # the deployment holds a key on it
            _check_upgrade(current, target)
            new = await store.of_device_and_release(
                conn, self.tenant_id, old.device_id, target_release_id
            )
            if new is None:
                new = await self._create(conn, target_release_id, old.device_id, old.id)
            else:
                new = await store.update(conn, self.tenant_id, new.id, upgrade_from=old.id)
            await self._enqueue(conn, new)
            await store.update(conn, self.tenant_id, old.id, context="upgrade_message_sent")
            await self.audit(
                conn,
                "upgrade",
                DEPLOYMENT,
                old.id,
                {**_names(old), "to_release_id": str(target_release_id), "to": str(new.id)},
            )
        return new

    # --- reads --------------------------------------------------------------------

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Deployment]:
        return await self.by_ids(store.DEPLOYMENTS, ids)

    async def list_deployments(self, query: ListQuery, request: PageRequest) -> Page[Deployment]:
        return await self.page(store.DEPLOYMENTS, query, request)

    async def of_devices(
        self, device_ids: Sequence[uuid.UUID], request: PageRequest, query: ListQuery | None = None
    ) -> list[Page[Deployment]]:
        return await self.pages(
            store.DEPLOYMENTS, query or ListQuery(), request, "device_id", device_ids
        )

    async def of_releases(
        self, release_ids: Sequence[uuid.UUID], request: PageRequest
    ) -> list[Page[Deployment]]:
        return await self.pages(store.DEPLOYMENTS, ListQuery(), request, "release_id", release_ids)

    async def readiness_of(self, deployments: Sequence[Deployment]) -> list[Readiness]:
        """Each deployment's containers on its device and whether it is ready: one query."""
        async with self.db.connection() as conn:
            found = await store.resources_of(conn, self.tenant_id, [d.id for d in deployments])
        return [readiness(d, found[d.id]) for d in deployments]

    def page_of_containers(
        self, containers: Sequence[ContainerDeployment], request: PageRequest
    ) -> Page[ContainerDeployment]:
        """A page of a deployment's few containers (read whole, paged in memory)."""
        ordered = sorted(containers, key=lambda c: c.id)
        return pages.page_of_list(store.CONTAINER_DEPLOYMENTS, ordered, [Sort("id")], request)

    def page_of_resources(
        self, resources: Sequence[ResourceDeployment], request: PageRequest
    ) -> Page[ResourceDeployment]:
        ordered = sorted(resources, key=lambda r: r.id)
        return pages.page_of_list(store.RESOURCE_DEPLOYMENTS, ordered, [Sort("id")], request)

    async def events_of(
        self, deployment_ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
    ) -> list[Page[DeploymentEvent]]:
        return await self.pages(store.EVENTS, query, request, "deployment_id", deployment_ids)

    async def get_events(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DeploymentEvent]:
        return await self.by_ids(store.EVENTS, ids)

    async def deliveries_of_credentials(
        self, credentials_ids: Sequence[uuid.UUID], request: PageRequest
    ) -> list[Page[CredentialDelivery]]:
        """Every delivery of each set of credentials, oldest first."""
        return await self.pages(
            store.DELIVERIES, ListQuery(), request, "image_credentials_id", credentials_ids
        )

    async def get_deliveries(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CredentialDelivery]:
        return await self.by_ids(store.DELIVERIES, ids)


def _names(deployment: Deployment) -> dict[str, Any]:
    return {"device_id": str(deployment.device_id), "release_id": str(deployment.release_id)}


def _check_upgrade(current: Release, target: Release) -> None:
    """Edgehog's rules: the same application, and a newer version."""
    if target.application_id != current.application_id:
        raise Invalid(
            "target", "must belong to the same application as the currently installed release."
        )
    if semver_key(target.version) <= semver_key(current.version):
        raise Invalid("target", "must be a newer release than the currently installed version")
