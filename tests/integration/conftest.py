"""Database fixtures: `db_url` runs a test on SQLite (a temporary file) and PostgreSQL.

PostgreSQL gets a fresh schema per test (dropped afterwards), named through the
connection's ``search_path``, so runs never see each other's tables. A new SQLite file
that is to be at head (`at_head`: the `engine` fixture, `make_issuer`) starts as a copy of
one migrated once per test process. Its server
comes from ``BKT_TEST_POSTGRES_URL`` (default the local ``test`` database); when
it is unreachable the PostgreSQL cases are skipped, unless
``BKT_REQUIRE_POSTGRES=1``, in which case they fail.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from issuer.adapters import integrity
from issuer.adapters.db import make_engine, migrate, session_factory

# A fixed integrity key for sessions made here (the service's come from `Issuer.uow()`).
TEST_INTEGRITY_KEY = integrity.encode(bytes(range(32)))
TEST_MASTER_KEY = bytes(range(32))


def integrity_key(purpose: str) -> bytes:
    """What `Issuer.integrity_key` gives for a service whose key is `TEST_INTEGRITY_KEY`."""
    return integrity.derive(TEST_MASTER_KEY, purpose)


POSTGRES_URL = os.environ.get(
    "BKT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL, once it has answered a query."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means "unreachable"
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("BKT_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables yet) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    schema = f"bkt_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@functools.cache
def _sqlite_at_head() -> Path:
    """A SQLite database migrated to head, made once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="bkt-head-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "head.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        with engine.connect() as connection:  # everything in the file itself, no WAL
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return path


def at_head(url: str) -> str:
    """`url`, unchanged. When it names a SQLite file not made yet (or empty), the file
    starts as a copy of `_sqlite_at_head`, so migrating it finds nothing left to do: the
    same schema, without the 0.2-0.6 s that running every migration costs each test."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    path = Path(parsed.database)  # type: ignore[arg-type]
    if path.parent.is_dir() and (not path.exists() or path.stat().st_size == 0):
        shutil.copyfile(_sqlite_at_head(), path)
        path.chmod(0o600)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on `db_url` with the schema migrated to head."""
    engine = make_engine(at_head(db_url))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions carrying the test integrity key, as `Issuer.uow()` sessions do."""
    return session_factory(engine, {"integrity_key": integrity_key})
