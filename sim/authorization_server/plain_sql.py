"""The authorization server's per-flow reads and writes, as plain SQL on a DB-API connection
of the app's own engine.

Flask-SQLAlchemy still owns everything else: the engine and its connection pool, the models
(tables, indexes, column defaults) and their methods (`Token.is_expired`, the Authlib
mixins' `get_scope`, ...). What changes is the path of the handful of statements every flow
runs (a login session written and read, a code written, read and claimed, a token written,
read and rotated). Through the ORM each of them paid for a session, a unit of work,
statement coercion and a cache key, which cost more than SQLite itself: about 3 ms of the
authorization server's 12.5 ms of CPU per flow. Here each is one SQL string, made once
from the model's table, run by `sqlite3` on one connection per request, taken from the
engine's pool (`_lend`).

Rules that keep this equivalent to what the ORM did:
- every change commits (or rolls back) before `transaction` returns, so no write of ours
  is ever left open while the ORM (revocation, introspection, the device flow) writes on
  another connection, and a read never holds a snapshot across statements;
- an INSERT fills in the model's column defaults as SQLAlchemy would (`_defaults`);
- a row read comes back as an instance of its model that belongs to no ORM session: it
  has the model's methods, and nothing written to it goes to the database by itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import event, inspect

from sim.authorization_server.models import db

Model = TypeVar("Model")


#: Connections kept between requests; past this many at once the rest go back to the pool.
#: An app serves at most `sim.runtime.servers.THREADS` (6) requests at a time.
KEPT = 8


def init_app(app: Flask) -> None:
    """Keep this app's connections between requests (see `_lend`); call in an app context.

    They are closed when the engine is disposed (`sim.runtime.manager.dispose_database`
    closes an app's connections when the simulation stops), like those in the pool."""
    idle: list = []
    app.extensions["plain_sql_idle"] = idle
    app.teardown_appcontext(_give_back)

    def close_kept(_engine) -> None:
        while idle:
            idle.pop().invalidate()  # closes the DB-API connection

    event.listen(db.engine, "engine_disposed", close_kept)


def _lend() -> sqlite3.Connection:
    """This request's DB-API connection.

    Checking a connection out of SQLAlchemy's pool and back in costs about 45 µs per request
    in a flow (its events, its reset, its queue), for five requests per login. So the
    connections this module took from the engine's pool stay checked out, and requests
    borrow them from a list: at most one per request being served, handed back clean (every
    transaction ended) when the request ends."""
    pooled = g.get("_plain_sql")
    if pooled is None:
        try:
            pooled = current_app.extensions["plain_sql_idle"].pop()
        except IndexError:
            pooled = db.engine.raw_connection()
        g._plain_sql = pooled
    return pooled.driver_connection


def _give_back(_error: BaseException | None) -> None:
    pooled = g.pop("_plain_sql", None)
    if pooled is None:
        return
    idle = current_app.extensions["plain_sql_idle"]
    try:
        pooled.driver_connection.rollback()  # what SQLAlchemy's pool does on a check-in
    except sqlite3.Error:
        pooled.invalidate()  # a broken connection is dropped, never lent again
        return
    if len(idle) < KEPT:
        idle.append(pooled)
    else:
        pooled.close()


@contextmanager
def transaction() -> Iterator[sqlite3.Connection]:
    """This request's DB-API connection; what it changed is committed at the end, or
    rolled back if the block raised."""
    connection = _lend()
    try:
        yield connection
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


@cache
def _columns(model: type) -> tuple[str, ...]:
    # Every mapped attribute of these models has its column's name (checked by a test).
    return tuple(column.name for column in model.__table__.columns)


@cache
def _select(model: type, keys: tuple[str, ...]) -> str:
    where = " AND ".join(f"{key} = ?" for key in keys)
    return f"SELECT {', '.join(_columns(model))} FROM {model.__tablename__} WHERE {where} LIMIT 1"


def first(connection: sqlite3.Connection, model: type[Model], **where: Any) -> Model | None:
    """The row of `model` whose columns equal `where`, as a model instance in no session.

    Made the way the ORM's own loader makes a loaded object (an instance from the class's
    instrumentation, its column values put in its `__dict__`), not by calling the model's
    constructor: that one runs the attribute events for each column, 15 µs a row."""
    rows = connection.execute(_select(model, tuple(where)), tuple(where.values())).fetchall()
    if not rows:
        return None
    item = _manager(model).new_instance()
    item.__dict__.update(zip(_columns(model), rows[0], strict=True))
    return item


@cache
def _manager(model: type):
    return inspect(model).class_manager


@cache
def _defaults(model: type) -> tuple[tuple[str, Any], ...]:
    """(column, default) for the columns whose default SQLAlchemy fills in client-side."""
    defaults = []
    for column in model.__table__.columns:
        default = column.default
        if default is None:
            continue
        if not (default.is_scalar or default.is_callable):  # e.g. a SQL expression
            raise TypeError(f"{model.__tablename__}.{column.name}: default not supported")
        defaults.append((column.name, default))
    return tuple(defaults)


@cache
def _insert(model: type, keys: tuple[str, ...]) -> str:
    names = ", ".join(keys)
    marks = ", ".join("?" for _ in keys)
    return f"INSERT INTO {model.__tablename__} ({names}) VALUES ({marks})"


def insert(connection: sqlite3.Connection, model: type, **values: Any) -> None:
    """One new row of `model`, with the model's column defaults where `values` has none
    (a scalar as is; a callable, such as a code's creation time, called now)."""
    for name, default in _defaults(model):
        if name not in values:
            values[name] = default.arg if default.is_scalar else default.arg(None)
    connection.execute(_insert(model, tuple(values)), tuple(values.values()))


@cache
def _update(model: type, keys: tuple[str, ...], where: tuple[str, ...]) -> str:
    changes = ", ".join(f"{key} = ?" for key in keys)
    condition = " AND ".join(f"{key} = ?" for key in where)
    return f"UPDATE {model.__tablename__} SET {changes} WHERE {condition}"


def update(
    connection: sqlite3.Connection, model: type, where: dict[str, Any], **values: Any
) -> int:
    """Set `values` on the rows of `model` matching `where`; how many rows changed."""
    statement = _update(model, tuple(values), tuple(where))
    return connection.execute(statement, (*values.values(), *where.values())).rowcount
