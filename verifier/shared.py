"""What the workers of one verifier share: the newest status document each has seen.

A verifier runs as several processes (gunicorn workers), perhaps on several machines.
Each keeps its own cache (`verifier.sources`), but they share, per institution and
status purpose, the newest signed document any of them accepted: its `sequence`, the
token itself and when it was had from the issuer. So

- a list numbered below what any worker has seen is refused by every worker (a replayed
  or outdated copy cannot un-revoke anything), and
- once one worker has the newer list the others take it from here at their next
  verification instead of waiting for their own refresh: they give the same answer.

Three stores, chosen by ``BKT_VERIFIER_SHARED`` (`open_shared`): a directory (the
default, ``var/verifier``: the workers of one machine), Redis (``redis://...``: every
worker and machine), or none (each process alone). Nothing secret is kept: the tokens
are public and are checked again, against the verifier's own trusted keys, before use.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from verifier.core.status_credential import INSTITUTION_CODE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    sequence: int
    token: str
    at: float
    """Seconds since the epoch: when the worker that stored it had it from the issuer."""


class SharedStatus(Protocol):
    def sequences(self, institution: str) -> Mapping[str, int]:
        """Purpose -> the newest sequence stored (cheap: asked on every verification)."""

    def get(self, institution: str, purpose: str) -> Stored | None:
        """The newest document stored for `institution` and `purpose`."""

    def offer(self, institution: str, purpose: str, stored: Stored, *,
              replace: bool = False) -> Stored:
        """Store `stored` if its sequence is higher than the stored one (or `replace`:
        the stored one turned out unusable); the same document again only moves `at`
        forward. Returns what is stored afterwards."""


def _wins(new: Stored, old: Stored | None, replace: bool) -> bool:
    return old is None or replace or new.sequence > old.sequence


def _safe(institution: str, purpose: str) -> None:
    if not INSTITUTION_CODE.fullmatch(institution) or not purpose.isalpha():
        raise ValueError("not an institution code or a status purpose")


class MemoryShared:
    """One process only (``BKT_VERIFIER_SHARED=none``, and tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._docs: dict[tuple[str, str], Stored] = {}

    def sequences(self, institution: str) -> Mapping[str, int]:
        return {p: s.sequence for (i, p), s in list(self._docs.items()) if i == institution}

    def get(self, institution: str, purpose: str) -> Stored | None:
        _safe(institution, purpose)
        return self._docs.get((institution, purpose))

    def offer(self, institution: str, purpose: str, stored: Stored, *,
              replace: bool = False) -> Stored:
        _safe(institution, purpose)
        with self._lock:
            old = self._docs.get((institution, purpose))
            if _wins(stored, old, replace):
                self._docs[(institution, purpose)] = stored
                return stored
            assert old is not None
            if old.sequence == stored.sequence and old.token == stored.token and (
                stored.at > old.at
            ):
                self._docs[(institution, purpose)] = old = stored
            return old


class FileShared:
    """Files under `directory`: ``<code>/<purpose>.json`` and a small ``<code>/index.json``
    (purpose -> sequence) read on every verification; written under an exclusive lock,
    each file replaced atomically (the document before the index)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._local = MemoryShared()  # while the directory cannot be written
        self._warned = 0.0

    def _folder(self, institution: str) -> Path:
        return self.directory / institution

    def sequences(self, institution: str) -> Mapping[str, int]:
        _safe(institution, "index")
        index = _read_json(self._folder(institution) / "index.json")
        if not isinstance(index, dict):
            return {}
        return {p: s for p, s in index.items() if isinstance(p, str) and type(s) is int}

    def get(self, institution: str, purpose: str) -> Stored | None:
        _safe(institution, purpose)
        return _stored(_read_json(self._folder(institution) / f"{purpose}.json"))

    def offer(self, institution: str, purpose: str, stored: Stored, *,
              replace: bool = False) -> Stored:
        _safe(institution, purpose)
        local = self._local.offer(institution, purpose, stored, replace=replace)
        try:
            return self._offer(institution, purpose, stored, replace)
        except OSError as exc:
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                log.warning("shared status store %s not writable, each worker on its own: "
                            "%s", self.directory, exc)
            return local

    def _offer(self, institution: str, purpose: str, stored: Stored, replace: bool) -> Stored:
        folder = self._folder(institution)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            old = self.get(institution, purpose)
            if not _wins(stored, old, replace):
                assert old is not None
                if not (old.sequence == stored.sequence and old.token == stored.token
                        and stored.at > old.at):
                    return old
            _write_json(folder / f"{purpose}.json", {
                "sequence": stored.sequence, "token": stored.token, "at": stored.at})
            index = dict(self.sequences(institution))
            index[purpose] = stored.sequence
            _write_json(folder / "index.json", index)
            return stored


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, document: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(document), encoding="utf-8")
    tmp.replace(path)


def _stored(document: Any) -> Stored | None:
    if not isinstance(document, dict):
        return None
    sequence, token, at = document.get("sequence"), document.get("token"), document.get("at")
    if type(sequence) is not int or not isinstance(token, str) or not isinstance(
        at, int | float
    ):
        return None
    return Stored(sequence, token, float(at))


# KEYS: index hash, document hash; ARGV: sequence, token, at, replace, purpose
_OFFER = """
local cur = tonumber(redis.call('HGET', KEYS[2], 'sequence') or '0')
local seq = tonumber(ARGV[1])
if seq > cur or ARGV[4] == '1' then
  redis.call('HSET', KEYS[2], 'sequence', ARGV[1], 'token', ARGV[2], 'at', ARGV[3])
  redis.call('HSET', KEYS[1], ARGV[5], ARGV[1])
elseif seq == cur and redis.call('HGET', KEYS[2], 'token') == ARGV[2] then
  if tonumber(ARGV[3]) > tonumber(redis.call('HGET', KEYS[2], 'at') or '0') then
    redis.call('HSET', KEYS[2], 'at', ARGV[3])
  end
end
return redis.call('HMGET', KEYS[2], 'sequence', 'token', 'at')
"""


class RedisShared:
    """Redis (``BKT_VERIFIER_SHARED=redis://host:6379/0``): every worker of every machine.

    While Redis cannot be reached each process goes on with what it knows itself (a
    `MemoryShared`), and says so in the log once a minute."""

    PREFIX = "bkt:verifier:status"

    def __init__(self, url: str, *, timeout: float = 0.5, prefix: str = PREFIX) -> None:
        import redis

        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout,
                                           socket_connect_timeout=timeout)
        self._error = redis.RedisError
        self._offer = self._redis.register_script(_OFFER)
        self._local = MemoryShared()
        self._warned = 0.0

    def _keys(self, institution: str, purpose: str) -> list[str]:
        _safe(institution, purpose)
        return [f"{self.prefix}:{institution}", f"{self.prefix}:{institution}:{purpose}"]

    def _down(self, exc: Exception) -> None:
        if time.monotonic() - self._warned > 60:
            self._warned = time.monotonic()
            log.warning("shared status store unreachable, each worker on its own: %s", exc)

    def sequences(self, institution: str) -> Mapping[str, int]:
        try:
            raw = self._redis.hgetall(self._keys(institution, "index")[0])
        except self._error as exc:
            self._down(exc)
            return self._local.sequences(institution)
        return {k.decode(): int(v) for k, v in raw.items()}

    def get(self, institution: str, purpose: str) -> Stored | None:
        try:
            raw = self._redis.hmget(self._keys(institution, purpose)[1],
                                    ["sequence", "token", "at"])
        except self._error as exc:
            self._down(exc)
            return self._local.get(institution, purpose)
        return _from_redis(raw)

    def offer(self, institution: str, purpose: str, stored: Stored, *,
              replace: bool = False) -> Stored:
        local = self._local.offer(institution, purpose, stored, replace=replace)
        try:
            raw = self._offer(keys=self._keys(institution, purpose),
                              args=[stored.sequence, stored.token, repr(stored.at),
                                    "1" if replace else "0", purpose])
        except self._error as exc:
            self._down(exc)
            return local
        return _from_redis(raw) or local


def _from_redis(raw: Any) -> Stored | None:
    try:
        sequence, token, at = raw
        return Stored(int(sequence), token.decode("ascii"), float(at))
    except (TypeError, ValueError, AttributeError):
        return None


def open_shared(spec: str | None) -> SharedStatus:
    """The store `spec` names: none, a ``redis://`` (``rediss://``, ``unix://``) URL, or a
    directory."""
    if spec is None or spec.strip().lower() in ("", "none", "off", "memory"):
        return MemoryShared()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisShared(spec)
    return FileShared(Path(spec))
