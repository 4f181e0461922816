"""ORM attributes whose column holds the value encrypted (`issuer.adapters.at_rest`).

``totp_secret = sealed("_totp_secret", aad)`` on a model gives code a plaintext
attribute over the stored column `_totp_secret`: a value assigned is sealed when the
session flushes (by then the row's associated data, e.g. its username or digest, is
set), under the key the session carries (``session.info["integrity_key"]``, see
`issuer.services.context.Issuer.uow`); a stored value is opened on first read and kept
for as long as the column holds it. In SQL (``where``, ``update().values``) the
attribute is the stored column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Session, object_session

from issuer.adapters import at_rest

_PENDING = "_sealed_pending"  # {column attribute: plaintext} not yet sealed
_OPENED = "_sealed_opened"  # {column attribute: (stored, plaintext)}
_LOADED_BY = "_sealed_loaded_by"  # the loading session's key function
_AAD: dict[str, Callable[[Any], bytes]] = {}  # column attribute (unique) -> its aad


def _key(session: Session | None) -> bytes:
    derive = session.info.get("integrity_key") if session is not None else None
    if derive is None:
        raise at_rest.AtRestError("reading or writing encrypted data needs the service's "
                                  "data-at-rest key (a unit of work of Issuer.uow)")
    return derive(at_rest.PURPOSE)


def _seal(value: Any, key: bytes, aad: bytes) -> Any:
    if isinstance(value, str):
        return at_rest.seal_text(key, value, aad)
    return at_rest.seal(key, value, aad)


def _row_key(row: Any) -> bytes:
    """The key of the row's session, or of the one it was loaded in (a row read after its
    unit of work ended)."""
    session = object_session(row)
    if session is None and _LOADED_BY in row.__dict__:
        derive = row.__dict__[_LOADED_BY]
        if derive is not None:
            return derive(at_rest.PURPOSE)
    return _key(session)


def _open(stored: Any, row: Any, aad: bytes) -> Any:
    if isinstance(stored, str):
        if not at_rest.is_sealed_text(stored):
            return stored  # written before encryption: sealed by Issuer.open
        return at_rest.open_text(_row_key(row), stored, aad)
    stored = bytes(stored)
    if not at_rest.is_sealed(stored):
        return stored
    return at_rest.open_sealed(_row_key(row), stored, aad)


def remember_session_key(*models: type) -> None:
    """Let rows of `models` open their values after their session closed, with the key
    of the session that loaded them."""
    for model in models:
        event.listen(model, "load", _remember)


def _remember(row: Any, context: Any) -> None:
    row.__dict__[_LOADED_BY] = context.session.info.get("integrity_key")


def sealed(column: str, aad: Callable[[Any], bytes]) -> hybrid_property[Any]:
    """A plaintext attribute over the encrypted column attribute `column`; `aad(row)`
    names the row (table, column and something that identifies the row)."""
    if column in _AAD:
        raise ValueError(f"{column} is sealed twice: name each sealed column uniquely")
    _AAD[column] = aad

    def fget(row: Any) -> Any:
        pending = row.__dict__.get(_PENDING, {})
        if column in pending:
            return pending[column]
        stored = getattr(row, column)
        if stored is None:
            return None
        opened = row.__dict__.setdefault(_OPENED, {})
        if column in opened and opened[column][0] == stored:
            return opened[column][1]
        value = _open(stored, row, aad(row))
        opened[column] = (stored, value)
        return value

    def fset(row: Any, value: Any) -> None:
        pending = row.__dict__.setdefault(_PENDING, {})
        if value is None:
            pending.pop(column, None)
            setattr(row, column, None)
            return
        pending[column] = value
        setattr(row, column, type(value)())  # marks the row dirty; sealed at flush

    def expression(cls: Any) -> Any:
        return getattr(cls, column)

    def update_expression(cls: Any, value: Any) -> list[tuple[Any, Any]]:
        return [(getattr(cls, column), value)]

    prop = hybrid_property(fget, fset)
    prop = prop.expression(expression)
    return prop.update_expression(update_expression)


@event.listens_for(Session, "before_flush")
def _seal_pending(session: Session, _context: Any, _instances: Any) -> None:
    """Seal every value assigned since the last flush."""
    for row in (*session.new, *session.dirty):
        pending = row.__dict__.get(_PENDING)
        if not pending:
            continue
        key = _key(session)
        for column, value in list(pending.items()):
            aad = _AAD[column](row)
            stored = _seal(value, key, aad)
            setattr(row, column, stored)
            row.__dict__.setdefault(_OPENED, {})[column] = (stored, value)
            del pending[column]
