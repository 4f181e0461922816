"""Engines, sessions and schema migrations.

`migrate` runs the packaged Alembic migrations in code, so it works from any
working directory and from an installed wheel (no ``alembic.ini`` lookup).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
ALEMBIC_INI = MIGRATIONS_DIR.parent / "alembic.ini"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout on every connection."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")  # a no-op ("memory") for :memory:
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 10000")
    finally:
        cursor.close()


def alembic_config(url: str | None = None) -> Config:
    """An Alembic `Config` pointing at the packaged migrations (logging left untouched)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema's Alembic revision (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(target: str | Engine, revision: str = "head") -> None:
    """Upgrade the database at `target` (a URL or an engine) to `revision`."""
    _run(target, lambda config: command.upgrade(config, revision))


def downgrade(target: str | Engine, revision: str = "base") -> None:
    """Downgrade the database at `target` to `revision` (default: drop everything)."""
    _run(target, lambda config: command.downgrade(config, revision))


def _run(target: str | Engine, action: Any) -> None:
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            action(config)
    finally:
        if isinstance(target, str):
            engine.dispose()


def session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (`expire_on_commit=False`),
    each starting with `info` (e.g. ``{"integrity_key": ...}``, see `Issuer.uow`)."""
    return sessionmaker(engine, expire_on_commit=False, info=info)
