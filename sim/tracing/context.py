"""The flow an app is currently serving, so its outbound calls carry the same flow id."""

from __future__ import annotations

from contextvars import ContextVar

current_flow: ContextVar[str | None] = ContextVar("current_flow", default=None)
