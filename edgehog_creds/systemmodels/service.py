"""Hardware types and system models: Edgehog's checks, the transaction, the audit record.

Checks and messages follow Edgehog's: a handle is made of a-z, 0-9 and -, a
handle or a name already taken is `unique`, a list of part numbers has at
least one item. A part number that another hardware type (or system model)
of the tenant had moves to the new one, as in Edgehog. Pictures are URLs
only: this service stores no files.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..domain import text
from ..domain.errors import Collector, Invalid, NotFound
from ..domain.listing import ListQuery, Page, PageRequest
from ..service import TenantService
from ..store import tables
from . import store
from .model import (
    HARDWARE_TYPE,
    SYSTEM_MODEL,
    HardwareType,
    HardwareTypePartNumber,
    SystemModel,
    SystemModelPartNumber,
)

MAX_PART_NUMBERS = 100
MAX_DESCRIPTIONS = 50
MAX_DESCRIPTION = 10_000
MAX_URL = 2048

# Edgehog's Validations.slug: what a handle may hold.
_HANDLE = re.compile(r"[a-z0-9\-]+", re.ASCII)
# A BCP 47-looking tag (en-US, it, zh-Hant-TW), as the UI sends its locale.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", re.ASCII)
_URL = re.compile(r"https?://[^\s]+", re.ASCII | re.IGNORECASE)


def check_handle(field: str, value: str) -> str:
    checked = text.text(field, value)
    if not _HANDLE.fullmatch(checked):
        raise Invalid(
            field, "should only contain lower case ASCII letters (from a to z), digits and -"
        )
    return checked


def check_part_numbers(field: str, values: Sequence[str]) -> list[str]:
    """At least one, at most MAX_PART_NUMBERS, each trimmed text; repeats count once."""
    if not values:
        raise Invalid(field, "must have 1 or more items")
    if len(values) > MAX_PART_NUMBERS:
        raise Invalid(field, f"must have {MAX_PART_NUMBERS} or fewer items", code="too_long")
    check = Collector()
    found = [check.check(text.text, f"{field}.{i}", v) for i, v in enumerate(values)]
    check.raise_all()
    return list(dict.fromkeys(v for v in found if v is not None))


def check_picture_url(field: str, value: str | None) -> str | None:
    """An http(s) URL, or None (an empty string is none, as in Edgehog)."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    if len(url) > MAX_URL:
        raise Invalid(field, f"should be at most {MAX_URL} character(s)", code="too_long")
    if not _URL.fullmatch(url):
        raise Invalid(field, "must be an http:// or https:// URL")
    return url


def merge_descriptions(
    field: str, values: Sequence[tuple[str, str | None]], current: Mapping[str, str]
) -> dict[str, str]:
    """`current` with each (language tag, text) set, and each (tag, None) removed."""
    if len(values) > MAX_DESCRIPTIONS:
        raise Invalid(field, f"must have {MAX_DESCRIPTIONS} or fewer items", code="too_long")
    out = dict(current)
    check = Collector()
    for i, (tag, value) in enumerate(values):
        if not _LANGUAGE_TAG.fullmatch(tag):
            check.add(Invalid(f"{field}.{i}.language_tag", "is not a valid language tag"))
            continue
        if value is None:
            out.pop(tag, None)
            continue
        checked = check.check(text.text, f"{field}.{i}.value", value, max_length=MAX_DESCRIPTION)
        if checked is not None:
            out[tag] = checked
    check.raise_all()
    if len(out) > MAX_DESCRIPTIONS:
        raise Invalid(field, f"must have {MAX_DESCRIPTIONS} or fewer items", code="too_long")
    return out


def _required(rule: Callable[[str, str], str]) -> Callable[[str, str | None], str]:
    """`rule`, refusing None: an update may leave a required field out, not clear it."""

    def checked(field: str, value: str | None) -> str:
        if value is None:
            raise Invalid(field, "is required", code="required")
        return rule(field, value)

    return checked


def _no_upload(check: Collector, given: bool) -> None:
    if given:
        check.add(
            Invalid(
                "picture_file",
                "picture uploads are not supported by this server: give pictureUrl, "
                "the URL of the picture, instead",
            )
        )


class HardwareTypesService(TenantService):
    async def create(self, *, handle: str, name: str, part_numbers: Sequence[str]) -> HardwareType:
        check = Collector()
        checked_handle = check.check(check_handle, "handle", handle)
        checked_name = check.check(text.text, "name", name)
        checked_parts = check.check(check_part_numbers, "part_numbers", part_numbers)
        check.raise_all()
        assert checked_handle and checked_name and checked_parts is not None

        async with self.db.transaction() as conn:
            created = await store.insert_hardware_type(
                conn, self.tenant_id, handle=checked_handle, name=checked_name
            )
            await store.set_part_numbers(
                conn, self.tenant_id, "hardware_type", created.id, checked_parts, replace=False
            )
            await self.audit(
                conn,
                "create",
                HARDWARE_TYPE,
                created.id,
                {"handle": checked_handle, "name": checked_name},
            )
        return created

    async def update(self, id: uuid.UUID, changes: Mapping[str, Any]) -> HardwareType:
        """`changes` holds what the input gave: handle, name, part_numbers."""
        check = Collector()
        columns: dict[str, Any] = {}
        if "handle" in changes:
            columns["handle"] = check.check(_required(check_handle), "handle", changes["handle"])
        if "name" in changes:
            columns["name"] = check.check(_required(text.text), "name", changes["name"])
        parts = None
        if changes.get("part_numbers") is not None:
            parts = check.check(check_part_numbers, "part_numbers", changes["part_numbers"])
        check.raise_all()

        async with self.db.transaction() as conn:
            updated = await store.update_hardware_type(conn, self.tenant_id, id, columns)
            if updated is None:
                raise NotFound()
            if parts is not None:
                await store.set_part_numbers(
                    conn, self.tenant_id, "hardware_type", id, parts, replace=True
                )
            await self.audit(
                conn, "update", HARDWARE_TYPE, id, {"handle": updated.handle, "name": updated.name}
            )
        return updated

    async def delete(self, id: uuid.UUID) -> HardwareType:
        """Delete it and its part numbers; refused while a system model uses it."""
        async with self.db.transaction() as conn:
            using = await store.system_models_using(conn, self.tenant_id, id)
            if using:
                raise Invalid(
                    "id", f"is used by {using} system model(s); delete or change them first"
                )
            deleted = await store.delete_hardware_type(conn, self.tenant_id, id)
            if deleted is None:
                raise NotFound()
            await self.audit(
                conn, "delete", HARDWARE_TYPE, id, {"handle": deleted.handle, "name": deleted.name}
            )
        return deleted

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, HardwareType]:
        return await self.by_ids(store.HARDWARE_TYPES, ids)

    async def list_hardware_types(
        self, query: ListQuery, request: PageRequest
    ) -> Page[HardwareType]:
        return await self.page(store.HARDWARE_TYPES, query, request)

    async def part_numbers_of(
        self, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
    ) -> list[Page[HardwareTypePartNumber]]:
        return await self.pages(
            store.HARDWARE_TYPE_PART_NUMBERS, query, request, "hardware_type_id", ids
        )


class SystemModelsService(TenantService):
    async def create(
        self,
        *,
        handle: str,
        name: str,
        hardware_type_id: uuid.UUID,
        part_numbers: Sequence[str],
        picture_url: str | None = None,
        picture_file_given: bool = False,
        descriptions: Sequence[tuple[str, str | None]] = (),
    ) -> SystemModel:
        check = Collector()
        checked_handle = check.check(check_handle, "handle", handle)
        checked_name = check.check(text.text, "name", name)
        checked_parts = check.check(check_part_numbers, "part_numbers", part_numbers)
        checked_url = check.check(check_picture_url, "picture_url", picture_url)
        checked_descriptions = check.check(
            merge_descriptions, "localized_descriptions", descriptions, {}
        )
        _no_upload(check, picture_file_given)
        check.raise_all()
        assert checked_handle and checked_name and checked_parts is not None
        assert checked_descriptions is not None

        async with self.db.transaction() as conn:
            created = await store.insert_system_model(
                conn,
                self.tenant_id,
                handle=checked_handle,
                name=checked_name,
                picture_url=checked_url,
                hardware_type_id=hardware_type_id,
                descriptions=checked_descriptions,
            )
            await store.set_part_numbers(
                conn, self.tenant_id, "system_model", created.id, checked_parts, replace=False
            )
            await self.audit(
                conn,
                "create",
                SYSTEM_MODEL,
                created.id,
                {"handle": checked_handle, "name": checked_name},
            )
        return created

    async def update(self, id: uuid.UUID, changes: Mapping[str, Any]) -> SystemModel:
        """`changes` holds what the input gave: handle, name, picture_url (None
        removes it), part_numbers, descriptions [(tag, text or None to remove)],
        picture_file_given."""
        check = Collector()
        columns: dict[str, Any] = {}
        if "handle" in changes:
            columns["handle"] = check.check(_required(check_handle), "handle", changes["handle"])
        if "name" in changes:
            columns["name"] = check.check(_required(text.text), "name", changes["name"])
        if "picture_url" in changes:
            columns["picture_url"] = check.check(
                check_picture_url, "picture_url", changes["picture_url"]
            )
        parts = None
        if changes.get("part_numbers") is not None:
            parts = check.check(check_part_numbers, "part_numbers", changes["part_numbers"])
        _no_upload(check, bool(changes.get("picture_file_given")))
        given_descriptions = changes.get("descriptions")
        if given_descriptions is not None:
            # Checked against no current texts first, so that every problem
            # of the input comes back before the transaction.
            check.check(merge_descriptions, "localized_descriptions", given_descriptions, {})
        check.raise_all()

        async with self.db.transaction() as conn:
            current = await store.lock_system_model(conn, self.tenant_id, id)
            if current is None:
                raise NotFound()
            if given_descriptions is not None:
                columns["descriptions"] = merge_descriptions(
                    "localized_descriptions", given_descriptions, dict(current.descriptions)
                )
            updated = await store.update_system_model(conn, self.tenant_id, id, columns)
            assert updated is not None  # locked above
            if parts is not None:
                await store.set_part_numbers(
                    conn, self.tenant_id, "system_model", id, parts, replace=True
                )
            await self.audit(
                conn, "update", SYSTEM_MODEL, id, {"handle": updated.handle, "name": updated.name}
            )
        return updated

    async def delete(self, id: uuid.UUID) -> SystemModel:
        """Delete it and its part numbers; its devices are left without a system model."""
        async with self.db.transaction() as conn:
            deleted = await tables.delete_by_id(conn, store.SYSTEM_MODELS, self.tenant_id, id)
            if deleted is None:
                raise NotFound()
            await self.audit(
                conn, "delete", SYSTEM_MODEL, id, {"handle": deleted.handle, "name": deleted.name}
            )
        return deleted

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SystemModel]:
        return await self.by_ids(store.SYSTEM_MODELS, ids)

    async def list_system_models(self, query: ListQuery, request: PageRequest) -> Page[SystemModel]:
        return await self.page(store.SYSTEM_MODELS, query, request)

    async def part_numbers_of(
        self, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
    ) -> list[Page[SystemModelPartNumber]]:
        return await self.pages(
            store.SYSTEM_MODEL_PART_NUMBERS, query, request, "system_model_id", ids
        )
