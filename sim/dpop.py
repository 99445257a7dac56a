"""DPoP proofs (RFC 9449): make one, check one.

A DPoP proof is a small JWT a client signs with a key of its own for ONE request: its header
carries the public key (`jwk`), its claims the request's method (`htm`) and URI (`htu`), a
creation time (`iat`), a unique id (`jti`) and, next to an access token, the token's hash
(`ath`) (RFC 9449 §4.2). A token issued with a proof is bound to the key's thumbprint
(`cnf.jkt`, §6.1), so a stolen copy is worthless without the private key.

Shared, like `form_csrf`, by the parties that sign proofs (the client, the SPA as a script
plays it, the attacker) and the two that check them (the authorization server at /token, the
resource server on every API call): no party imports another for it.

`check_proof` performs the checks of RFC 9449 §4.3, in its order:

     1. one DPoP header                     6. signature verifies with `jwk`
     2. a single well-formed JWT            7. `jwk` holds no private key
     3. jti, htm, htu, iat present          8. htm = the request's method
     4. typ = dpop+jwt                      9. htu = the request's URI, no query/fragment
     5. alg asymmetric, supported (ES256)  11. iat within the window
    12. with an access token: ath = hash of the token (the key match is the caller's)

(10, the server-provided nonce of §8, is not used here.) A jti seen before within the window
is a replayed proof (§11.1): refused, with a bounded cache so an attacker cannot fill memory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections import OrderedDict
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

#: JWS algorithms accepted for proofs; published as dpop_signing_alg_values_supported.
ALGORITHMS = ("ES256",)
TYP = "dpop+jwt"
#: How far a proof's iat may lie in the past or the future, in seconds (§11.1 leaves the
#: window to the server; a few seconds of clock skew plus the request's own travel).
IAT_WINDOW = 60
#: Proofs longer than this are refused before any parsing (a P-256 proof is ~600 bytes).
MAX_PROOF_LENGTH = 4096
REQUIRED_CLAIMS = ("jti", "htm", "htu", "iat")
#: Members of a JWK that only a private key has (RFC 7518 §6.2.2, §6.3.2).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


class DPoPProofError(ValueError):
    """The proof is invalid: answered with `invalid_dpop_proof` (RFC 9449 §5, §7.1)."""

    error = "invalid_dpop_proof"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token_hash(access_token: str) -> str:
    """`ath`: base64url of SHA-256 of the token's ASCII bytes (RFC 9449 §4.2)."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def thumbprint(public_jwk: dict) -> str:
    """The JWK SHA-256 thumbprint (RFC 7638 §3) of an EC public key: `jkt` (§6.1)."""
    members = {k: public_jwk[k] for k in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def htu_of(url: str) -> str:
    """The URI a proof names: scheme and host lower-cased, default port dropped, no query
    and no fragment (RFC 9449 §4.2, §4.3 with RFC 3986 §6.2.2-6.2.3 normalisation)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", "", ""))


class ProofKey:
    """A client's DPoP key pair (P-256) and the proofs it signs. In a browser the same key
    is a non-extractable Web Crypto key: the page can sign with it but never read it out."""

    def __init__(self, key: ECKey | None = None) -> None:
        self.key = key or ECKey.generate_key("P-256", private=True)
        self.public_jwk = {k: v for k, v in self.key.as_dict(private=False).items() if k != "kid"}
        self.jkt = thumbprint(self.public_jwk)

    def proof(
        self,
        method: str,
        url: str,
        access_token: str | None = None,
        iat: int | None = None,
        jti: str | None = None,
    ) -> str:
        """A fresh proof for one request (a new jti each time: §7.3 RECOMMENDS it)."""
        claims = {
            "jti": jti or uuid.uuid4().hex,
            "htm": method.upper(),
            "htu": htu_of(url),
            "iat": int(time.time()) if iat is None else iat,
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        header = {"typ": TYP, "alg": "ES256", "jwk": self.public_jwk}
        return jwt.encode(header, claims, self.key, algorithms=list(ALGORITHMS), default_type=None)


class ReplayCache:
    """The jti values of recently accepted proofs, per key. Bounded two ways: an entry is
    forgotten once its proof would be refused as stale anyway (iat window), and at most
    `capacity` entries are kept (the oldest go first)."""

    def __init__(self, capacity: int = 10_000, ttl: int = 2 * IAT_WINDOW) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def first_use(self, jkt: str, jti: str, now: float | None = None) -> bool:
        """Record (jkt, jti); False if it was already recorded (a replayed proof)."""
        now = time.time() if now is None else now
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now:
                self._seen.popitem(last=False)
            key = (jkt, jti)
            if key in self._seen:
                return False
            self._seen[key] = now + self.ttl
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


def _header(proof: str) -> dict:
    try:
        header = jws.extract_compact(proof.encode("ascii")).headers()
    except (JoseError, ValueError, TypeError, UnicodeError) as error:
        raise DPoPProofError("The DPoP header is not a single well-formed JWT.") from error
    if not isinstance(header, dict):
        raise DPoPProofError("The DPoP proof's header is not a JSON object.")
    return header


def _public_key(header: dict) -> ECKey:
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise DPoPProofError("The DPoP proof carries no public key (jwk).")
    if any(member in jwk for member in PRIVATE_MEMBERS):
        raise DPoPProofError("The DPoP proof's jwk contains a private key.")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise DPoPProofError("The DPoP proof's jwk must be an EC P-256 key (ES256).")
    try:
        return ECKey.import_key(jwk)
    except (JoseError, ValueError, TypeError) as error:
        raise DPoPProofError("The DPoP proof's jwk is not a valid key.") from error


def check_proof(
    values: list[str],
    method: str,
    url: str,
    access_token: str | None = None,
    replay: ReplayCache | None = None,
    now: float | None = None,
) -> str:
    """Check the DPoP header `values` of a request (RFC 9449 §4.3) and return the key's
    thumbprint (jkt). `access_token` is given at a resource server (check 12: ath)."""
    if len(values) != 1:  # 1
        raise DPoPProofError("Send exactly one DPoP header.")
    proof = values[0].strip()
    if not proof or len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2:  # 2
        raise DPoPProofError("The DPoP header is not a single well-formed JWT.")
    header = _header(proof)
    if header.get("typ") != TYP:  # 4
        raise DPoPProofError(f"The DPoP proof's typ must be {TYP!r}.")
    if header.get("alg") not in ALGORITHMS:  # 5
        raise DPoPProofError(f"The DPoP proof's alg must be one of: {' '.join(ALGORITHMS)}.")
    key = _public_key(header)  # 7
    try:
        claims = jwt.decode(proof, key, algorithms=list(ALGORITHMS)).claims  # 6
    except (JoseError, ValueError, TypeError) as error:
        raise DPoPProofError("The DPoP proof's signature does not verify with its jwk.") from error
    missing = [c for c in REQUIRED_CLAIMS if c not in claims]
    if missing:  # 3
        raise DPoPProofError(f"The DPoP proof lacks the claim(s): {', '.join(missing)}.")
    if claims["htm"] != method.upper():  # 8
        raise DPoPProofError(f"The DPoP proof is for {claims['htm']!r}, not {method.upper()!r}.")
    if not isinstance(claims["htu"], str) or htu_of(claims["htu"]) != htu_of(url):  # 9
        raise DPoPProofError(f"The DPoP proof's htu does not match {htu_of(url)!r}.")
    now = time.time() if now is None else now
    iat = claims["iat"]
    if not isinstance(iat, int | float) or isinstance(iat, bool) or abs(now - iat) > IAT_WINDOW:
        raise DPoPProofError(f"The DPoP proof's iat is not within {IAT_WINDOW} s of now.")  # 11
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise DPoPProofError("The DPoP proof's ath is not the hash of this access token.")  # 12
    if not isinstance(claims["jti"], str) or not claims["jti"] or len(claims["jti"]) > 200:
        raise DPoPProofError("The DPoP proof's jti must be a short non-empty string.")
    jkt = thumbprint(header["jwk"])
    if replay is not None and not replay.first_use(jkt, claims["jti"], now):
        raise DPoPProofError("This DPoP proof was already used (replayed jti).")
    return jkt
