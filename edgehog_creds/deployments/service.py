"""Deployments: a release sent to a device, withdrawn with its delivery history kept."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..domain.errors import NotFound, raise_all
from ..domain.listing import ListQuery, Page, PageRequest
from ..service import TenantService
from ..store import tables
from . import store
from .model import DEPLOYMENT, CredentialDelivery, Deployment


class DeploymentsService(TenantService):
    async def deploy(self, *, release_id: uuid.UUID, device_id: uuid.UUID) -> Deployment:
        """Deploy a release to a device; NotFound names whichever of the two is absent."""
        async with self.db.transaction() as conn:
            device, release = await store.lock_references(
                conn, self.tenant_id, device_id, release_id
            )
            missing = [NotFound("release_id")] if not release else []
            if not device:
                missing.append(NotFound("device_id"))
            raise_all(missing)
            deployment = await store.insert(
                conn, self.tenant_id, device_id=device_id, release_id=release_id
            )
            await self.audit(
                conn,
                "create",
                DEPLOYMENT,
                deployment.id,
                {"device_id": str(device_id), "release_id": str(release_id)},
            )
        return deployment

    async def delete(self, deployment_id: uuid.UUID) -> Deployment:
        """Withdraw a release from a device: it can no longer read that payload.

        Its delivery records stay: they are history, and name the deployment by id.
        """
        async with self.db.transaction() as conn:
            deployment = await tables.delete_by_id(
                conn, store.DEPLOYMENTS, self.tenant_id, deployment_id
            )
            if deployment is None:
                raise NotFound()
            await self.audit(
                conn,
                "delete",
                DEPLOYMENT,
                deployment_id,
                {
                    "device_id": str(deployment.device_id),
                    "release_id": str(deployment.release_id),
                },
            )
        return deployment

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Deployment]:
        return await self.by_ids(store.DEPLOYMENTS, ids)

    async def list_deployments(self, query: ListQuery, request: PageRequest) -> Page[Deployment]:
        return await self.page(store.DEPLOYMENTS, query, request)

    async def of_devices(
        self, device_ids: Sequence[uuid.UUID], request: PageRequest
    ) -> list[Page[Deployment]]:
        return await self.pages(store.DEPLOYMENTS, ListQuery(), request, "device_id", device_ids)

    async def deliveries_of_credentials(
        self, credentials_ids: Sequence[uuid.UUID], request: PageRequest
    ) -> list[Page[CredentialDelivery]]:
        """Every delivery of each set of credentials, oldest first."""
        return await self.pages(
            store.DELIVERIES, ListQuery(), request, "image_credentials_id", credentials_ids
        )

    async def get_deliveries(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CredentialDelivery]:
        return await self.by_ids(store.DELIVERIES, ids)
