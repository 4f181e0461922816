"""Where the verifier learns keys and status: the issuer (URL or path), a cache, a bundle.

The verifier is configured with its pinned root certificate(s) only, plus where the
issuer publishes (see ``issuer/adapters/publish.py`` for the layout):

- the JWKS, a path or an http(s) URL of ``.well-known/jwks.json``;
- the status lists, a directory or URL base holding ``<code>/<purpose>.jws``;
- optionally a trust bundle file (``trust.json``) holding both, to run fully offline or
  to start with a warm cache.

Everything fetched is checked before it is cached (keys against the roots, lists
against the keys of their own institution) and kept for its TTL: HTTP ``Cache-Control:
max-age`` when given, else the status list's signed ``ttl`` (keys: `default_ttl`).
When a refresh fails the last good copy keeps being served and the view says so
(`Freshness.CACHED`); with nothing cached the answer is `Freshness.UNAVAILABLE`, which
the checks turn into *indeterminate*. A failed fetch is not retried for `retry_after`
seconds, so an unreachable issuer costs one request a timeout, not every request.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from verifier.core import status_credential
from verifier.core.credential import kid_for
from verifier.core.status_credential import StatusList, StatusListError
from verifier.trust import TrustedKey, TrustStore, institution_of

log = logging.getLogger(__name__)


class FetchError(OSError):
    """A document could not be fetched (unreachable, HTTP error, too large)."""


class Freshness(StrEnum):
    FRESH = "fresh"
    """Fetched from the issuer within its TTL."""
    CACHED = "cached"
    """Past its TTL and the issuer could not be reached: the last good copy."""
    OFFLINE = "offline"
    """From the bundled trust file, no issuer configured or ever reached."""
    UNAVAILABLE = "unavailable"
    """Nothing usable: never fetched, or the only copy expired."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    max_age: float | None = None
    """Seconds from HTTP Cache-Control max-age; None for files or no header."""


Fetch = Callable[[str], Fetched]


@dataclass(frozen=True)
class SourceSettings:
    roots: tuple[x509.Certificate, ...]
    """The pinned BMA root certificate(s): the only thing trusted as such."""
    jwks: str | None = None
    """Path or http(s) URL of the issuer's ``jwks.json``."""
    status: str | None = None
    """Directory or URL base of the status lists (``<base>/<code>/<purpose>.jws``)."""
    trust_file: Path | None = None
    """A bundle (``trust.json``) with the JWKS and status lists: offline, or a warm start."""
    timeout: float = 3.0
    """Seconds to wait for the issuer."""
    default_ttl: float = 300.0
    """How long keys stay fresh when the server sends no max-age (and for files)."""
    min_ttl: float = 10.0
    """Floor of any TTL, so ``no-cache`` does not mean a fetch per request."""
    retry_after: float = 30.0
    """Seconds before a failed (or unknown-kid) fetch is tried again."""
    max_bytes: int = 8 * 1024 * 1024
    """Largest document accepted from the issuer."""


@dataclass(frozen=True)
class KeysView:
    store: TrustStore
    freshness: Freshness
    as_of: datetime | None
    """When this copy was fetched (bundle: when the bundle was made)."""
    names: dict[str, str] = field(default_factory=dict)
    """Institution name (certificate subject O) by kid, for display."""
    untrusted: dict[str, TrustedKey] = field(default_factory=dict)
    """Keys the JWKS lists whose chain does not lead to a pinned root (never trusted)."""


@dataclass(frozen=True)
class StatusView:
    status: StatusList | None
    freshness: Freshness
    as_of: datetime | None
    error: str | None = None


@dataclass
class _Entry:
    value: Any
    fetched_at: float
    fresh_until: float
    freshness: Freshness = Freshness.FRESH
    as_of: datetime = field(init=False)
    """`fetched_at` as a datetime (computed once: this is on every request's path)."""
    expires: float = field(init=False)
    """A status list's validUntil as a timestamp; +inf for keys."""

    def __post_init__(self) -> None:
        self.as_of = datetime.fromtimestamp(self.fetched_at, UTC)
        until = getattr(self.value, "valid_until", None)
        self.expires = until.timestamp() if isinstance(until, datetime) else float("inf")


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


def fetch_location(location: str, *, timeout: float = 3.0, max_bytes: int = 8 << 20) -> Fetched:
    """Read a file path or GET an http(s) URL; FetchError on any failure."""
    if not _is_url(location):
        try:
            with open(location, "rb") as handle:
                body = handle.read(max_bytes + 1)
        except OSError as exc:
            raise FetchError(f"cannot read {location}: {exc.strerror or exc}") from None
        if len(body) > max_bytes:
            raise FetchError(f"{location} is too large")
        return Fetched(body)
    request = urllib.request.Request(location, headers={"User-Agent": "bkt-verifier/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            cache_control = response.headers.get("Cache-Control", "")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchError(f"cannot fetch {location}: {exc}") from None
    if len(body) > max_bytes:
        raise FetchError(f"{location} is too large")
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        return Fetched(body, 0.0)
    match = _MAX_AGE.search(cache_control)
    return Fetched(body, float(match.group(1)) if match else None)


def _published_keys(jwks: Any) -> tuple[dict[str, TrustedKey], dict[str, str]]:
    """Every well-formed P-256 key of the JWKS, chain NOT checked, and its subject O.

    Only for telling "signed by a key the issuer lists whose chain we do not trust"
    (UNTRUSTED) from "signed by an unknown key" (INVALID), and for display names.
    """
    keys: dict[str, TrustedKey] = {}
    names: dict[str, str] = {}
    for jwk in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        try:
            chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in jwk["x5c"]]
            leaf, public_key = chain[0], chain[0].public_key()
            if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
                public_key.curve, ec.SECP256R1
            ) or jwk.get("kid") != (kid := kid_for(public_key)):
                continue
            keys[kid] = TrustedKey(kid, public_key, institution_of(leaf),
                                   max(c.not_valid_before_utc for c in chain),
                                   min(c.not_valid_after_utc for c in chain))
            attrs = leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
            if attrs:
                names[kid] = str(attrs[0].value)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            continue
    return keys, names


class TrustSource:
    """Keys and status lists, fetched, checked and cached; safe to share between threads."""

    def __init__(
        self,
        settings: SourceSettings,
        *,
        clock: Callable[[], float] = time.time,
        fetch: Fetch | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._fetch = fetch or (
            lambda loc: fetch_location(loc, timeout=settings.timeout,
                                       max_bytes=settings.max_bytes)
        )
        self._lock = threading.Lock()  # guards the three dicts below
        self._busy: dict[Any, threading.Lock] = {}
        self._cache: dict[Any, _Entry] = {}
        self._failed: dict[Any, float] = {}
        self._bundle_jwks: _Entry | None = None
        self._bundle_status: dict[tuple[str, str], str] = {}
        if settings.trust_file is not None:
            self._load_bundle(Path(settings.trust_file))

    # --- public -------------------------------------------------------------------------

    def keys(self, *, unknown_kid: str | None = None) -> KeysView:
        """The trusted keys. With `unknown_kid` (a kid the caller did not find), fetch
        again unless a fetch was made in the last `retry_after` seconds."""
        entry = self._get("jwks", self.settings.jwks, self._parse_jwks,
                          force=unknown_kid is not None)
        if entry is None:
            return KeysView(TrustStore(self.settings.roots, {}), Freshness.UNAVAILABLE, None)
        store, names, untrusted = entry.value
        return KeysView(store, self._freshness(entry), entry.as_of, names, untrusted)

    def status(self, institution: str, purpose: str) -> StatusView:
        """One institution's verified list for `purpose`, with how fresh it is."""
        key = ("status", institution, purpose)
        entry = self._cache.get(key)  # fast path: a fresh copy, no lock
        errors: list[str] = []
        now = self.clock()
        if entry is None or now >= entry.fresh_until:
            if not status_credential.INSTITUTION_CODE.fullmatch(institution) or (
                purpose not in status_credential.PURPOSES
            ):
                return StatusView(None, Freshness.UNAVAILABLE, None, "no such status list")

            def parse(fetched: Fetched) -> tuple[StatusList, float]:
                status = self._verify_status(fetched.body, institution, purpose, errors)
                return status, float(status.ttl_seconds)

            entry = self._get(key, self._status_location(institution, purpose), parse)
        error = errors[-1] if errors else None
        if entry is None:
            return StatusView(None, Freshness.UNAVAILABLE, None,
                              error or "status list unavailable")
        if now > entry.expires:
            return StatusView(None, Freshness.UNAVAILABLE, entry.as_of, "status list expired")
        return StatusView(entry.value, self._freshness(entry), entry.as_of, error)

    def _status_location(self, institution: str, purpose: str) -> str | None:
        if not self.settings.status:
            return None
        base = self.settings.status.rstrip("/")
        if _is_url(base):
            return f"{base}/{institution}/{purpose}.jws"
        return os.path.join(base, institution, f"{purpose}.jws")

    # --- fetching and caching -----------------------------------------------------------

    def _get(
        self,
        key: Any,
        location: str | None,
        parse: Callable[[Fetched], tuple[Any, float | None]],
        *,
        force: bool = False,
    ) -> _Entry | None:
        """The cache entry for `key`, fetched again if stale (or `force`) and allowed."""
        now = self.clock()
        with self._lock:
            entry = self._cache.get(key)
            failed_at = self._failed.get(key)
            busy = self._busy.setdefault(key, threading.Lock())
        if entry is not None and now < entry.fresh_until and not force:
            return entry
        last_try = max(entry.fetched_at if entry else float("-inf"), failed_at or float("-inf"))
        if location is None or (
            (failed_at is not None or force) and now - last_try < self.settings.retry_after
        ):
            return entry or self._fallback(key)
        # One fetch at a time per document; meanwhile the others serve the cached copy.
        if not busy.acquire(blocking=entry is None):
            return entry
        try:
            with self._lock:
                latest, failed_at = self._cache.get(key), self._failed.get(key)
            if latest is not entry or (failed_at or float("-inf")) > last_try:
                return latest or self._fallback(key)  # another thread just tried
            try:
                fetched = self._fetch(location)
                value, ttl = parse(fetched)
            except Exception as exc:  # whatever the issuer (or a meddler) sent: not usable
                if not isinstance(exc, FetchError | ValueError):
                    log.warning("unusable document from %s: %s", location, type(exc).__name__)
                with self._lock:
                    self._failed[key] = now
                return entry or self._fallback(key)
            candidates = [t for t in (fetched.max_age, ttl) if t is not None]
            fresh_for = max(min(candidates, default=self.settings.default_ttl),
                            self.settings.min_ttl)
            fresh = _Entry(value, now, now + fresh_for)
            with self._lock:
                self._cache[key] = fresh
                self._failed.pop(key, None)
            return fresh
        finally:
            busy.release()

    def _freshness(self, entry: _Entry) -> Freshness:
        if entry.freshness is Freshness.OFFLINE:
            return Freshness.OFFLINE
        return Freshness.FRESH if self.clock() < entry.fresh_until else Freshness.CACHED

    # --- parsing ------------------------------------------------------------------------

    def _parse_jwks(self, fetched: Fetched) -> tuple[tuple[Any, ...], None]:
        try:
            document = json.loads(fetched.body)
        except (ValueError, UnicodeDecodeError):
            raise ValueError("JWKS is not JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("JWKS has no keys")
        store = TrustStore.from_jwks(document, self.settings.roots)
        published, names = _published_keys(document)
        untrusted = {kid: k for kid, k in published.items() if kid not in store.keys}
        return (store, names, untrusted), None

    def _verify_status(
        self, body: bytes | str, institution: str, purpose: str, errors: list[str]
    ) -> StatusList:
        """A list checked against the keys of its own institution, else ValueError."""
        try:
            token = body.decode("ascii") if isinstance(body, bytes) else body
            store = self.keys().store
            kid = status_credential.header_kid(token)
            if kid is not None and store.key(kid) is None:
                store = self.keys(unknown_kid=kid).store  # a key newer than our copy
            return status_credential.verify(token, store.key, institution, purpose)
        except (StatusListError, UnicodeDecodeError) as exc:
            message = str(exc) if isinstance(exc, StatusListError) else "not a compact JWS"
            errors.append(message)
            raise ValueError(message) from None

    # --- the bundle ---------------------------------------------------------------------

    def _load_bundle(self, path: Path) -> None:
        """Read a trust bundle; a bad bundle is an error at start-up, not at run time."""
        try:
            document = json.loads(path.read_bytes())
            if document.get("type") != "bkt-trust-bundle":
                raise ValueError("not a trust bundle")
            jwks = json.dumps(document["jwks"]).encode()
            created = datetime.fromisoformat(str(document["created"]).replace("Z", "+00:00"))
            value, _ = self._parse_jwks(Fetched(jwks))
            lists = document.get("status") or {}
            for code, by_purpose in lists.items():
                for purpose, token in by_purpose.items():
                    self._bundle_status[(str(code), str(purpose))] = str(token)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"unusable trust file {path}: {exc}") from None
        self._bundle_jwks = _Entry(value, created.timestamp(), float("-inf"),
                                   Freshness.OFFLINE)

    def _fallback(self, key: Any) -> _Entry | None:
        """The bundle's copy of `key`, kept in the cache once checked."""
        if key == "jwks":
            entry = self._bundle_jwks
        elif key[0] == "status" and (token := self._bundle_status.get(key[1:])) is not None:
            try:
                status = self._verify_status(token, key[1], key[2], [])
            except ValueError:
                return None
            entry = _Entry(status, status.valid_from.timestamp(), float("-inf"),
                           Freshness.OFFLINE)
        else:
            return None
        if entry is not None:
            with self._lock:
                self._cache.setdefault(key, entry)
        return entry
