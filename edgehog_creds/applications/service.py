"""Applications, releases and their containers: checks, transactions, audit records.

A release is written with all its containers in one transaction and is
immutable from then on. Every problem of a new release comes back at once,
those only the database knows (an unknown application, a version taken,
credentials that are not the tenant's) included.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..credentials import store as credentials_store
from ..db import Connection
from ..deployments import store as deployments_store
from ..docker_auth import InvalidImageReference, parse_image_reference
from ..domain import text
from ..domain.container import Container, ContainerSpec, check_settings
from ..domain.errors import Collector, Conflict, DomainError, Invalid, NotFound
from ..domain.listing import ListQuery, Page, PageRequest, Sort
from ..service import TenantService
from ..store import pages, tables
from . import containers_store, store
from .model import APPLICATION, RELEASE, Application, Release, ReleaseWithContainers

MAX_DESCRIPTION = 4096
# A release's containers are paged by their place in it, which is unique there.
CONTAINER_ORDER = [Sort("position")]


@dataclass(frozen=True)
class NewContainer:
    """A container as an input gives it: ids already decoded (None: none given)."""

    reference: str
    credentials_id: uuid.UUID | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)  # by setting name


def image_reference(field_path: str, value: str) -> str:
    try:
        parse_image_reference(value)
    except InvalidImageReference as exc:
        # The parser's reason ("repository name must be lowercase") is the part
        # after its last ": "; references are not secret.
        reason = str(exc).rsplit(": ", 1)[-1]
        raise Invalid(field_path, f"is not a valid Docker image reference: {reason}") from exc
    return value  # stored exactly as written: that is what the device pulls


def credentials_field(index: int) -> str:
    return f"containers.{index}.image.image_credentials_id"


class ApplicationsService(TenantService):
    # --- applications -----------------------------------------------------------

    async def create_application(self, *, name: str, description: str | None) -> Application:
        check = Collector()
        checked_name = check.check(text.text, "name", name)
        checked_description = check.check(
            text.optional_text, "description", description, max_length=MAX_DESCRIPTION
        )
        check.raise_all()
        assert checked_name is not None and checked_description is not None
        async with self.db.transaction() as conn:
            created = await store.insert_application(
                conn, self.tenant_id, name=checked_name, description=checked_description
            )
            await self.audit(conn, "create", APPLICATION, created.id, {"name": checked_name})
        return created

    async def delete_application(self, application_id: uuid.UUID) -> Application:
        """Delete an application with its releases and their containers.

        Refused (`Invalid` on `id`) while any of its releases is deployed: the
        database would cascade the delete into the deployments, and devices
        would silently lose what they run.
        """
        async with self.db.transaction() as conn:
            found = await store.lock_application(conn, self.tenant_id, application_id)
            if found is None:
                raise NotFound()
            application, releases = found
            devices = await deployments_store.devices_running(
                conn, self.tenant_id, [r.id for r in releases]
            )
            if devices:
                raise Invalid(
                    "id",
                    f"has releases deployed to {devices} device(s); "
                    "delete those deployments before the application",
                )
            # Its releases and their containers go with it (ON DELETE CASCADE).
            await tables.delete_by_id(conn, store.APPLICATIONS, self.tenant_id, application_id)
            # The releases go with the application (ON DELETE CASCADE); record
            # each, so the audit trail of a release ends with its delete.
            await self.audit_many(
                conn,
                "delete",
                RELEASE,
                [
                    (
                        r.id,
                        {
                            "version": r.version,
                            "application_id": str(application_id),
                            "with_application": True,
                        },
                    )
                    for r in releases
                ],
            )
            await self.audit(
                conn,
                "delete",
                APPLICATION,
                application_id,
                {"name": application.name, "releases": len(releases)},
            )
        return application

    async def get_applications(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Application]:
        return await self.by_ids(store.APPLICATIONS, ids)

    async def list_applications(self, query: ListQuery, request: PageRequest) -> Page[Application]:
        return await self.page(store.APPLICATIONS, query, request)

    # --- releases ---------------------------------------------------------------

    async def create_release(
        self,
        *,
        application_id: uuid.UUID | None,
        version: str,
        containers: Sequence[NewContainer],
        check: Collector | None = None,
    ) -> ReleaseWithContainers:
        """Create a release and its containers, all or nothing.

        `check` may hold problems the caller found already (an id that did not
        decode, given as None here); all of them come back together.
        """
        check = check or Collector()
        checked_version = check.check(text.semver, "version", version)
        specs = [self._container_spec(check, i, c) for i, c in enumerate(containers)]
        credentials_ids = [c.credentials_id for c in containers]
        async with self.db.transaction() as conn:
            if check.errors:
                # Report every problem of the input at once, including those
                # only the database knows (unknown ids, a version taken).
                check.errors.extend(
                    await self._release_problems(
                        conn, application_id, checked_version, credentials_ids, lock=False
                    )
                )
                check.raise_all()
            assert application_id is not None and checked_version is not None
            # Locked as they are checked, so they stay true for the inserts.
            check.errors.extend(
                await self._release_problems(
                    conn, application_id, checked_version, credentials_ids, lock=True
                )
            )
            check.raise_all()
            release = await store.insert_release(
                conn, self.tenant_id, application_id=application_id, version=checked_version
            )
            created = await containers_store.insert_all(conn, self.tenant_id, release.id, specs)
            await self.audit(
                conn,
                "create",
                RELEASE,
                release.id,
                {
                    "version": checked_version,
                    "application_id": str(application_id),
                    "containers": len(created),
                    # Which credentials the release points at: ids only.
                    "image_credentials_ids": sorted(
                        {str(c.image_credentials_id) for c in created if c.image_credentials_id}
                    ),
                },
            )
        return ReleaseWithContainers(release, created)

    def _container_spec(self, check: Collector, index: int, given: NewContainer) -> ContainerSpec:
        path = f"containers.{index}"
        reference = check.check(image_reference, f"{path}.image.reference", given.reference)
        settings = check_settings(check, path, given.settings)
        return ContainerSpec(
            image_reference=reference or "",
            image_credentials_id=given.credentials_id,
            **settings,
        )

    async def _release_problems(
        self,
        conn: Connection,
        application_id: uuid.UUID | None,
        version: str | None,
        credentials_ids: Sequence[uuid.UUID | None],
        *,
        lock: bool,
    ) -> list[DomainError]:
        """What the database would refuse in a new release: an unknown
        application, a version already taken, credentials not the tenant's.

        With `lock`, what is found is KEY SHARE-locked, so it cannot be
        deleted before the transaction ends.
        """
        found: list[DomainError] = []
        if application_id is not None:
            if not await store.application_exists(conn, self.tenant_id, application_id, lock=lock):
                found.append(NotFound("application_id"))
            elif version is not None and await store.version_taken(
                conn, self.tenant_id, application_id, version
            ):
                found.append(Conflict("version"))
        wanted = [c for c in credentials_ids if c is not None]
        if wanted:
            lookup = credentials_store.key_share if lock else credentials_store.existing
            known = await lookup(conn, self.tenant_id, wanted)
            found.extend(
                NotFound(credentials_field(i))
                for i, c in enumerate(credentials_ids)
                if c is not None and c not in known
            )
        return found

    async def delete_release(self, release_id: uuid.UUID) -> ReleaseWithContainers:
        """Delete a release and its containers.

        Refused (`Invalid` on `id`) while the release is deployed to a device:
        the database would cascade the delete into those deployments.
        """
        async with self.db.transaction() as conn:
            release = await store.lock_release(conn, self.tenant_id, release_id)
            if release is None:
                raise NotFound()
            devices = await deployments_store.devices_running(conn, self.tenant_id, [release_id])
            if devices:
                raise Invalid(
                    "id",
                    f"is deployed to {devices} device(s); delete those deployments before the "
                    "release",
                )
            gone = (await containers_store.of_releases(conn, self.tenant_id, [release_id]))[
                release_id
            ]
            # Its containers go with it (ON DELETE CASCADE).
            await tables.delete_by_id(conn, store.RELEASES, self.tenant_id, release_id)
            await self.audit(
                conn,
                "delete",
                RELEASE,
                release_id,
                {"version": release.version, "application_id": str(release.application_id)},
            )
        return ReleaseWithContainers(release, gone)

    async def get_releases(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Release]:
        return await self.by_ids(store.RELEASES, ids)

    async def list_releases(self, query: ListQuery, request: PageRequest) -> Page[Release]:
        return await self.page(store.RELEASES, query, request)

    async def releases_of_applications(
        self, application_ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
    ) -> list[Page[Release]]:
        return await self.pages(store.RELEASES, query, request, "application_id", application_ids)

    # --- containers ---------------------------------------------------------------

    async def containers_of_releases(
        self, release_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Container]]:
        async with self.db.connection() as conn:
            return await containers_store.of_releases(conn, self.tenant_id, release_ids)

    def page_of_release(
        self, containers: Sequence[Container], request: PageRequest
    ) -> Page[Container]:
        """A page of one release's containers (few: read whole, paged in memory)."""
        return pages.page_of_list(containers_store.TABLE, containers, CONTAINER_ORDER, request)

    async def get_containers(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Container]:
        return await self.by_ids(containers_store.TABLE, ids)

    async def get_containers_by_image(
        self, image_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Container]:
        """Containers by their image id (an Image node belongs to exactly one container)."""
        return await self.by_ids(containers_store.TABLE, image_ids, key="image_id")

    async def containers_using_credentials(
        self, credentials_ids: Sequence[uuid.UUID], request: PageRequest
    ) -> list[Page[Container]]:
        """The containers that use each set of credentials, oldest first."""
        return await self.pages(
            containers_store.TABLE, ListQuery(), request, "image_credentials_id", credentials_ids
        )
