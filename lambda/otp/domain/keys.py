"""Table keys that do not reveal the number they count for."""

from __future__ import annotations

import hashlib


def limit_key(kind: str, *parts: str) -> str:
    """A table key that does not reveal the number: the kind, then a SHA-256 digest of the parts.

    This keeps raw numbers out of keys, console views, exports and backups. It is pseudonymisation,
    not anonymisation: someone who can read the table could hash every number of a country to find one.
    """
    digest = hashlib.sha256("\x1f".join(("otp-limit", kind, *parts)).encode()).hexdigest()
    return f"{kind}#{digest[:40]}"


__all__ = ["limit_key"]
