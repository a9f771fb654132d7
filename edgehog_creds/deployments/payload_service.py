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

import functools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace

from ..db import Connection, Database
from ..docker_auth import encode_registry_auth
from ..domain.errors import CredentialsDeleted, Forbidden, NotFound, Unavailable, raise_all
from ..domain.principal import Device
from ..domain.secret import Secret
from ..vault import NoPrivateKey, Vault, VaultError
from . import payload_store, store
from .model import DeploymentSource, DeviceMessage, ImageCredentials, SealedCredentials
from .payload import INTERFACE_PREFIX, DevicePayload, ReleaseTemplates, server_address_of
from .service import release_template

CREATE_DEPLOYMENT = INTERFACE_PREFIX + "CreateDeploymentRequest"

log = logging.getLogger(__name__)


def _image_label(image: ImageCredentials) -> str:
    return f"image {image.reference!r} ({image.id})"


def _has_credentials(image: ImageCredentials, present: dict[uuid.UUID, SealedCredentials]) -> bool:
    """Whether the image is public or its credentials are still there."""
    if image.credentials_deleted_at is not None:
        return False
    return image.image_credentials_id is None or image.image_credentials_id in present


def _refuse_deleted_credentials(
    images: Sequence[ImageCredentials], present: dict[uuid.UUID, SealedCredentials]
) -> None:
    """Raise credentials_deleted for every image whose credentials are gone.

    `present` holds the credentials still found; an image pointing to
    credentials outside it lost them to a delete that raced this read.
    """
    raise_all(
        CredentialsDeleted(
            None,
            f"{_image_label(i)} needs image credentials that were deleted; create new "
            "credentials, a container that uses them and a release that lists it",
        )
        for i in images
        if not _has_credentials(i, present)
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
            _refuse_deleted_credentials(source.images, source.sealed)
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
            made = await release_template(conn, self.templates, self.tenant_id, source.release_id)
        return DevicePayload(source.deployment_id, made.parts, auths, made.start_order)

    async def messages(self, after: int, limit: int) -> list[DeviceMessage]:
        """The device's next messages after `after` (those up to it are handled
        and forgotten), each CreateImageRequest with its registryAuth.

        Credentials are opened here for the images the messages carry, and
        each handed-over set is recorded as a delivery, as for a payload.
        An image whose credentials were deleted since it was queued goes with
        "" (its pull will fail, and the device reports the error). A device
        reading its CreateDeploymentRequest makes that deployment `sent`.
        """
        async with self.db.transaction() as conn:
            found = await store.next_messages(
                conn, self.tenant_id, self.device.device_id, after, limit
            )
            auths: dict[uuid.UUID, Secret] = {}
            images: dict[uuid.UUID, list[uuid.UUID]] = {}
            for m in found:
                if m.image_id is not None:
                    images.setdefault(m.deployment_id, []).append(m.image_id)
            for deployment_id, image_ids in images.items():
                auths.update(await self._message_auths(conn, deployment_id, image_ids))
            await store.mark_sent(
                conn,
                self.tenant_id,
                [m.deployment_id for m in found if m.interface == CREATE_DEPLOYMENT],
            )
        return [
            replace(m, data={**m.data, "registryAuth": auths.get(m.image_id, Secret("")).reveal()})
            if m.image_id is not None
            else m
            for m in found
        ]

    async def _message_auths(
        self, conn: Connection, deployment_id: uuid.UUID, image_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Secret]:
        """registryAuth of some of a deployment's images, their delivery recorded."""
        read = functools.partial(
            payload_store.read_and_record,
            conn,
            self.tenant_id,
            deployment_id,
            self.device.device_id,
            record=self.vault.can_open,
        )
        source = await read(image_ids=image_ids)
        if source is None:  # deleted since: its messages went with it
            return {}
        present = [i for i in source.images if _has_credentials(i, source.sealed)]
        if len(present) < len(source.images):
            # Some lost their credentials, so nothing was recorded: record
            # (and open) those that still have theirs.
            source = await read(image_ids=[i.id for i in present])
            if source is None:
                return {}
        try:
            return self._registry_auths(source)
        except Unavailable:
            if source.delivery_ids:
                await payload_store.withdraw_deliveries(conn, self.tenant_id, source.delivery_ids)
            raise

    def _registry_auths(self, source: DeploymentSource) -> dict[uuid.UUID, Secret]:
        """X-Registry-Auth per image that has credentials, opened here and only here."""
        auths: dict[uuid.UUID, Secret] = {}
        for c in source.images:
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
                    f"the image credentials of {_image_label(c)} cannot be opened by this server"
                ) from None
            # The serveraddress comes from the reference as it was written.
            address = server_address_of(c.reference)
            auths[c.id] = Secret(encode_registry_auth(creds.username, password.reveal(), address))
        return auths
