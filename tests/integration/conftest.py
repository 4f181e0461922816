"""Database fixtures: `db_url` runs a test on SQLite (a temporary file) and PostgreSQL.

PostgreSQL gets a fresh schema per test (dropped afterwards), named through the
connection's ``search_path``, so runs never see each other's tables; its sessions commit
without waiting for the WAL flush (``synchronous_commit=off``: a server crash is no part of
any test). A database that is to be at head (`at_head`: the `engine` fixture,
`make_issuer`) starts as a copy of one migrated once per test process: a SQLite file is
copied, an empty PostgreSQL schema gets the migrated schema's ``pg_dump`` (checked
once to dump back identical), so `migrate` finds nothing left to do. Its server
comes from ``BKT_TEST_POSTGRES_URL`` (default the local ``test`` database); when
it is unreachable the PostgreSQL cases are skipped, unless
``BKT_REQUIRE_POSTGRES=1``, in which case they fail.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from issuer.adapters import integrity
from issuer.adapters.db import current_revision, make_engine, migrate, session_factory

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
        url = make_url(server).update_query_dict(
            {"options": f"-csearch_path={schema} -csynchronous_commit=off"})
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


_TEMPLATE_SCHEMA = "bkt_head_schema_template"  # stands for the schema in `_postgres_at_head`


def _search_path(url: str) -> str | None:
    found = re.search(r"-csearch_path=(\w+)", str(make_url(url).query.get("options", "")))
    return found.group(1) if found else None


def _pg_dump(url: str, schema: str) -> str | None:
    """The schema's DDL as ``pg_dump --schema-only`` writes it (psql's meta-commands and
    the schema's own CREATE left out), with `_TEMPLATE_SCHEMA` for its name; None
    without a pg_dump that can read this server."""
    parsed = make_url(url)
    if not shutil.which("pg_dump"):
        return None
    command = ["pg_dump", "--schema-only", "--no-owner",
               "--schema", schema, "--host", parsed.host or "127.0.0.1",
               "--port", str(parsed.port or 5432), "--username", parsed.username or "postgres",
               "--dbname", parsed.database or "postgres"]
    env = os.environ | ({"PGPASSWORD": parsed.password} if parsed.password else {})
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:
        return None
    lines = [line for line in done.stdout.splitlines()
             if not line.startswith(("\\", "--")) and line != f"CREATE SCHEMA {schema};"]
    return "\n".join(lines).replace(schema, _TEMPLATE_SCHEMA)


def _same(dump: str, other: str) -> bool:
    """Whether two dumps are the same schema: PostgreSQL writes a CHECK's ``IN (...)``
    that it parsed back from a dump with its casts in other places, so casts, brackets
    and spaces are left out of the comparison."""
    def bare(text: str) -> str:
        return re.sub(r"::[a-z ]+(?:\[\])?|[()\s]", "", text)

    return bare(dump) == bare(other)


def _replay(url: str, schema: str, ddl: str, revision: str) -> None:
    """Run the dump (several statements, no parameters: one driver call) into `schema`,
    and stamp it at `revision`, in one transaction."""
    engine = create_engine(url)
    try:
        connection = engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(ddl.replace(_TEMPLATE_SCHEMA, schema))
                cursor.execute(f"INSERT INTO {schema}.alembic_version (version_num) "
                               f"VALUES ('{revision}')")
            connection.commit()
        finally:
            connection.close()
    finally:
        engine.dispose()


@functools.cache
def _postgres_at_head(server: str) -> tuple[str, str] | None:
    """(DDL, revision) of a schema migrated to head on `server`, made once per test
    process; None when pg_dump is missing or replaying its dump would not give the
    same schema back (then each test migrates its own)."""
    admin = create_engine(server)
    names = [f"bkt_head_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    try:
        with admin.begin() as connection:
            for name in names:
                connection.execute(text(f'CREATE SCHEMA "{name}"'))
        migrated = make_engine(make_url(server).update_query_dict(
            {"options": f"-csearch_path={names[0]}"}).render_as_string(hide_password=False))
        try:
            migrate(migrated)
            revision = current_revision(migrated)
        finally:
            migrated.dispose()
        ddl = _pg_dump(server, names[0])
        if ddl is None or revision is None:
            return None
        _replay(server, names[1], ddl, revision)
        again = _pg_dump(server, names[1])
        return (ddl, revision) if again and _same(again, ddl) else None
    finally:
        with admin.begin() as connection:
            for name in names:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def _empty_schema(url: str, schema: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return not connection.execute(text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :schema"), {"schema": schema}).scalar()
    finally:
        engine.dispose()


def at_head(url: str) -> str:
    """`url`, unchanged. A database it names that is still empty (a SQLite file not made
    yet, a PostgreSQL schema without tables) starts as a copy of one migrated to head
    once per test process, so migrating it finds nothing left to do: the same schema,
    without the 0.2-2 s that running every migration costs each test."""
    parsed = make_url(url)
    schema = _search_path(url)
    if parsed.get_backend_name() == "postgresql" and schema and _empty_schema(url, schema):
        server = parsed.difference_update_query(["options"]).render_as_string(
            hide_password=False)
        head = _postgres_at_head(server)
        if head is not None:
            _replay(url, schema, *head)
        return url
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
