"""Sealing: bound to tenant and credential, named by key, public key suffices to seal."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from edgehog_creds.config import ConfigError, load_settings
from edgehog_creds.domain.secret import Secret
from edgehog_creds.vault import NoPrivateKey, Sealed, Vault, VaultError, load_vault


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture
def key() -> PrivateKey:
    return PrivateKey.generate()


def test_round_trip(key):
    vault = Vault(key.public_key, key)
    t, c = uuid.uuid4(), uuid.uuid4()
    sealed = vault.seal(t, c, Secret("pä§§?>~"))
    assert sealed.key_id == vault.key_id
    assert b"p\xc3\xa4" not in sealed.ciphertext
    assert vault.open(t, c, sealed).reveal() == "pä§§?>~"


def test_a_ciphertext_moved_to_another_row_or_tenant_refuses_to_open(key):
    vault = Vault(key.public_key, key)
    t, c = uuid.uuid4(), uuid.uuid4()
    sealed = vault.seal(t, c, Secret("pw"))
    with pytest.raises(VaultError, match="another credential"):
        vault.open(t, uuid.uuid4(), sealed)
    with pytest.raises(VaultError, match="another credential"):
        vault.open(uuid.uuid4(), c, sealed)


def test_the_key_id_names_the_sealing_key(key):
    vault = Vault(key.public_key, key)
    other = PrivateKey.generate()
    sealed = Vault(other.public_key).seal(uuid.uuid4(), uuid.uuid4(), Secret("pw"))
    with pytest.raises(VaultError, match="sealed to key"):
        vault.open(uuid.uuid4(), uuid.uuid4(), sealed)
    forged = Sealed(vault.key_id, sealed.ciphertext)
    with pytest.raises(VaultError, match="does not open"):
        vault.open(uuid.uuid4(), uuid.uuid4(), forged)


def test_public_key_alone_seals_but_cannot_open(key):
    sealer = Vault(key.public_key)
    t, c = uuid.uuid4(), uuid.uuid4()
    sealed = sealer.seal(t, c, Secret("pw"))
    assert not sealer.can_open
    with pytest.raises(NoPrivateKey):
        sealer.open(t, c, sealed)
    assert Vault(key.public_key, key).open(t, c, sealed).reveal() == "pw"


def test_reprs_hold_no_key_material(key):
    vault = Vault(key.public_key, key)
    sealed = vault.seal(uuid.uuid4(), uuid.uuid4(), Secret("pw"))
    for text in (repr(vault), repr(sealed)):
        assert b64(bytes(key)) not in text and sealed.ciphertext.hex() not in text


def test_settings_secret_key(key, tmp_path):
    loaded = load_vault(
        load_settings(
            {"EDGEHOG_CREDS_SECRET_KEY": b64(bytes(key)), "EDGEHOG_CREDS_DATA_DIR": str(tmp_path)}
        )
    )
    assert loaded.vault.can_open and loaded.generated_at is None
    assert not (tmp_path / "secret.key").exists()
    settings = load_settings({"EDGEHOG_CREDS_SECRET_KEY": b64(bytes(key))})
    assert b64(bytes(key)) not in repr(settings)


def test_settings_secret_key_file(key, tmp_path):
    path = tmp_path / "k"
    path.write_text(b64(bytes(key)) + "\n")
    loaded = load_vault(load_settings({"EDGEHOG_CREDS_SECRET_KEY_FILE": str(path)}))
    assert loaded.vault.key_id == Vault(key.public_key).key_id


def test_settings_public_key_only(key):
    loaded = load_vault(load_settings({"EDGEHOG_CREDS_PUBLIC_KEY": b64(bytes(key.public_key))}))
    assert not loaded.vault.can_open and loaded.generated_at is None


def test_mismatched_public_and_secret_keys_are_refused(key):
    other = PrivateKey.generate()
    with pytest.raises(ConfigError, match="does not belong"):
        load_vault(
            load_settings(
                {
                    "EDGEHOG_CREDS_SECRET_KEY": b64(bytes(key)),
                    "EDGEHOG_CREDS_PUBLIC_KEY": b64(bytes(other.public_key)),
                }
            )
        )


@pytest.mark.parametrize("bad", ["not base64!", b64(b"short")])
def test_bad_keys_name_the_setting(bad):
    with pytest.raises(ConfigError, match="EDGEHOG_CREDS_SECRET_KEY"):
        load_vault(load_settings({"EDGEHOG_CREDS_SECRET_KEY": bad}))


def test_missing_key_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="No such file"):
        load_vault(load_settings({"EDGEHOG_CREDS_SECRET_KEY_FILE": str(tmp_path / "nope")}))


def test_no_key_setting_generates_one_in_the_data_dir_once(tmp_path: Path):
    settings = load_settings({"EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data")})
    first = load_vault(settings)
    path = tmp_path / "data" / "secret.key"
    assert first.generated_at == path
    assert os.stat(path).st_mode & 0o777 == 0o600
    second = load_vault(settings)
    assert second.vault.key_id == first.vault.key_id


# --- remembering opened passwords ---------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_opened_password_is_reused_until_it_expires(key):
    clock = Clock()
    vault = Vault(key.public_key, key, remember_seconds=60, clock=clock)
    t, c = uuid.uuid4(), uuid.uuid4()
    sealed = vault.seal(t, c, Secret("pw"))
    first = vault.open(t, c, sealed)
    assert vault.open(t, c, sealed) is first  # not opened again
    clock.now += 61
    again = vault.open(t, c, sealed)
    assert again is not first and again.reveal() == "pw"


def test_nothing_is_remembered_by_default(key):
    vault = Vault(key.public_key, key)
    t, c = uuid.uuid4(), uuid.uuid4()
    sealed = vault.seal(t, c, Secret("pw"))
    assert vault.open(t, c, sealed) is not vault.open(t, c, sealed)
    assert not vault.remembers(t, c)


def test_a_remembered_password_answers_only_for_its_own_row_and_bytes(key):
    vault = Vault(key.public_key, key, remember_seconds=60)
    t, c = uuid.uuid4(), uuid.uuid4()
    sealed = vault.seal(t, c, Secret("pw"))
    vault.open(t, c, sealed)
    # The same ciphertext copied into another row or tenant still refuses to open.
    with pytest.raises(VaultError, match="another credential"):
        vault.open(t, uuid.uuid4(), sealed)
    with pytest.raises(VaultError, match="another credential"):
        vault.open(uuid.uuid4(), c, sealed)
    # Other bytes under the same id are opened, not answered from memory.
    resealed = vault.seal(t, c, Secret("new"))
    assert vault.open(t, c, resealed).reveal() == "new"
    stranger = Vault(PrivateKey.generate().public_key)
    foreign = Sealed(vault.key_id, stranger.seal(t, c, Secret("x")).ciphertext)
    with pytest.raises(VaultError, match="does not open"):
        vault.open(t, c, foreign)


def test_forget_drops_a_remembered_password(key):
    vault = Vault(key.public_key, key, remember_seconds=60)
    t, c = uuid.uuid4(), uuid.uuid4()
    sealed = vault.seal(t, c, Secret("pw"))
    first = vault.open(t, c, sealed)
    assert vault.remembers(t, c)
    vault.forget(t, c)
    assert not vault.remembers(t, c)
    assert vault.open(t, c, sealed) is not first


def test_what_is_opened_after_a_forget_is_not_kept(key):
    # A payload recorded just before the delete may open the password just
    # after the delete's forget: handed over, not kept.
    clock = Clock()
    vault = Vault(key.public_key, key, remember_seconds=60, clock=clock)
    t, c = uuid.uuid4(), uuid.uuid4()
    sealed = vault.seal(t, c, Secret("pw"))
    vault.forget(t, c)
    assert vault.open(t, c, sealed).reveal() == "pw"
    assert not vault.remembers(t, c)
    # The mark lasts one lifetime, then goes like an opened password does.
    clock.now += 61
    vault.forget_expired()
    assert vault._deleted == {}


def test_remembering_is_bounded(key):
    clock = Clock()
    vault = Vault(key.public_key, key, remember_seconds=60, remember_max=3, clock=clock)
    t = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(5)]
    rows = [(c, vault.seal(t, c, Secret("pw"))) for c in ids]
    for c, sealed in rows:
        vault.open(t, c, sealed)
        clock.now += 1
    assert [vault.remembers(t, c) for c, _ in rows] == [False, False, True, True, True]


def test_the_remembering_time_is_a_setting(key):
    env = {"EDGEHOG_CREDS_SECRET_KEY": b64(bytes(key))}
    assert load_settings(env).opened_cache_seconds == 60
    zero = load_vault(load_settings({**env, "EDGEHOG_CREDS_OPENED_CACHE_SECONDS": "0"})).vault
    t, c = uuid.uuid4(), uuid.uuid4()
    zero.open(t, c, zero.seal(t, c, Secret("pw")))
    assert not zero.remembers(t, c)
    kept = load_vault(load_settings({**env, "EDGEHOG_CREDS_OPENED_CACHE_SECONDS": "5"})).vault
    kept.open(t, c, kept.seal(t, c, Secret("pw")))
    assert kept.remembers(t, c)


@pytest.mark.parametrize("bad", ["soon", "-1", "nan", "1e9"])
def test_a_bad_remembering_time_names_the_setting(bad):
    with pytest.raises(ConfigError, match="EDGEHOG_CREDS_OPENED_CACHE_SECONDS"):
        load_settings({"EDGEHOG_CREDS_OPENED_CACHE_SECONDS": bad})


def test_forget_expired_drops_only_what_has_expired(key):
    clock = Clock()
    vault = Vault(key.public_key, key, remember_seconds=60, clock=clock)
    t, old, new = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    vault.open(t, old, vault.seal(t, old, Secret("a")))
    clock.now += 30
    vault.open(t, new, vault.seal(t, new, Secret("b")))
    clock.now += 31  # old: 61 s, new: 31 s
    vault.forget_expired()
    assert (vault.remembers(t, old), vault.remembers(t, new)) == (False, True)
    assert len(vault._opened) == 1  # gone from memory, not just ignored


async def test_the_server_forgets_expired_passwords_without_being_asked(key, monkeypatch):
    from edgehog_creds import app as app_module
    from edgehog_creds import runtime
    from tests.conftest import test_settings

    monkeypatch.setattr(runtime, "FORGET_EVERY", 0.01)
    clock = Clock()
    vault = Vault(key.public_key, key, remember_seconds=60, clock=clock)
    t, c = uuid.uuid4(), uuid.uuid4()
    vault.open(t, c, vault.seal(t, c, Secret("pw")))
    app = app_module.create_app(test_settings(), pool=object(), vault=vault)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.05)
        assert vault.remembers(t, c)
        clock.now += 61
        await asyncio.sleep(0.05)
        assert not vault.remembers(t, c)
        assert vault._opened == {}
