"""Identity verification for logged-in shoppers (the widget's data-user-* attributes).

The shop's server signs the user id with the shared secret (hex HMAC-SHA256) and prints it
as ``data-user-hash``; we recompute it. An id without a valid hash is ignored entirely, so a
visitor cannot claim to be someone else and read their history.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

MAX_USER_ID = 255


@dataclass(frozen=True)
class Identity:
    user_id: str
    name: str | None = None
    email: str | None = None


def sign(user_id: str, secret: str) -> str:
    """What the shop's server puts in ``data-user-hash`` for ``user_id``."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify(
    *,
    user_id: str | None,
    user_hash: str | None,
    secret: str,
    name: str | None = None,
    email: str | None = None,
) -> Identity | None:
    """The identity if the hash matches (and verification is configured), else None."""
    if not (secret and user_id and user_hash) or len(user_id) > MAX_USER_ID:
        return None
    # Bytes: compare_digest refuses str with non-ASCII characters (a crafted hash).
    if not hmac.compare_digest(sign(user_id, secret).encode(), user_hash.strip().lower().encode()):
        return None
    return Identity(user_id=user_id, name=(name or "").strip()[:120] or None, email=email or None)
