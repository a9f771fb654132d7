"""Device tokens: opaque, 256 random bits, stored only as their sha256."""

from __future__ import annotations

import hashlib
import secrets

from ..domain.secret import Secret

# The prefix only lets the HTTP layer tell a device token from a JWT without
# trying to parse it.
DEVICE_TOKEN_PREFIX = "ehdev_"


def new_device_token() -> tuple[Secret, bytes]:
    """A fresh device token and the hash we store (the token itself is never stored)."""
    token = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return Secret(token), hash_device_token(token)


def hash_device_token(token: str) -> bytes:
    # 256 random bits need no slow hash: nobody can guess one to brute-force.
    return hashlib.sha256(token.encode()).digest()
