"""The flow an app is currently serving, so its outbound calls carry the same flow id."""

from __future__ import annotations

from contextvars import ContextVar

current_flow: ContextVar[str | None] = ContextVar("current_flow", default=None)
#: The exchange an app is answering, so the calls it makes meanwhile can name their parent.
current_exchange: ContextVar[str | None] = ContextVar("current_exchange", default=None)
