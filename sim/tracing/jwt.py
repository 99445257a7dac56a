"""Read a JWT's header and claims without verifying it: what anyone holding the token can
see. Used to show learners what an access token carries (and so why it must not carry
secrets); verification belongs to the resource server, not to the trace."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


def _part(segment: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def decode_unverified(token: str) -> dict[str, Any] | None:
    """{"header": {...}, "claims": {...}} for a compact JWS, else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header, claims = _part(parts[0]), _part(parts[1])
    if header is None or claims is None or "alg" not in header:
        return None
    return {"header": header, "claims": claims}
