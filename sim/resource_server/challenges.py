"""The resource server's refusals: status, JSON body and `WWW-Authenticate` challenge.

RFC 6750 §3 for the Bearer scheme, RFC 9449 §7.1 for the DPoP scheme. A request with no
credentials (or a scheme this API does not take) gets both challenges and no error code
(RFC 6750 §3.1, RFC 9449 §7.2); a refusal of a presented token uses the challenge of the
scheme it came with, and names `algs`, the proof algorithms the API accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import jsonify

from sim.dpop import ALGORITHMS

REALM = "photos"
BEARER = "Bearer"
DPOP = "DPoP"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "").replace('"', "'") + '"'


def dpop_challenge(params: list[str] | None = None) -> str:
    return f"{DPOP} " + ", ".join([*(params or []), f"algs={_quoted(' '.join(ALGORITHMS))}"])


@dataclass
class Refusal(Exception):
    """Why a request may not proceed; `response()` is what the client gets."""

    status: int
    error: str | None
    description: str
    scheme: str = BEARER
    scope: str = ""

    def challenge(self) -> str:
        params = [f"realm={_quoted(REALM)}"]
        if self.error:
            params += [
                f"error={_quoted(self.error)}",
                f"error_description={_quoted(self.description)}",
            ]
        if self.scope:
            params.append(f"scope={_quoted(self.scope)}")
        if self.scheme == DPOP:
            return dpop_challenge(params)
        # The Bearer challenge first (clients and tests read it), then the DPoP one that
        # says this API also takes DPoP-bound tokens (RFC 9449 §7.2).
        return f"{BEARER} " + ", ".join(params) + ", " + dpop_challenge()

    def response(self):
        body = (
            {"error": self.error, "error_description": self.description}
            if self.error
            else {"message": self.description}
        )
        response = jsonify(body)
        response.status_code = self.status
        response.headers["WWW-Authenticate"] = self.challenge()
        return response


def error_response(status: int, error: str | None, description: str, scope: str = ""):
    """A Bearer-scheme refusal (kept for views that refuse a request's content)."""
    return Refusal(status, error, description, BEARER, scope).response()
