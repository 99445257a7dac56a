"""The authorization server's plain-SQL path (`sim.authorization_server.plain_sql`) writes
and reads the same rows the ORM would: same column defaults, same values back, nothing
committed when a request fails half-way. A file database, as the manager gives the server.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import inspect

from sim.authorization_server import create_app, plain_sql
from sim.authorization_server.models import AuthorizationCode, LoginSession, Token, db

#: One row of each model the plain-SQL path writes, with only what the server passes in.
GIVEN = {
    LoginSession: {"id": "s1", "user_id": 1, "created_at": 5, "expires_at": 9},
    AuthorizationCode: {
        "code": "c1",
        "client_id": "demo-client",
        "user_id": 1,
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        "nonce": None,
        "authenticated_at": 7,
    },
    Token: {
        "client_id": "demo-client",
        "user_id": 1,
        "access_token": "a1",
        "refresh_token": "r1",
        "family": "f1",
        "token_type": "Bearer",
    },
}
#: The unique column of each (the two rows written in a test differ there only).
UNIQUE = {LoginSession: "id", AuthorizationCode: "code", Token: "access_token"}
#: Columns whose default is the time of the INSERT (compared to within a few seconds).
CLOCK = {"auth_time", "issued_at"}


@pytest.fixture
def app(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "as.db")})
    with app.app_context():
        yield app


def columns(item) -> dict:
    """Every column but the row id (a LoginSession's id is its unique key, kept)."""
    table = type(item).__table__
    return {
        c.name: getattr(item, c.name)
        for c in table.columns
        if c.name != "id" or c.key == UNIQUE[type(item)]
    }


@pytest.mark.parametrize("model", list(GIVEN))
def test_every_mapped_attribute_is_named_as_its_column(model):
    # plain_sql builds model instances from rows by column name.
    assert {a.key for a in inspect(model).column_attrs} == {c.name for c in model.__table__.c}


@pytest.mark.parametrize("model", list(GIVEN))
def test_a_plain_insert_fills_in_the_same_defaults_as_the_orm(app, model):
    started = int(time.time())
    key = UNIQUE[model]
    orm = model(**GIVEN[model] | {key: "by-the-orm"})
    db.session.add(orm)
    db.session.commit()
    db.session.expunge_all()  # read back below from the database, not the identity map
    with plain_sql.transaction() as connection:
        plain_sql.insert(connection, model, **GIVEN[model] | {key: "plain"})
    with plain_sql.transaction() as connection:
        plain = plain_sql.first(connection, model, **{key: "plain"})
    assert inspect(plain).transient  # a copy in no ORM session
    expected, got = columns(db.session.get(model, orm.id)), columns(plain)
    assert (expected.pop(key), got.pop(key)) == ("by-the-orm", "plain")
    for name in CLOCK & set(got):
        assert started <= got.pop(name) <= time.time() + 1
        expected.pop(name)
    assert got == expected


def test_a_failed_transaction_commits_nothing(app):
    with pytest.raises(RuntimeError), plain_sql.transaction() as connection:
        plain_sql.insert(connection, LoginSession, **GIVEN[LoginSession])
        raise RuntimeError("the request fails after its INSERT")
    with plain_sql.transaction() as connection:
        assert plain_sql.first(connection, LoginSession, id="s1") is None


def test_an_update_says_how_many_rows_it_changed(app):
    with plain_sql.transaction() as connection:
        plain_sql.insert(connection, LoginSession, **GIVEN[LoginSession])
    where = {"id": "s1", "ended_at": 0}
    with plain_sql.transaction() as connection:
        assert plain_sql.update(connection, LoginSession, where, ended_at=11) == 1
    with plain_sql.transaction() as connection:
        assert plain_sql.update(connection, LoginSession, where, ended_at=12) == 0
        assert plain_sql.first(connection, LoginSession, id="s1").ended_at == 11


def test_a_kept_connection_is_lent_again_with_no_transaction_left_open(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "as.db")})
    with app.app_context():  # one request
        with plain_sql.transaction() as connection:
            plain_sql.insert(connection, LoginSession, **GIVEN[LoginSession])
        # A statement outside `transaction` (a bug): its change must not outlive the request.
        values = GIVEN[LoginSession] | {"id": "left-open"}
        plain_sql.insert(connection, LoginSession, **values)
        assert connection.in_transaction
    with app.app_context():  # the next request borrows the same connection, clean
        with plain_sql.transaction() as again:
            assert again is connection and not again.in_transaction
            assert plain_sql.first(again, LoginSession, id="s1") is not None
            assert plain_sql.first(again, LoginSession, id="left-open") is None


def test_kept_connections_close_when_the_engine_is_disposed(tmp_path):
    # What sim.runtime.manager.dispose_database does when a simulation stops.
    app = create_app({"DATABASE": str(tmp_path / "as.db")})
    with app.app_context():
        with plain_sql.transaction() as connection:
            plain_sql.first(connection, LoginSession, id="s1")
    with app.app_context():
        db.engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("SELECT 1")
