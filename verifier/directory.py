"""Institutions' signed directories (`verifier.core.directory`), fetched and cached.

Each lives next to the institution's status lists, ``<status base>/<code>/directory.jws``
(a path or an http(s) URL, like the lists), and in the offline trust bundle under
``"directory"``. A directory is checked against the keys of the `TrustSource` before it
is kept, for `ttl` seconds (or the server's max-age); when a refresh fails the last good
copy, else the bundle's, is used, and a failed fetch is not retried for `retry_after`.
Names are for display only: without a directory the page shows the codes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from verifier.core import directory as core
from verifier.core.directory import Directory, DirectoryError
from verifier.core.status_credential import INSTITUTION_CODE
from verifier.sources import Fetch, Fetched, TrustSource, fetch_location

log = logging.getLogger(__name__)
MIN_TTL = 10.0  # even with no-cache, not a fetch per request


@dataclass
class _Entry:
    directory: Directory | None
    fresh_until: float
    retry_at: float


class Directories:
    """Directories by institution code; safe to share between threads."""

    def __init__(self, source: TrustSource, *, clock: Callable[[], float] = time.time,
                 fetch: Fetch | None = None, ttl: float = 3600.0,
                 retry_after: float = 60.0) -> None:
        settings = source.settings
        self.source = source
        self.clock = clock
        self.ttl = ttl
        self.retry_after = retry_after
        self._fetch = fetch or (lambda loc: fetch_location(
            loc, timeout=settings.timeout, max_bytes=core.MAX_TOKEN))
        self._lock = threading.Lock()
        self._cache: dict[str, _Entry] = {}
        self._bundle = _bundled(settings.trust_file)

    def get(self, institution: str) -> Directory | None:
        """The institution's directory, or None if there is no valid one."""
        now = self.clock()
        entry = self._cache.get(institution)
        if entry is not None and (now < entry.fresh_until or now < entry.retry_at):
            return entry.directory
        if not INSTITUTION_CODE.fullmatch(institution):
            return None
        location = self._location(institution)
        found: tuple[Directory, float] | None = None
        if location is not None:
            try:
                fetched = self._fetch(location)
                found = self._verify(fetched.body, institution), _ttl(fetched, self.ttl)
            except (OSError, ValueError) as exc:
                log.info("directory of %s unusable: %s", institution, exc)
        if found is not None:
            fresh = _Entry(found[0], now + found[1], now)
        else:  # keep the last good copy (else the bundle's) and try again later
            previous = entry.directory if entry is not None else None
            if previous is None and institution in self._bundle:
                try:
                    previous = self._verify(self._bundle[institution], institution)
                except ValueError:
                    previous = None
            fresh = _Entry(previous, now, now + self.retry_after)
        with self._lock:
            self._cache[institution] = fresh
        return fresh.directory

    def _location(self, institution: str) -> str | None:
        base = self.source.settings.status
        if not base:
            return None
        name = f"{core.PURPOSE}.jws"
        if base.startswith(("http://", "https://")):
            return f"{base.rstrip('/')}/{institution}/{name}"
        return os.path.join(base, institution, name)

    def _verify(self, body: bytes | str, institution: str) -> Directory:
        token = body.decode("ascii") if isinstance(body, bytes) else body
        store = self.source.keys().store
        kid = core.header_kid(token)
        if kid is not None and store.key(kid) is None:
            store = self.source.keys(unknown_kid=kid).store  # a key newer than our copy
        return core.verify(token, store.key, institution)


def _ttl(fetched: Fetched, default: float) -> float:
    return default if fetched.max_age is None else max(fetched.max_age, MIN_TTL)


def _bundled(path: Path | None) -> dict[str, str]:
    """The bundle's directories by code (the bundle itself is checked by TrustSource)."""
    if path is None:
        return {}
    try:
        with open(path, "rb") as handle:
            section = json.load(handle).get("directory") or {}
        return {str(code): str(token) for code, token in section.items()}
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("trust file has no usable directories: %s", exc)
        return {}


__all__ = ["Directories", "Directory", "DirectoryError"]
