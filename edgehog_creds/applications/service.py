"""Applications and releases: checks, transactions, audit records.

A release lists existing containers by id and is written, with its
container list and dependencies, in one transaction; it is immutable from
then on. Every problem of a new release comes back at once, those only the
database knows (an unknown application or container, a version taken)
included.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..db import Connection
from ..deployments import store as deployments_store
from ..domain import text
from ..domain.errors import Collector, Conflict, DomainError, Invalid, NotFound
from ..domain.listing import ListQuery, Page, PageRequest, Sort
from ..service import TenantService
from ..store import pages, tables
from . import store
from .model import (
    APPLICATION,
    RELEASE,
    Application,
    ContainerDependency,
    ContainerInRelease,
    NewRelease,
    Release,
    ReleaseOfContainer,
    ReleaseWithContainers,
)

MAX_DESCRIPTION = 4096
MAX_RELEASE_CONTAINERS = 64  # a release is sent to a device whole
MAX_SYSTEM_MODELS = 256
# A release's containers are paged by their place in it, which is unique there.
CONTAINER_ORDER = [Sort("position")]


def _has_cycle(edges: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> bool:
    """Whether "container starts after dependency" edges go round in a circle."""
    after: dict[uuid.UUID, set[uuid.UUID]] = {}
    for container, dependency in edges:
        after.setdefault(container, set()).add(dependency)
    done: set[uuid.UUID] = set()

    def visit(node: uuid.UUID, path: set[uuid.UUID]) -> bool:
        if node in path:
            return True
        if node in done:
            return False
        found = any(visit(n, path | {node}) for n in after.get(node, ()))
        done.add(node)
        return found

    return any(visit(node, set()) for node in list(after))


class ApplicationsService(TenantService):
    # --- applications -----------------------------------------------------------

    async def create_application(
        self,
        *,
        name: str,
        description: str | None,
        initial_release: NewRelease | None = None,
        check: Collector | None = None,
    ) -> tuple[Application, ReleaseWithContainers | None]:
        """Create an application, and its first release when one is given: all or nothing."""
        check = check or Collector()
        checked_name = check.check(text.text, "name", name)
        checked_description = check.check(
            text.optional_text, "description", description, max_length=MAX_DESCRIPTION
        )
        release_check = Collector()
        version = None
        if initial_release is not None:
            version = self._check_release(release_check, "initial_release.", initial_release)
        async with self.db.transaction() as conn:
            if initial_release is not None:
                release_check.errors.extend(
                    await self._missing(conn, "initial_release.", initial_release)
                )
            check.errors.extend(release_check.errors)
            check.raise_all()
            assert checked_name is not None and checked_description is not None
            created = await store.insert_application(
                conn, self.tenant_id, name=checked_name, description=checked_description
            )
            await self.audit(conn, "create", APPLICATION, created.id, {"name": checked_name})
            release = None
            if initial_release is not None:
                assert version is not None
                release = await self._insert_release(conn, created.id, version, initial_release)
        return created, release

    async def delete_application(self, application_id: uuid.UUID) -> Application:
        """Delete an application with its releases.

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
            # Its releases go with it (ON DELETE CASCADE); their containers stay.
            await tables.delete_by_id(conn, store.APPLICATIONS, self.tenant_id, application_id)
            # Record each release, so the audit trail of a release ends with its delete.
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
        application_id: uuid.UUID | None,
        given: NewRelease,
        check: Collector | None = None,
    ) -> ReleaseWithContainers:
        """Create a release of an application, listing existing containers: all or nothing.

        `check` may hold problems the caller found already (an id that did not
        decode, given as None here); all of them come back together.
        """
        check = check or Collector()
        if application_id is None and not check.errors:
            check.add(Invalid("application_id", "is required", code="required"))
        version = self._check_release(check, "", given)
        async with self.db.transaction() as conn:
            # Checked (and locked) even when the input has problems already,
            # so every problem comes back in one answer.
            if application_id is not None:
                if not await store.application_exists(
                    conn, self.tenant_id, application_id, lock=True
                ):
                    check.add(NotFound("application_id"))
                elif version is not None and await store.version_taken(
                    conn, self.tenant_id, application_id, version
                ):
                    check.add(Conflict("version"))
            check.errors.extend(await self._missing(conn, "", given))
            check.raise_all()
            assert application_id is not None and version is not None
            return await self._insert_release(conn, application_id, version, given)

    def _check_release(self, check: Collector, prefix: str, given: NewRelease) -> str | None:
        """What can be checked of a new release without the database: its version,
        its container list and the dependencies between them."""
        version = check.check(text.semver, f"{prefix}version", given.version)
        ids = given.container_ids
        if len(ids) > MAX_RELEASE_CONTAINERS:
            check.add(
                Invalid(
                    f"{prefix}containers",
                    f"should have at most {MAX_RELEASE_CONTAINERS} item(s)",
                    code="too_long",
                )
            )
        for i, container_id in enumerate(ids):
            if container_id is not None and ids.index(container_id) != i:
                check.add(Invalid(f"{prefix}containers.{i}.id", "is listed more than once"))
        models = given.system_model_ids
        if len(models) > MAX_SYSTEM_MODELS:
            check.add(
                Invalid(
                    f"{prefix}required_system_models",
                    f"should have at most {MAX_SYSTEM_MODELS} item(s)",
                    code="too_long",
                )
            )
        listed = {c for c in ids if c is not None}
        edges = []
        for i, (container_id, dependency_id) in enumerate(given.dependencies):
            for name, value in (("container_id", container_id), ("dependency_id", dependency_id)):
                if value is not None and value not in listed:
                    check.add(
                        Invalid(
                            f"{prefix}container_dependencies.{i}.{name}",
                            "is not one of the release's containers",
                        )
                    )
            if container_id is not None and dependency_id is not None:
                edges.append((container_id, dependency_id))
        if _has_cycle(edges):
            check.add(Invalid(f"{prefix}container_dependencies", "circular dependencies detected"))
        return version

    async def _missing(self, conn: Connection, prefix: str, given: NewRelease) -> list[DomainError]:
        """The containers a new release names that the tenant does not have; those
        it has are KEY SHARE-locked, so they stay until the release is written."""
        wanted = [c for c in given.container_ids if c is not None]
        known = await tables.existing(conn, "containers", self.tenant_id, wanted, lock=True)
        missing: list[DomainError] = [
            NotFound(f"{prefix}containers.{i}.id")
            for i, c in enumerate(given.container_ids)
            if c is not None and c not in known
        ]
        models = [m for m in given.system_model_ids if m is not None]
        if models:
            known = await tables.existing(conn, "system_models", self.tenant_id, models, lock=True)
            missing += [
                NotFound(f"{prefix}required_system_models.{i}.id")
                for i, m in enumerate(given.system_model_ids)
                if m is not None and m not in known
            ]
        return missing

    async def _insert_release(
        self, conn: Connection, application_id: uuid.UUID, version: str, given: NewRelease
    ) -> ReleaseWithContainers:
        release = await store.insert_release(
            conn, self.tenant_id, application_id=application_id, version=version
        )
        container_ids = [c for c in given.container_ids if c is not None]
        edges = sorted({(c, d) for c, d in given.dependencies if c is not None and d is not None})
        await store.insert_release_containers(
            conn, self.tenant_id, release.id, container_ids, edges
        )
        models = sorted({m for m in given.system_model_ids if m is not None})
        await store.insert_release_system_models(conn, self.tenant_id, release.id, models)
        containers = (await store.containers_of_releases(conn, self.tenant_id, [release.id]))[
            release.id
        ]
        await self.audit(
            conn,
            "create",
            RELEASE,
            release.id,
            {
                "version": version,
                "application_id": str(application_id),
                "containers": [str(c) for c in container_ids],
                "required_system_models": [str(m) for m in models],
            },
        )
        return ReleaseWithContainers(release, containers)

    async def delete_release(self, release_id: uuid.UUID) -> ReleaseWithContainers:
        """Delete a release; the containers it listed stay (Edgehog's rule).

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
            listed = (await store.containers_of_releases(conn, self.tenant_id, [release_id]))[
                release_id
            ]
            # Its container list goes with it (ON DELETE CASCADE).
            await tables.delete_by_id(conn, store.RELEASES, self.tenant_id, release_id)
            await self.audit(
                conn,
                "delete",
                RELEASE,
                release_id,
                {"version": release.version, "application_id": str(release.application_id)},
            )
        return ReleaseWithContainers(release, listed)

    async def get_releases(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Release]:
        return await self.by_ids(store.RELEASES, ids)

    async def list_releases(self, query: ListQuery, request: PageRequest) -> Page[Release]:
        return await self.page(store.RELEASES, query, request)

    async def releases_of_applications(
        self, application_ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
    ) -> list[Page[Release]]:
        return await self.pages(store.RELEASES, query, request, "application_id", application_ids)

    async def releases_of_containers(
        self, container_ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
    ) -> list[Page[ReleaseOfContainer]]:
        """The releases that list each container, oldest first."""
        return await self.pages(
            store.RELEASES_OF_CONTAINERS, query, request, "container_id", container_ids
        )

    # --- a release's containers -------------------------------------------------------

    async def containers_of_releases(
        self, release_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ContainerInRelease]]:
        async with self.db.connection() as conn:
            return await store.containers_of_releases(conn, self.tenant_id, release_ids)

    async def system_models_of_releases(
        self, release_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        async with self.db.connection() as conn:
            return await store.system_models_of_releases(conn, self.tenant_id, release_ids)

    async def dependencies_of_releases(
        self, release_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ContainerDependency]]:
        async with self.db.connection() as conn:
            return await store.dependencies_of_releases(conn, self.tenant_id, release_ids)

    def page_of_dependencies(
        self, dependencies: Sequence[ContainerDependency], request: PageRequest
    ) -> Page[ContainerDependency]:
        """A page of one release's few dependencies, by id (read whole, paged in memory)."""
        ordered = sorted(dependencies, key=lambda d: d.id)
        return pages.page_of_list(store.DEPENDENCIES, ordered, [Sort("id")], request)

    def page_of_release(
        self, containers: Sequence[ContainerInRelease], request: PageRequest
    ) -> Page[ContainerInRelease]:
        """A page of one release's containers, in its order (few: read whole, paged in memory)."""
        return pages.page_of_list(store.CONTAINERS_IN_RELEASE, containers, CONTAINER_ORDER, request)
