"""Device.online, lastConnection and lastDisconnection, from the device's own requests.

Nothing here sleeps: the tests move a device's presence columns in SQL
(`set_presence`), which is what the passing of time would do to them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from edgehog_creds.app import create_app
from edgehog_creds.config import ConfigError, load_settings

from . import conftest
from .devices_gql import create_device, set_presence, uuid_of

PRESENCE = """
query($id: ID!) { device(id: $id) { online lastConnection lastDisconnection } }
"""

S = dt.timedelta(seconds=1)


async def presence(tenant, device_gid: str) -> dict:
    body = await tenant.gql(PRESENCE, {"id": device_gid})
    assert "errors" not in body, body
    return body["data"]["device"]


async def columns(pool, device_gid: str) -> dict:
    row = await pool.fetchrow(
        "SELECT last_seen_at, online_until, streak_started_at, previous_streak_ended_at,"
        " now() AS now FROM devices WHERE id = $1",
        uuid_of(device_gid),
    )
    return dict(row)


def at(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value is not None else None


async def ping(tenant, token: str) -> None:
    """Any request the device makes with its token."""
    response = await tenant.post({"query": "{ __typename }"}, token=token)
    assert response.status_code == 200, response.text


async def test_a_device_never_heard_from_is_offline_with_no_connections(tenant):
    device, _ = await create_device(tenant)
    assert await presence(tenant, device["id"]) == {
        "online": False,
        "lastConnection": None,
        "lastDisconnection": None,
    }


async def test_a_request_with_its_token_makes_it_online_for_the_window(tenant, pool):
    device, token = await create_device(tenant)
    await ping(tenant, token)
    row = await columns(pool, device["id"])
    # The default window: 60 s from the request.
    assert row["online_until"] - row["last_seen_at"] == 60 * S
    assert row["streak_started_at"] == row["last_seen_at"]
    assert row["previous_streak_ended_at"] is None
    shown = await presence(tenant, device["id"])
    assert shown["online"] is True
    assert at(shown["lastConnection"]) == row["last_seen_at"]
    assert shown["lastDisconnection"] is None


async def test_any_authenticated_request_counts_even_a_forbidden_one(tenant, pool):
    device, token = await create_device(tenant)
    refused = await tenant.gql("{ devices { count } }", token=token)
    assert refused["errors"][0]["code"] == "forbidden"
    assert (await presence(tenant, device["id"]))["online"] is True
    # A token that is not the device's records nothing (and is a 401).
    other, _ = await create_device(tenant)
    response = await tenant.post({"query": "{ __typename }"}, token=token[:-3] + "xyz")
    assert response.status_code == 401
    assert (await columns(pool, other["id"]))["last_seen_at"] is None


async def test_requests_within_a_quarter_of_the_window_write_nothing(tenant, pool):
    device, token = await create_device(tenant)
    await ping(tenant, token)
    now = (await columns(pool, device["id"]))["now"]
    # Seen 10 s ago (less than 60 / 4): the next request leaves the row alone.
    recent = now - 10 * S
    await set_presence(
        pool,
        device["id"],
        last_seen_at=recent,
        online_until=recent + 60 * S,
        streak_started_at=recent - 100 * S,
    )
    await ping(tenant, token)
    row = await columns(pool, device["id"])
    assert row["last_seen_at"] == recent
    # Seen 20 s ago: recorded again, the streak goes on.
    older = now - 20 * S
    await set_presence(pool, device["id"], last_seen_at=older, online_until=older + 60 * S)
    await ping(tenant, token)
    row = await columns(pool, device["id"])
    assert row["last_seen_at"] > older
    assert row["online_until"] == row["last_seen_at"] + 60 * S
    assert row["streak_started_at"] == recent - 100 * S
    assert row["previous_streak_ended_at"] is None


async def test_silence_longer_than_the_window_ends_the_streak(tenant, pool):
    device, token = await create_device(tenant)
    await ping(tenant, token)
    now = (await columns(pool, device["id"]))["now"]
    started, last = now - 600 * S, now - 120 * S
    await set_presence(
        pool,
        device["id"],
        streak_started_at=started,
        last_seen_at=last,
        online_until=last + 60 * S,
    )
    # Offline now: the streak that began at `started` ended when its last
    # request stopped counting (`last` + the window).
    shown = await presence(tenant, device["id"])
    assert shown["online"] is False
    assert at(shown["lastConnection"]) == started
    assert at(shown["lastDisconnection"]) == last + 60 * S

    # It comes back: a new streak, and the old one's end is the last disconnection.
    await ping(tenant, token)
    row = await columns(pool, device["id"])
    shown = await presence(tenant, device["id"])
    assert shown["online"] is True
    assert at(shown["lastConnection"]) == row["last_seen_at"] > now
    assert at(shown["lastDisconnection"]) == last + 60 * S
    assert row["previous_streak_ended_at"] == last + 60 * S


async def test_the_device_list_shows_each_devices_presence(tenant, pool):
    heard, token = await create_device(tenant, "heard")
    silent, _ = await create_device(tenant, "silent")
    await ping(tenant, token)
    body = await tenant.gql(
        "{ devices { edges { node { deviceId online lastConnection lastDisconnection } } } }"
    )
    by_id = {e["node"]["deviceId"]: e["node"] for e in body["data"]["devices"]["edges"]}
    assert by_id["heard"]["online"] is True and by_id["heard"]["lastConnection"] is not None
    assert by_id["silent"] == {
        "deviceId": "silent",
        "online": False,
        "lastConnection": None,
        "lastDisconnection": None,
    }
    assert silent["id"] != heard["id"]


async def test_the_window_is_a_setting(tenant, pool, vault, database_url):
    settings = conftest.test_settings(database_url=database_url, device_online_seconds=8.0)
    app = create_app(settings, pool=pool, vault=vault)
    async with conftest.serving(app) as client:
        device, token = await create_device(tenant)
        response = await client.post(
            tenant.url,
            json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
    row = await columns(pool, device["id"])
    assert row["online_until"] - row["last_seen_at"] == 8 * S
    # Written at most every quarter of *that* window: 3 s ago is old enough.
    await set_presence(
        pool, device["id"], last_seen_at=row["now"] - 3 * S, online_until=row["now"] + 5 * S
    )
    async with conftest.serving(app) as client:
        await client.post(
            tenant.url,
            json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert (await columns(pool, device["id"]))["last_seen_at"] > row["now"] - 3 * S


def test_the_setting_is_read_and_checked():
    assert load_settings({}).device_online_seconds == 60.0
    env = {"EDGEHOG_CREDS_DEVICE_ONLINE_SECONDS": "120"}
    assert load_settings(env).device_online_seconds == 120.0
    for bad in ("0", "0.5", "-3", "86401", "soon"):
        with pytest.raises(ConfigError, match="EDGEHOG_CREDS_DEVICE_ONLINE_SECONDS"):
            load_settings({"EDGEHOG_CREDS_DEVICE_ONLINE_SECONDS": bad})
