"""Lab keys and share tokens: made at random, stored only as their SHA-256, checked for shape
before any lookup.
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeGuard

SECRET_BYTES = 24  # lab keys and share tokens: 192 random bits
_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")  # what token_urlsafe(24) gives


def hash_secret(secret: str) -> str:
    """The SHA-256 (hex) under which a lab key or share token is stored; the secret never is."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_well_formed(secret: object) -> TypeGuard[str]:
    """True for strings shaped like our keys and tokens; anything else is refused unseen."""
    return isinstance(secret, str) and _SECRET_PATTERN.fullmatch(secret) is not None


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
