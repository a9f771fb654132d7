"""Builds a device's payload: the only place that asks the vault to open a password.

It opens them for exactly one purpose: to put a Docker `X-Registry-Auth`
value into a `CreateImageRequest` for the device the deployment was made for.

One statement reads the deployment, its containers and their sealed
credentials, and records one delivery per set of credentials if the payload
can be delivered (payload_store.read_and_record); then this module refuses
what cannot be delivered, with the same conditions the statement checked,
and opens the passwords. So a refused payload, or one whose credentials were
deleted before it was read, leaves no delivery record and returns nothing
partial; a delete that comes later waits for the record. A password that
cannot be opened takes the record back, so every delivery record stands for
a payload that was handed over.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from ..applications import containers_store
from ..db import Database
from ..docker_auth import encode_registry_auth
from ..domain.errors import CredentialsDeleted, Forbidden, NotFound, Unavailable, raise_all
from ..domain.principal import Device
from ..domain.secret import Secret
from ..vault import NoPrivateKey, Vault, VaultError
from . import payload_store
from .model import ContainerCredentials, DeploymentSource, SealedCredentials
from .payload import DevicePayload, ReleaseTemplates, assemble, server_address_of

log = logging.getLogger(__name__)


def _container_label(c: ContainerCredentials) -> str:
    return f"container {c.position} ({c.id}, image {c.image_reference!r})"


def _refuse_deleted_credentials(
    containers: Sequence[ContainerCredentials], present: dict[uuid.UUID, SealedCredentials]
) -> None:
    """Raise credentials_deleted for every container whose credentials are gone.

    `present` holds the credentials still found; a container pointing to
    credentials outside it lost them to a delete that raced this read.
    """
    raise_all(
        CredentialsDeleted(
            None,
            f"{_container_label(c)} needs image credentials that were deleted; "
            "create new credentials and a release that uses them",
        )
        for c in containers
        if c.credentials_deleted_at is not None
        or (c.image_credentials_id is not None and c.image_credentials_id not in present)
    )


class PayloadService:
    def __init__(
        self, db: Database, device: Device, vault: Vault, templates: ReleaseTemplates
    ) -> None:
        self.db = db
        self.device = device
        self.tenant_id = device.tenant.id
        self.vault = vault
        self.templates = templates

    async def build(self, deployment_id: uuid.UUID) -> DevicePayload:
        """The payload of `deployment_id` for this device, or a domain error.

        NotFound (deployment_id) when the tenant has no such deployment,
        Forbidden when it was made for another device, CredentialsDeleted
        when a container's credentials are gone, Unavailable when this
        process cannot open them.
        """
        async with self.db.connection() as conn:
            # A server holding only the public key records nothing: any
            # password it would have to open answers Unavailable (payloads of
            # public images still work there, and record nothing anyway).
            source = await payload_store.read_and_record(
                conn,
                self.tenant_id,
                deployment_id,
                self.device.device_id,
                record=self.vault.can_open,
            )
            if source is None:
                raise NotFound("deployment_id")
            if source.device_id != self.device.device_id:
                raise Forbidden("this deployment belongs to another device")
            # The statement recorded nothing in these cases either: same conditions.
            _refuse_deleted_credentials(source.containers, source.sealed)
            try:
                auths = self._registry_auths(source)
            except Unavailable:
                # Recorded but not handed over: the record would be a lie.
                if source.delivery_ids:
                    await payload_store.withdraw_deliveries(
                        conn, self.tenant_id, source.delivery_ids
                    )
                raise
            # Authorised from here on: the device owns a deployment of this release.
            templates = self.templates.get(self.tenant_id, source.release_id)
            if templates is None:
                release = await containers_store.of_releases(
                    conn, self.tenant_id, [source.release_id]
                )
                templates = self.templates.put(
                    self.tenant_id, source.release_id, release[source.release_id]
                )
        return assemble(source.deployment_id, [c.id for c in source.containers], templates, auths)

    def _registry_auths(self, source: DeploymentSource) -> dict[uuid.UUID, Secret]:
        """X-Registry-Auth per container that has credentials, opened here and only here."""
        auths: dict[uuid.UUID, Secret] = {}
        for c in source.containers:
            if c.image_credentials_id is None:
                continue
            creds = source.sealed[c.image_credentials_id]
            try:
                password = self.vault.open(self.tenant_id, creds.id, creds.sealed)
            except NoPrivateKey:
                raise Unavailable(
                    "this server holds only the public key, so it cannot open image "
                    "credentials: read device payloads from a server configured with the "
                    "private key (EDGEHOG_CREDS_SECRET_KEY_FILE)"
                ) from None
            except VaultError as exc:
                # Key ids and credential ids are not secret; the reason helps an operator.
                log.error("cannot open image credentials %s: %s", creds.id, exc)
                raise Unavailable(
                    f"the image credentials of {_container_label(c)} cannot be opened by "
                    "this server"
                ) from None
            # The serveraddress comes from the reference as the release wrote it.
            address = server_address_of(c.image_reference)
            auths[c.id] = Secret(encode_registry_auth(creds.username, password.reveal(), address))
        return auths
