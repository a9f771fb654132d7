"""Bearer tokens -> a Principal: tenant-user JWTs (as Edgehog) and device tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .secrets import Secret
from .store.tenants import Tenant

# Device tokens are opaque; the prefix only lets us tell them from JWTs
# without trying to parse them.
DEVICE_TOKEN_PREFIX = "ehdev_"


class AuthError(Exception):
    """The request carries no usable token. The message is safe to show."""


@dataclass(frozen=True)
class TenantUser:
    tenant: Tenant
    subject: str | None  # the JWT's `sub`, recorded as the actor


@dataclass(frozen=True)
class Device:
    tenant: Tenant
    device_id: uuid.UUID  # our primary key, not the device's own deviceId

    @property
    def subject(self) -> str:
        return f"device:{self.device_id}"


Principal = TenantUser | Device


# --- tenant-user JWTs -----------------------------------------------------------


def load_public_key(pem: str) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """Parse and check a tenant's JWT public key; ValueError says what is wrong."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError("not a PEM public key") from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("EC keys must be on P-256 (ES256)")
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ValueError("RSA keys must have at least 2048 bits (RS256)")
    else:
        raise ValueError("only EC P-256 (ES256) and RSA (RS256) keys are supported")
    return key


def _algorithm_for(key: Any) -> str:
    # Pin the algorithm to the key type, so a token cannot pick its own.
    return (
        "ES256"
        if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
        else "RS256"
    )


class JwtVerifier:
    """Verifies a tenant's JWTs.

    Keeps parsed keys (PEM parsing is not free) and the tokens it has already
    verified, until they expire: a signature check costs more than the whole
    rest of a small query, and scripts send the same token many times.
    """

    MAX_CACHED = 4096

    def __init__(self) -> None:
        self._keys: dict[uuid.UUID, Any] = {}
        self._verified: dict[tuple[uuid.UUID, str], tuple[TenantUser, float]] = {}

    def verify(self, tenant: Tenant, token: str) -> TenantUser:
        cached = self._verified.get((tenant.id, token))
        if cached is not None:
            user, expires = cached
            if time.time() < expires:
                return user
            del self._verified[(tenant.id, token)]
        user, claims = self._verify(tenant, token)
        if len(self._verified) >= self.MAX_CACHED:
            self._verified.clear()  # rare; simpler than an LRU and just as safe
        exp = claims.get("exp")
        self._verified[(tenant.id, token)] = (user, float(exp) if exp is not None else float("inf"))
        return user

    def _verify(self, tenant: Tenant, token: str) -> tuple[TenantUser, dict[str, Any]]:
        key = self._keys.get(tenant.id)
        if key is None:
            key = self._keys[tenant.id] = load_public_key(tenant.jwt_public_key)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[_algorithm_for(key)],
                options={"require": ["e_tga"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token has expired") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError("token lacks the e_tga claim") from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise AuthError("token is malformed or not signed by this tenant") from exc
        sub = claims.get("sub")
        return TenantUser(tenant, str(sub) if sub is not None else None), claims


def mint_token(
    private_key_pem: bytes, *, expiry_seconds: int | None = 86400, subject: str | None = None
) -> str:
    """A tenant-user JWT, as Edgehog's own tooling makes them."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    now = int(time.time())
    claims: dict[str, Any] = {"e_tga": "*", "iat": now}
    if expiry_seconds:
        claims["exp"] = now + expiry_seconds
    if subject:
        claims["sub"] = subject
    return jwt.encode(claims, key, algorithm=_algorithm_for(key))


def generate_tenant_key_pair() -> tuple[bytes, bytes]:
    """A new ES256 key pair as (private PEM, public PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


# --- device tokens ----------------------------------------------------------------


def new_device_token() -> tuple[Secret, bytes]:
    """A fresh device token and the hash we store (the token itself is never stored)."""
    token = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return Secret(token), hash_device_token(token)


def hash_device_token(token: str) -> bytes:
    # 256 random bits need no slow hash: nobody can guess one to brute-force.
    return hashlib.sha256(token.encode()).digest()


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return token
