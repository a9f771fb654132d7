"""Sealing and opening passwords. The only module that touches key material.

A password is sealed with a libsodium sealed box (X25519 + XSalsa20-Poly1305)
to the server's public key before it reaches SQL. Anyone holding the public key
can seal; only the private key opens. The stored value is (key_id, ciphertext):
key_id names the public key it was sealed to, so keys can be rotated later
without guessing which key opens which row.

The sealed plaintext binds the tenant and the credential id, so a ciphertext
copied into another row (or another tenant) refuses to open.

Opening costs an X25519 scalar multiplication (~50 µs); a payload of 20
containers opens 20 passwords, and a release deployed to a fleet opens the
same ones again for every device. So a vault may remember what it opened for
a short time (`remember_seconds`, EDGEHOG_CREDS_OPENED_CACHE_SECONDS). An
entry is used only for the same tenant, the same credential id and the very
same sealed bytes it was opened from, so it can never answer for another row,
another tenant or a changed value; whether the credentials still exist is
still asked of the database on every payload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .config import ConfigError, Settings
from .domain.secret import Secret

_BINDING_PREFIX = b"edgehog-creds/password/v1\x00"
GENERATED_KEY_NAME = "secret.key"


class VaultError(Exception):
    """A sealed value cannot be opened here (wrong key, wrong row, no key)."""


class NoPrivateKey(VaultError):
    """This process holds only the public key."""


def key_id(public_key: PublicKey) -> str:
    return hashlib.sha256(bytes(public_key)).hexdigest()[:16]


def _binding(tenant_id: uuid.UUID, credential_id: uuid.UUID) -> bytes:
    return _BINDING_PREFIX + tenant_id.bytes + credential_id.bytes


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: bytes

    def __repr__(self) -> str:
        return f"Sealed(key_id={self.key_id!r}, ciphertext=<{len(self.ciphertext)} bytes>)"


class Vault:
    def __init__(
        self,
        public_key: PublicKey,
        private_key: PrivateKey | None = None,
        *,
        remember_seconds: float = 0.0,
        remember_max: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if private_key is not None and bytes(private_key.public_key) != bytes(public_key):
            raise ConfigError("the configured public key does not belong to the secret key")
        self._public_key = public_key
        self._private_key = private_key
        self.key_id = key_id(public_key)
        self._remember_seconds = remember_seconds
        self._remember_max = remember_max
        self._clock = clock
        # (tenant id, credential id) -> (the sealed value, its password, good until)
        self._opened: dict[tuple[uuid.UUID, uuid.UUID], tuple[Sealed, Secret, float]] = {}
        # (tenant id, credential id) of deleted credentials -> until when what is
        # opened for them is not kept (see forget)
        self._deleted: dict[tuple[uuid.UUID, uuid.UUID], float] = {}

    def __repr__(self) -> str:
        return f"Vault(key_id={self.key_id!r}, can_open={self.can_open})"

    @property
    def can_open(self) -> bool:
        return self._private_key is not None

    def seal(self, tenant_id: uuid.UUID, credential_id: uuid.UUID, password: Secret) -> Sealed:
        plaintext = _binding(tenant_id, credential_id) + password.reveal().encode("utf-8")
        return Sealed(self.key_id, SealedBox(self._public_key).encrypt(plaintext))

    def open(self, tenant_id: uuid.UUID, credential_id: uuid.UUID, sealed: Sealed) -> Secret:
        key = (tenant_id, credential_id)
        held = self._opened.get(key)
        if held is not None and held[0] == sealed and self._clock() < held[2]:
            return held[1]
        password = self._open(tenant_id, credential_id, sealed)
        if self._remember_seconds > 0 and key not in self._deleted:
            self._remember(key, sealed, password)
        return password

    def forget(self, tenant_id: uuid.UUID, credential_id: uuid.UUID) -> None:
        """Drop what was opened for these credentials (they were deleted), and
        keep nothing opened for them from now on.

        A payload recorded just before the delete opens its passwords just
        after its statement returns, which under load can be after the
        delete's own answer came back and called this: what it opens then is
        handed over but not kept.
        """
        key = (tenant_id, credential_id)
        self._opened.pop(key, None)
        if self._remember_seconds > 0:
            self._deleted[key] = self._clock() + self._remember_seconds

    def remembers(self, tenant_id: uuid.UUID, credential_id: uuid.UUID) -> bool:
        return (tenant_id, credential_id) in self._opened

    def forget_expired(self) -> None:
        """Drop every password kept longer than remember_seconds.

        Entries sit in the order they expire (one lifetime for all, and a
        renewed entry moves to the end), so this stops at the first live one.
        """
        now = self._clock()
        while self._opened:
            oldest = next(iter(self._opened))
            if self._opened[oldest][2] > now:
                break
            del self._opened[oldest]
        while self._deleted:  # in the order they were deleted, one lifetime for all
            oldest = next(iter(self._deleted))
            if self._deleted[oldest] > now:
                break
            del self._deleted[oldest]

    def _remember(self, key: tuple[uuid.UUID, uuid.UUID], sealed: Sealed, password: Secret) -> None:
        self.forget_expired()
        if len(self._opened) >= self._remember_max:
            del self._opened[next(iter(self._opened))]
        self._opened.pop(key, None)  # re-inserted at the end: the order stays by expiry
        self._opened[key] = (sealed, password, self._clock() + self._remember_seconds)

    def _open(self, tenant_id: uuid.UUID, credential_id: uuid.UUID, sealed: Sealed) -> Secret:
        if self._private_key is None:
            raise NoPrivateKey("this process holds no private key")
        if sealed.key_id != self.key_id:
            raise VaultError(f"sealed to key {sealed.key_id}, this process holds {self.key_id}")
        try:
            plaintext = SealedBox(self._private_key).decrypt(sealed.ciphertext)
        except CryptoError as exc:
            raise VaultError("sealed value does not open with this key") from exc
        binding = _binding(tenant_id, credential_id)
        if not plaintext.startswith(binding):
            raise VaultError("sealed value belongs to another credential")
        return Secret(plaintext[len(binding) :].decode("utf-8"))


# --- keys ---------------------------------------------------------------


def encode_key(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _decode_key(text: str, setting: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{setting} is not base64") from exc
    if len(raw) != 32:
        raise ConfigError(f"{setting} must be 32 bytes (base64), got {len(raw)}")
    return raw


def generate_private_key_file(path: Path) -> PublicKey:
    """Write a new private key (base64, mode 0600) and return its public key."""
    key = PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(encode_key(bytes(key)) + "\n")
    return key.public_key


@dataclass(frozen=True)
class LoadedVault:
    vault: Vault
    generated_at: Path | None  # set when no key setting was given (dev mode)


def load_vault(settings: Settings) -> LoadedVault:
    """Build the vault from the settings; with none, use a key in the data directory."""
    private: PrivateKey | None = None
    generated_at: Path | None = None
    if settings.secret_key:
        private = PrivateKey(_decode_key(settings.secret_key, "EDGEHOG_CREDS_SECRET_KEY"))
    elif settings.secret_key_file:
        try:
            text = settings.secret_key_file.read_text()
        except OSError as exc:
            raise ConfigError(
                f"EDGEHOG_CREDS_SECRET_KEY_FILE {settings.secret_key_file}: {exc.strerror}"
            ) from exc
        private = PrivateKey(_decode_key(text, "EDGEHOG_CREDS_SECRET_KEY_FILE"))
    elif not settings.public_key:
        generated_at = settings.data_dir / GENERATED_KEY_NAME
        if not generated_at.exists():
            generate_private_key_file(generated_at)
        private = PrivateKey(_decode_key(generated_at.read_text(), str(generated_at)))

    if settings.public_key:
        public = PublicKey(_decode_key(settings.public_key, "EDGEHOG_CREDS_PUBLIC_KEY"))
    else:
        assert private is not None
        public = private.public_key
    vault = Vault(public, private, remember_seconds=settings.opened_cache_seconds)
    return LoadedVault(vault, generated_at)
