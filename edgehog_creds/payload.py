"""Builds the payload a device reads for one deployment.

This is the only module that asks the vault to open a password, and it does
so for exactly one purpose: to put a Docker ``X-Registry-Auth`` value into a
``CreateImageRequest`` for the device the deployment was made for.

One statement reads the deployment, its containers and their sealed
credentials, and records one delivery per set of credentials if the payload
can be delivered (store/payloads.py `read_and_record`); then this module
refuses what cannot be delivered, with the same conditions the statement
checked, and opens the passwords. So a refused payload, or one whose
credentials were deleted before it was read, leaves no delivery record and
returns nothing partial; a delete that comes later waits for the record. A
password that cannot be opened takes the record back, so every delivery
record stands for a payload that was handed over.

The shapes follow /work/shared/docs/device-contract.md ("The payload a device
reads"): every image, then every container, then the deployment; ids are
plain UUID strings; unset 64-bit limits and memorySwappiness are -1.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from typing import Any

import asyncpg

from .docker_auth import encode_registry_auth, parse_image_reference, server_address
from .errors import CredentialsDeleted, Forbidden, NotFound, Unavailable, raise_all
from .secrets import Secret
from .store import containers
from .store import payloads as store
from .store.containers import Container
from .vault import NoPrivateKey, Vault, VaultError

log = logging.getLogger(__name__)

INTERFACE_PREFIX = "io.edgehog.devicemanager.apps."
IMAGE_INTERFACE = INTERFACE_PREFIX + "CreateImageRequest"
CONTAINER_INTERFACE = INTERFACE_PREFIX + "CreateContainerRequest"
DEPLOYMENT_INTERFACE = INTERFACE_PREFIX + "CreateDeploymentRequest"

# Docker's (and Edgehog's device runtime's) "not set" for numeric limits.
UNSET = -1


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# (attribute, camelCase key) per request class, worked out once: a payload of
# 20 containers has some 700 fields, and reflecting on each one every time
# cost more than opening the passwords.
_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def _data(obj: Any) -> dict[str, Any]:
    """The event data of a request: its fields, camelCased, in contract order."""
    keys = _KEYS.get(type(obj))
    if keys is None:
        keys = _KEYS[type(obj)] = tuple((f.name, _camel(f.name)) for f in fields(obj))
    return {key: getattr(obj, name) for name, key in keys}


@functools.lru_cache(maxsize=4096)
def _server_address(reference: str) -> str:
    # References are validated when a release is created and never change;
    # parsing the same few again for every payload is wasted work.
    return server_address(parse_image_reference(reference))


def _event(interface: str, path: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"interface": interface, "path": path, "data": data}


@dataclass(frozen=True, slots=True)
class CreateImageRequest:
    id: str
    deployment_id: str
    reference: str
    # Wrapped so that a repr, a log line or a traceback shows "***": this is
    # the password in transit. "" for an image without credentials.
    registry_auth: Secret

    def data(self) -> dict[str, Any]:
        return {**_data(self), "registryAuth": self.registry_auth.reveal()}


@dataclass(frozen=True, slots=True)
class CreateContainerRequest:
    # Field order is the contract's table order; events keep it.
    id: str
    deployment_id: str
    image_id: str
    network_ids: list[str]
    volume_ids: list[str]
    device_mapping_ids: list[str]
    device_request_ids: list[str]
    hostname: str
    restart_policy: str
    env: list[str]  # KEY=VALUE
    binds: list[str]
    network_mode: str
    port_bindings: list[str]
    extra_hosts: list[str]
    cap_add: list[str]
    cap_drop: list[str]
    cpu_period: int
    cpu_quota: int
    cpu_realtime_period: int
    cpu_realtime_runtime: int
    memory: int
    memory_reservation: int
    memory_swap: int
    memory_swappiness: int  # 32-bit
    volume_driver: str
    storage_opt: list[str]
    read_only_rootfs: bool
    tmpfs: list[str]
    privileged: bool

    def data(self) -> dict[str, Any]:
        return _data(self)


@dataclass(frozen=True, slots=True)
class CreateDeploymentRequest:
    id: str
    containers: list[str]  # the container ids, in release order

    def data(self) -> dict[str, Any]:
        return _data(self)


@dataclass(frozen=True, slots=True)
class ContainerTemplate:
    """One container of a release as every payload of that release shows it.

    Built once per release and kept (see _release_templates); only the
    deployment id differs between payloads, so it is left empty here.
    """

    id: uuid.UUID
    image_id: str
    image_reference: str
    request: CreateContainerRequest  # deployment_id ""
    data: dict[str, Any]  # request.data(); shared by payloads, never changed


@dataclass(frozen=True, slots=True)
class DevicePayload:
    deployment_id: uuid.UUID
    images: list[CreateImageRequest]
    templates: list[ContainerTemplate]  # in release order

    @property
    def containers(self) -> list[CreateContainerRequest]:
        dep = str(self.deployment_id)
        return [replace(t.request, deployment_id=dep) for t in self.templates]

    @property
    def deployment(self) -> CreateDeploymentRequest:
        return CreateDeploymentRequest(
            id=str(self.deployment_id), containers=[str(t.id) for t in self.templates]
        )

    def events(self) -> list[dict[str, Any]]:
        """The payload as Edgehog's device runtime consumes it: {interface, path, data}."""
        dep = str(self.deployment_id)
        events = [_event(IMAGE_INTERFACE, "/image", i.data()) for i in self.images]
        # A new dict per event: the template's stays as it is. deploymentId
        # keeps its place (the contract's order), only its value changes.
        events += [
            _event(CONTAINER_INTERFACE, "/container", {**t.data, "deploymentId": dep})
            for t in self.templates
        ]
        events.append(_event(DEPLOYMENT_INTERFACE, "/deployment", self.deployment.data()))
        return events

    def __repr__(self) -> str:
        return f"DevicePayload(deployment_id={self.deployment_id!r}, images={len(self.images)})"


# --- building -----------------------------------------------------------------


def _container_label(c: store.ContainerCredentials) -> str:
    return f"container {c.position} ({c.id}, image {c.image_reference!r})"


def _refuse_deleted_credentials(
    containers: list[store.ContainerCredentials],
    present: dict[uuid.UUID, store.SealedCredentials],
) -> None:
    """Raise credentials_deleted for every container whose credentials are gone.

    `present` holds the credentials still found; a container pointing to
    credentials outside it lost them to a delete that raced this read.
    """
    errors = [
        CredentialsDeleted(
            None,
            f"{_container_label(c)} needs image credentials that were deleted; "
            "create new credentials and a release that uses them",
        )
        for c in containers
        if c.credentials_deleted_at is not None
        or (c.image_credentials_id is not None and c.image_credentials_id not in present)
    ]
    raise_all(errors)


def _registry_auths(
    vault: Vault,
    tenant_id: uuid.UUID,
    containers: list[store.ContainerCredentials],
    sealed: dict[uuid.UUID, store.SealedCredentials],
) -> dict[uuid.UUID, Secret]:
    """X-Registry-Auth per container that has credentials, opened here and only here."""
    auths: dict[uuid.UUID, Secret] = {}
    for c in containers:
        if c.image_credentials_id is None:
            continue
        creds = sealed[c.image_credentials_id]
        try:
            password = vault.open(tenant_id, creds.id, creds.sealed)
        except NoPrivateKey:
            raise Unavailable(
                "this server holds only the public key, so it cannot open image credentials: "
                "read device payloads from a server configured with the private key "
                "(EDGEHOG_CREDS_SECRET_KEY_FILE)"
            ) from None
        except VaultError as exc:
            # Key ids and credential ids are not secret; the reason helps an operator.
            log.error("cannot open image credentials %s: %s", creds.id, exc)
            raise Unavailable(
                f"the image credentials of {_container_label(c)} cannot be opened by this server"
            ) from None
        # The serveraddress comes from the reference as the release wrote it.
        address = _server_address(c.image_reference)
        auths[c.id] = Secret(encode_registry_auth(creds.username, password.reveal(), address))
    return auths


def _limit(value: int | None) -> int:
    return UNSET if value is None else value


def _container_request(c: Container, deployment_id: str) -> CreateContainerRequest:
    return CreateContainerRequest(
        id=str(c.id),
        deployment_id=deployment_id,
        image_id=str(c.image_id),
        # Networks, volumes and device mappings are not modelled here (yet):
        # the contract wants the fields present, so they are empty.
        network_ids=[],
        volume_ids=[],
        device_mapping_ids=[],
        device_request_ids=[],
        hostname=c.hostname,
        restart_policy=c.restart_policy,
        env=[f"{e.key}={e.value}" for e in c.env],
        binds=list(c.binds),
        network_mode=c.network_mode,
        port_bindings=list(c.port_bindings),
        extra_hosts=list(c.extra_hosts),
        cap_add=list(c.cap_add),
        cap_drop=list(c.cap_drop),
        cpu_period=_limit(c.cpu_period),
        cpu_quota=_limit(c.cpu_quota),
        cpu_realtime_period=_limit(c.cpu_realtime_period),
        cpu_realtime_runtime=_limit(c.cpu_realtime_runtime),
        memory=_limit(c.memory),
        memory_reservation=_limit(c.memory_reservation),
        memory_swap=_limit(c.memory_swap),
        memory_swappiness=_limit(c.memory_swappiness),
        volume_driver=c.volume_driver,
        storage_opt=list(c.storage_opt),
        read_only_rootfs=c.read_only_rootfs,
        tmpfs=list(c.tmpfs),
        privileged=c.privileged,
    )


def _template(c: Container) -> ContainerTemplate:
    request = _container_request(c, "")
    return ContainerTemplate(c.id, str(c.image_id), c.image_reference, request, request.data())


# (tenant id, release id) -> the release's container templates by container id.
# Safe to keep: a release's containers never change except for losing their
# credentials (the containers_immutable trigger), and credentials are not in
# a template but read for every payload. Bounded, oldest dropped first.
_RELEASES_KEPT = 256
_templates: OrderedDict[tuple[uuid.UUID, uuid.UUID], dict[uuid.UUID, ContainerTemplate]] = (
    OrderedDict()
)


async def _release_templates(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, release_id: uuid.UUID
) -> dict[uuid.UUID, ContainerTemplate]:
    key = (tenant_id, release_id)
    held = _templates.get(key)
    if held is not None:
        _templates.move_to_end(key)
        return held
    release = await containers.of_releases(conn, tenant_id, [release_id])
    held = {c.id: _template(c) for c in release[release_id]}
    _templates[key] = held
    while len(_templates) > _RELEASES_KEPT:
        _templates.popitem(last=False)
    return held


def assemble(
    deployment_id: uuid.UUID,
    containers: list[store.ContainerCredentials],
    templates: dict[uuid.UUID, ContainerTemplate],
    auths: dict[uuid.UUID, Secret],
) -> DevicePayload:
    """The payload from rows, templates and opened auths: pure, no I/O."""
    dep = str(deployment_id)
    ordered = [templates[c.id] for c in containers]
    # One CreateImageRequest per container's image, even when two containers
    # share a reference: each may carry different credentials.
    images = [
        CreateImageRequest(
            id=t.image_id,
            deployment_id=dep,
            reference=t.image_reference,
            registry_auth=auths.get(t.id, Secret("")),
        )
        for t in ordered
    ]
    return DevicePayload(deployment_id=deployment_id, images=images, templates=ordered)


async def _deliverable(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    device_id: uuid.UUID,
    deployment_id: uuid.UUID,
    *,
    record: bool,
) -> store.DeploymentSource:
    source = await store.read_and_record(conn, tenant_id, deployment_id, device_id, record=record)
    if source is None:
        raise NotFound("deploymentId")
    if source.device_id != device_id:
        raise Forbidden("this deployment belongs to another device")
    # The statement recorded nothing in these cases either: same conditions.
    _refuse_deleted_credentials(source.containers, source.sealed)
    return source


async def build_device_payload(
    pool: asyncpg.Pool,
    vault: Vault,
    tenant_id: uuid.UUID,
    device_id: uuid.UUID,
    deployment_id: uuid.UUID,
) -> DevicePayload:
    """The payload of `deployment_id` for the device `device_id`, or a domain error.

    NotFound (deploymentId) when the tenant has no such deployment, Forbidden
    when it was made for another device, CredentialsDeleted when a container's
    credentials are gone, Unavailable when this process cannot open them.
    """
    async with pool.acquire() as conn:
        # A server holding only the public key records nothing: any password
        # it would have to open answers Unavailable (payloads of public
        # images still work there, and record nothing anyway).
        source = await _deliverable(
            conn, tenant_id, device_id, deployment_id, record=vault.can_open
        )
        try:
            auths = _registry_auths(vault, tenant_id, source.containers, source.sealed)
        except Unavailable:
            # Recorded but not handed over: the record would be a lie.
            if source.delivery_ids:
                await store.withdraw_deliveries(conn, tenant_id, source.delivery_ids)
            raise
        templates = await _release_templates(conn, tenant_id, source.release_id)
    return assemble(source.deployment_id, source.containers, templates, auths)
