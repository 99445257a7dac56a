"""Endpoints beside the token endpoint, one module each (as Authlib's rfc7009 and rfc7662).
Registered in `oauth2.ENDPOINTS`."""

from sim.authorization_server.endpoints.introspection import Introspection
from sim.authorization_server.endpoints.revocation import Revocation

__all__ = ["Introspection", "Revocation"]
