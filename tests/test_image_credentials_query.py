"""imageCredentials(id), node(id) and deleteImageCredentials."""

from __future__ import annotations

import base64
import uuid

from edgehog_creds.graphql.relay import parse_global_id, to_global_id

from .gql import DELETE, create, errors_of, until_a_statement_waits_for_a_lock

GET = "query Get($id: ID!) { imageCredentials(id: $id) { id label username insertedAt } }"
NODE = "query N($id: ID!) { node(id: $id) { __typename id ... on ImageCredentials { label } } }"


async def test_get_by_id(tenant):
    made = await create(tenant, "hub", username="bot")
    body = await tenant.gql(GET, {"id": made["id"]})
    assert body == {"data": {"imageCredentials": made}}


async def test_absent_is_null_and_malformed_is_an_error(tenant):
    missing = to_global_id("ImageCredentials", uuid.uuid4())
    assert await tenant.gql(GET, {"id": missing}) == {"data": {"imageCredentials": None}}
    for bad in [
        "nope",
        base64.b64encode(b"ImageCredentials:42").decode(),
        to_global_id("Release", uuid.uuid4()),
    ]:
        body = await tenant.gql(GET, {"id": bad})
        assert body["data"] == {"imageCredentials": None}
        assert errors_of(body) == [("invalid_primary_key", ["id"])], bad


async def test_other_tenants_credentials_are_absent(tenant, other_tenant):
    made = await create(tenant, "hub")
    assert await other_tenant.gql(GET, {"id": made["id"]}) == {"data": {"imageCredentials": None}}
    assert await other_tenant.gql(NODE, {"id": made["id"]}) == {"data": {"node": None}}


async def test_node(tenant):
    made = await create(tenant, "hub")
    body = await tenant.gql(NODE, {"id": made["id"]})
    assert body == {
        "data": {"node": {"__typename": "ImageCredentials", "id": made["id"], "label": "hub"}}
    }
    body = await tenant.gql(NODE, {"id": base64.b64encode(b"Nothing:1").decode()})
    assert errors_of(body) == [("invalid_primary_key", ["id"])]


async def test_delete(tenant, pool):
    made = await create(tenant, "hub")
    body = await tenant.gql(DELETE, {"id": made["id"]})
    payload = body["data"]["deleteImageCredentials"]
    assert payload["result"]["label"] == "hub"
    assert payload["errors"] == [] and payload["detachedContainerCount"] == 0
    _, credentials_id = parse_global_id(made["id"])
    assert (
        await pool.fetchval("SELECT count(*) FROM image_credentials WHERE id = $1", credentials_id)
        == 0
    )
    assert await tenant.gql(GET, {"id": made["id"]}) == {"data": {"imageCredentials": None}}
    row = await pool.fetchrow(
        "SELECT actor, action FROM audit_events WHERE entity_id = $1 AND action = 'delete'",
        credentials_id,
    )
    assert tuple(row) == ("tester", "delete")
    again = await tenant.gql(DELETE, {"id": made["id"]})
    assert again["data"] == {"deleteImageCredentials": None}
    assert errors_of(again) == [("not_found", ["id"])]


async def test_delete_of_another_tenants_credentials_is_not_found(tenant, other_tenant, pool):
    made = await create(tenant, "hub")
    body = await other_tenant.gql(DELETE, {"id": made["id"]})
    assert errors_of(body) == [("not_found", ["id"])]
    _, credentials_id = parse_global_id(made["id"])
    assert (
        await pool.fetchval("SELECT count(*) FROM image_credentials WHERE id = $1", credentials_id)
        == 1
    )


async def test_delete_with_a_malformed_id(tenant):
    body = await tenant.gql(DELETE, {"id": "garbage"})
    assert errors_of(body) == [("invalid_primary_key", ["id"])]


async def test_there_is_no_update_mutation():
    from edgehog_creds.graphql.schema import build_schema

    names = build_schema()._schema.mutation_type.fields
    assert not [n for n in names if n.lower().startswith("update") and "credential" in n.lower()]


async def test_delete_waits_for_a_container_being_created_with_the_credentials(tenant, pool):
    import asyncio

    from edgehog_creds.containers import store as containers_store
    from edgehog_creds.domain.container import ContainerSpec
    from edgehog_creds.store import tables

    from .releases_gql import container, create_container

    made = await create(tenant, "hub")
    await create_container(tenant, container("nginx", made["id"]))
    _, credentials_id = parse_global_id(made["id"])
    # Another transaction is creating a container whose new image uses the
    # credentials, as ContainersService.create does: the credentials are
    # KEY SHARE-locked when checked, the image and the container written after.
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        assert credentials_id in await tables.existing(
            conn, "image_credentials", tenant.id, [credentials_id], lock=True
        )
        image = await containers_store.image_for(conn, tenant.id, "redis", credentials_id)
        await containers_store.insert_container(
            conn, tenant.id, name="racing", image_id=image.id, spec=ContainerSpec()
        )
        deleting = asyncio.create_task(tenant.gql(DELETE, {"id": made["id"]}))
        await until_a_statement_waits_for_a_lock(pool)
        assert not deleting.done()  # waiting on the row lock
        await tx.commit()
    body = await deleting
    assert "errors" not in body, body
    # Both containers, the one written meanwhile included, lost the credentials.
    assert body["data"]["deleteImageCredentials"]["detachedContainerCount"] == 2
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM images WHERE tenant_id = $1 AND credentials_deleted_at IS NULL",
            tenant.id,
        )
        == 0
    )


async def test_an_image_written_without_the_lock_cannot_outlive_its_credentials(tenant, pool):
    import asyncpg

    made = await create(tenant, "hub")
    _, credentials_id = parse_global_id(made["id"])
    # A writer that skips the check: its image's key is checked at commit
    # (deferred), after the delete, and refused.
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await conn.execute(
            "INSERT INTO images (tenant_id, reference, image_credentials_id) VALUES ($1, 'x', $2)",
            tenant.id,
            credentials_id,
        )
        body = await tenant.gql(DELETE, {"id": made["id"]})
        assert body["data"]["deleteImageCredentials"]["detachedContainerCount"] == 0
        try:
            await tx.commit()
        except asyncpg.ForeignKeyViolationError:
            pass
        else:
            raise AssertionError("an image kept credentials that were deleted")
    assert await pool.fetchval("SELECT count(*) FROM images WHERE tenant_id = $1", tenant.id) == 0
