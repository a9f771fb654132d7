"""Bearer tokens -> a Principal: tenant-user JWTs (as Edgehog's) and device tokens.

Tenant users sign JWTs with their tenant's private key (ES256 or RS256); the
tenant's public key verifies them. Devices present the opaque token
`createDevice` returned once; only its hash is stored (devices/tokens.py).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .devices import store as devices_store
from .devices.tokens import DEVICE_TOKEN_PREFIX, hash_device_token
from .domain.principal import Device, Principal, TenantUser
from .domain.tenant import Tenant

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


LAST_DATE = 253_402_300_799  # 9999-12-31T23:59:59Z, in seconds since 1970


class AuthError(Exception):
    """The request carries no usable token. The message is safe to show."""


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return token


# --- tenant-user JWTs -----------------------------------------------------------


def load_public_key(pem: str) -> PublicKey:
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
    """Verifies tenants' JWTs, remembering recent answers.

    A signature check costs more than the whole rest of a small query, and
    scripts send the same token many times, so a verified token is kept
    until it expires, at most `max_cached` of them (least recently used
    first out). An entry is keyed by the tenant *and its key's PEM*, so a
    rotated key never accepts what the old key signed. `clock` gives the
    time in seconds (tests pass their own: nothing here sleeps).
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, max_cached: int = 4096) -> None:
        self._clock = clock
        self._max = max_cached
        self._keys: OrderedDict[str, PublicKey] = OrderedDict()
        self._verified: OrderedDict[tuple[str, str], tuple[TenantUser, float]] = OrderedDict()

    def verify(self, tenant: Tenant, token: str) -> TenantUser:
        return self.verify_until(tenant, token)[0]

    def verify_until(self, tenant: Tenant, token: str) -> tuple[TenantUser, float]:
        """The token's user, and when the token expires (seconds since the epoch)."""
        key = (tenant.jwt_public_key, token)
        cached = self._verified.get(key)
        now = self._clock()
        if cached is not None:
            user, expires = cached
            if now < expires and user.tenant == tenant:
                self._verified.move_to_end(key)
                return user, expires
            del self._verified[key]
        user, expires = self._verify(tenant, token, now)
        self._verified[key] = (user, expires)
        if len(self._verified) > self._max:
            self._verified.popitem(last=False)
        return user, expires

    def now(self) -> float:
        return self._clock()

    def _public_key(self, pem: str) -> PublicKey:
        key = self._keys.get(pem)
        if key is None:
            key = self._keys[pem] = load_public_key(pem)
            if len(self._keys) > self._max:
                self._keys.popitem(last=False)
        return key

    def _verify(self, tenant: Tenant, token: str, now: float) -> tuple[TenantUser, float]:
        key = self._public_key(tenant.jwt_public_key)
        try:
            # PyJWT checks `exp` against its own clock; ours is checked below
            # (both, so that an injected clock governs tests and caching).
            claims = jwt.decode(
                token,
                key,
                algorithms=[_algorithm_for(key)],
                options={"require": ["e_tga"], "verify_aud": False, "verify_exp": False},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError("token lacks the e_tga claim") from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise AuthError("token is malformed or not signed by this tenant") from exc
        expires = _expiry(claims.get("exp"))
        if now >= expires:
            raise AuthError("token has expired")
        sub = claims.get("sub")
        return TenantUser(tenant, str(sub) if sub is not None else None), expires


def _expiry(exp: object) -> float:
    """When a token's `exp` claim says it expires: a NumericDate (RFC 7519), a
    JSON number of seconds that names a date (at most 9999-12-31, as
    PostgreSQL's and Python's calendars go); no claim, never. A string, a
    boolean, NaN, an infinity or a number beyond any date is malformed."""
    if exp is None:
        return float("inf")
    if (
        not isinstance(exp, int | float)
        or isinstance(exp, bool)
        or not -LAST_DATE <= exp <= LAST_DATE  # NaN and the infinities too
    ):
        raise AuthError("token is malformed or not signed by this tenant")
    return float(exp)


def mint_token(
    private_key_pem: bytes,
    *,
    expiry_seconds: int | None = 86400,
    subject: str | None = None,
    now: float | None = None,
) -> str:
    """A tenant-user JWT, as Edgehog's own tooling makes them."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"e_tga": "*", "iat": issued}
    if expiry_seconds:
        claims["exp"] = issued + expiry_seconds
    if subject:
        claims["sub"] = subject
    return jwt.encode(claims, key, algorithm=_algorithm_for(key))  # type: ignore[arg-type]


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


# --- who is asking ------------------------------------------------------------------


class Authenticator:
    """The Principal of a request's Authorization header, within one tenant."""

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        verifier: JwtVerifier,
        *,
        device_online_seconds: float = devices_store.DEFAULT_ONLINE_SECONDS,
    ) -> None:
        self._pool = pool
        self._verifier = verifier
        # A device's request keeps it online this long (the look-up records it).
        self._online_seconds = device_online_seconds

    async def principal(self, tenant: Tenant, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        if token.startswith(DEVICE_TOKEN_PREFIX):
            device_id = await devices_store.id_for_token(
                self._pool(), tenant.id, hash_device_token(token), self._online_seconds
            )
            if device_id is None:
                raise AuthError("unknown device token")
            return Device(tenant, device_id)
        return self._verifier.verify(tenant, token)

    def user_until(self, tenant: Tenant, token: str) -> tuple[TenantUser, float]:
        """A tenant user's token (not a device's) and when it expires: live updates
        are for tenant users only."""
        if token.startswith(DEVICE_TOKEN_PREFIX):
            raise AuthError("device tokens cannot subscribe to tenant events")
        return self._verifier.verify_until(tenant, token)

    def now(self) -> float:
        return self._verifier.now()
