"""Where the verifier learns keys and status: the issuer (URL or path), a cache, a bundle.

The verifier is configured with its pinned root certificate(s) only, plus where the
issuer publishes (see ``issuer/adapters/publish.py`` for the layout):

- the JWKS, a path or an http(s) URL of ``.well-known/jwks.json``;
- the status lists, a directory or URL base holding ``<code>/<purpose>.jws`` (and the
  signed status details, ``<code>/details.jws``);
- optionally a trust bundle file (``trust.json``) holding both, to run fully offline or
  to start with a warm cache.

Everything fetched is checked before it is cached (keys against the roots, lists
against the keys of their own institution). Keys are kept for their TTL (HTTP
``Cache-Control: max-age`` when given, else `default_ttl`); status documents for the
freshness policy's `refresh` (30 s) at most, then checked again with a conditional
request (``If-None-Match`` / ``If-Modified-Since``; for a file, its size, time and
inode), so an unchanged document costs a 304 and no signature check.

Status documents carry a sequence number: a document numbered below the newest one
this verifier has seen -- itself or any other worker, through the shared store
(`verifier.shared`) -- is refused, as is one dated in the future. When a refresh fails
the last good copy keeps being served and the view says when the issuer last confirmed
it (`StatusView.as_of`), so the checks can tell current from stale
(`verifier.core.freshness`); with nothing usable the answer is `Freshness.UNAVAILABLE`,
which the checks turn into *indeterminate*. A failed fetch is not retried for
`retry_after` seconds, so an unreachable issuer costs one request a timeout, not every
request.
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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from verifier.core import freshness, status_credential, status_details
from verifier.core.credential import kid_for
from verifier.core.freshness import FreshnessPolicy
from verifier.core.status_credential import StatusList, StatusListError
from verifier.core.status_details import StatusDetails
from verifier.shared import MemoryShared, SharedStatus, Stored
from verifier.trust import TrustedKey, TrustStore, institution_of

log = logging.getLogger(__name__)


class FetchError(OSError):
    """A document could not be fetched (unreachable, HTTP error, too large)."""


class Refused(ValueError):
    """A genuine status document that must not be used: older than one already seen,
    reusing a number, or dated in the future."""


UNREACHABLE, REFUSED, UNUSABLE = "unreachable", "refused", "unusable"
"""What went wrong with the last attempt (`StatusView.error_kind`)."""


class Freshness(StrEnum):
    FRESH = "fresh"
    """Fetched from (or confirmed by) the issuer within its TTL."""
    CACHED = "cached"
    """Past its TTL and not confirmed again (issuer unreachable, or it served something
    unusable): the last good copy."""
    OFFLINE = "offline"
    """From the bundled trust file, no issuer configured or ever reached."""
    UNAVAILABLE = "unavailable"
    """Nothing usable: never fetched, or the only copy expired."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    max_age: float | None = None
    """Seconds from HTTP Cache-Control max-age; None for files or no header."""
    etag: str | None = None
    """The HTTP ETag, or for a file its inode, size and time: sent back next time."""
    last_modified: str | None = None
    """The HTTP Last-Modified, sent back as If-Modified-Since."""
    not_modified: bool = False
    """The issuer answered 304 (the file is unchanged): `body` is empty, keep the copy."""


Fetch = Callable[[str], Fetched]
STATUS_PURPOSES = (*status_credential.PURPOSES, status_details.PURPOSE)
StatusDocument = StatusList | StatusDetails


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
    freshness: FreshnessPolicy = field(default_factory=FreshnessPolicy)
    """How often status is checked again, how old it may be, the clock skew."""
    shared: SharedStatus | None = None
    """Where the workers share the newest status documents (`verifier.shared`); None:
    this process alone."""


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
    status: Any
    """The verified `StatusList` (or `StatusDetails`), or None."""
    freshness: Freshness
    as_of: datetime | None
    """When the issuer last served or confirmed this copy (an offline bundle's list:
    when it was signed)."""
    error: str | None = None
    """Why the last attempt to get or confirm it failed, if it did (English)."""
    error_kind: str | None = None
    """`UNREACHABLE`, `REFUSED` or `UNUSABLE`, with `error`."""


@dataclass
class _Entry:
    value: Any
    fetched_at: float
    fresh_until: float
    freshness: Freshness = Freshness.FRESH
    etag: str | None = None
    last_modified: str | None = None
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


def fetch_location(
    location: str,
    *,
    timeout: float = 3.0,
    max_bytes: int = 8 << 20,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """Read a file path or GET an http(s) URL; FetchError on any failure.

    With `etag` / `last_modified` from an earlier answer the request is conditional:
    an unchanged document comes back as ``Fetched(b"", not_modified=True)``.
    """
    if not _is_url(location):
        try:
            with open(location, "rb") as handle:
                stat = os.fstat(handle.fileno())
                validator = f"{stat.st_ino:x}-{stat.st_size:x}-{stat.st_mtime_ns:x}"
                if etag is not None and etag == validator:
                    return Fetched(b"", etag=validator, not_modified=True)
                body = handle.read(max_bytes + 1)
        except OSError as exc:
            raise FetchError(f"cannot read {location}: {exc.strerror or exc}") from None
        if len(body) > max_bytes:
            raise FetchError(f"{location} is too large")
        return Fetched(body, etag=validator)
    headers = {"User-Agent": "bkt-verifier/1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(location, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            answer = response.headers
    except urllib.error.HTTPError as exc:
        if exc.code != 304 or not (etag or last_modified):
            raise FetchError(f"cannot fetch {location}: {exc}") from None
        return Fetched(b"", _max_age(exc.headers.get("Cache-Control", "")),
                       exc.headers.get("ETag") or etag,
                       exc.headers.get("Last-Modified") or last_modified, not_modified=True)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchError(f"cannot fetch {location}: {exc}") from None
    if len(body) > max_bytes:
        raise FetchError(f"{location} is too large")
    return Fetched(body, _max_age(answer.get("Cache-Control", "")), answer.get("ETag"),
                   answer.get("Last-Modified"))


def _max_age(cache_control: str) -> float | None:
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        return 0.0
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None


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
        self.shared: SharedStatus = settings.shared or MemoryShared()
        self._custom_fetch = fetch
        self._lock = threading.Lock()  # guards the dicts below
        self._busy: dict[Any, threading.Lock] = {}
        self._cache: dict[Any, _Entry] = {}
        self._failed: dict[Any, float] = {}
        self._errors: dict[Any, tuple[str, str]] = {}  # key -> (kind, message)
        self._bundle_jwks: _Entry | None = None
        self._bundle_status: dict[tuple[str, str], str] = {}
        self._bundle_checked: dict[tuple[str, str], StatusDocument] = {}
        if settings.trust_file is not None:
            self._load_bundle(Path(settings.trust_file))

    @property
    def offline(self) -> bool:
        """No status location: the trust file is all there is."""
        return not self.settings.status

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

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

    def status(self, institution: str, purpose: str, *, at_least: int = 0) -> StatusView:
        """One institution's verified list for `purpose` (or its status details, purpose
        ``"details"``), with when the issuer last confirmed it. A copy numbered below
        `at_least` is checked again at once (at most once a second)."""
        key = ("status", institution, purpose)
        entry = self._cache.get(key)  # fast path: a fresh copy, no lock
        now = self.clock()
        behind = entry is not None and entry.value.sequence < at_least and (
            now - entry.fetched_at >= 1.0)
        if entry is None or now >= entry.fresh_until or behind:
            if not status_credential.INSTITUTION_CODE.fullmatch(institution) or (
                purpose not in STATUS_PURPOSES
            ):
                return StatusView(None, Freshness.UNAVAILABLE, None, "no such status list")

            def parse(fetched: Fetched) -> tuple[StatusDocument, float]:
                token = _ascii(fetched.body)
                document = self._verify_status(token, institution, purpose)
                self._admit(key, document, token)
                return document, min(float(document.ttl_seconds),
                                     self.settings.freshness.refresh)

            entry = self._get(key, self._status_location(institution, purpose), parse,
                              stale=behind)
        kind, error = self._errors.get(key, (None, None))
        if entry is None:
            return StatusView(None, Freshness.UNAVAILABLE, None,
                              error or "status list unavailable", kind)
        if now > entry.expires:
            return StatusView(None, Freshness.UNAVAILABLE, entry.as_of, "status list expired")
        return StatusView(entry.value, self._freshness(entry), entry.as_of, error, kind)

    def details(self, institution: str, *, at_least: int = 0) -> StatusView:
        """The institution's signed status details (`verifier.core.status_details`), of
        the publication `at_least` if it can be had."""
        return self.status(institution, status_details.PURPOSE, at_least=at_least)

    def sync(self, institution: str) -> None:
        """Take from the shared store any status document of `institution` newer than
        this process's copy (another worker fetched it): one cheap read per verification,
        so that every worker answers alike as soon as one has the newer list."""
        try:
            sequences = self.shared.sequences(institution)
        except (OSError, ValueError):
            return
        for purpose, sequence in sequences.items():
            key = ("status", institution, purpose)
            entry = self._cache.get(key)
            if purpose not in STATUS_PURPOSES or (
                entry is not None and sequence <= entry.value.sequence
            ):
                continue
            stored = self.shared.get(institution, purpose)
            document = self._checked(stored, institution, purpose)
            if stored is None or document is None:
                continue
            adopted = _Entry(document, stored.at, stored.at + self._lifetime(document))
            with self._lock:
                current = self._cache.get(key)
                if current is None or current.value.sequence < document.sequence:
                    self._cache[key] = adopted
                    self._errors.pop(key, None)

    def _status_location(self, institution: str, purpose: str) -> str | None:
        if not self.settings.status:
            return None
        base = self.settings.status.rstrip("/")
        if _is_url(base):
            return f"{base}/{institution}/{purpose}.jws"
        return os.path.join(base, institution, f"{purpose}.jws")

    # --- fetching and caching -----------------------------------------------------------

    def _fetch(self, location: str, entry: _Entry | None) -> Fetched:
        if self._custom_fetch is not None:
            return self._custom_fetch(location)
        return fetch_location(location, timeout=self.settings.timeout,
                              max_bytes=self.settings.max_bytes,
                              etag=entry.etag if entry else None,
                              last_modified=entry.last_modified if entry else None)

    def _get(
        self,
        key: Any,
        location: str | None,
        parse: Callable[[Fetched], tuple[Any, float | None]],
        *,
        force: bool = False,
        stale: bool = False,
    ) -> _Entry | None:
        """The cache entry for `key`, fetched again if stale (or `force`, at most every
        `retry_after`; or `stale`: the caller knows a newer one exists) and allowed."""
        now = self.clock()
        with self._lock:
            entry = self._cache.get(key)
            failed_at = self._failed.get(key)
            busy = self._busy.setdefault(key, threading.Lock())
        if entry is not None and now < entry.fresh_until and not (force or stale):
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
                fetched = self._fetch(location, entry)
                if fetched.not_modified and entry is not None:
                    fresh = replace(entry, fetched_at=now,
                                    fresh_until=now + (entry.fresh_until - entry.fetched_at))
                else:
                    value, ttl = parse(fetched)
                    fresh = _Entry(value, now, now + self._fresh_for(fetched, ttl),
                                   etag=fetched.etag, last_modified=fetched.last_modified)
            except Exception as exc:  # whatever the issuer (or a meddler) sent: not usable
                if isinstance(exc, FetchError):
                    reason = (UNREACHABLE, "the issuer is unreachable")
                elif isinstance(exc, Refused):
                    reason = (REFUSED, str(exc))
                elif isinstance(exc, ValueError):
                    reason = (UNUSABLE, str(exc))
                else:
                    reason = (UNUSABLE, "the issuer sent an unusable document")
                    log.warning("unusable document from %s: %s", location, type(exc).__name__)
                with self._lock:
                    self._failed[key] = now
                    self._errors[key] = reason
                return entry or self._fallback(key)
            with self._lock:
                self._cache[key] = fresh
                self._failed.pop(key, None)
                self._errors.pop(key, None)
            return fresh
        finally:
            busy.release()

    def _fresh_for(self, fetched: Fetched, ttl: float | None) -> float:
        """How long a fetched document is used: keys, HTTP max-age else `default_ttl`;
        status, its lifetime (`ttl`, at most the policy's refresh), shortened by a positive
        max-age (``no-cache``, max-age 0, asks for revalidation before reuse, which is what
        the status refresh does). Never under `min_ttl`."""
        candidates = [t for t in (fetched.max_age, ttl) if t is not None]
        if ttl is not None and fetched.max_age == 0:
            candidates = [ttl]
        return max(min(candidates, default=self.settings.default_ttl), self.settings.min_ttl)

    def _lifetime(self, document: StatusDocument) -> float:
        return max(min(float(document.ttl_seconds), self.settings.freshness.refresh),
                   self.settings.min_ttl)

    def _freshness(self, entry: _Entry) -> Freshness:
        if entry.freshness is Freshness.OFFLINE:
            return Freshness.OFFLINE
        return Freshness.FRESH if self.clock() < entry.fresh_until else Freshness.CACHED

    # --- sequence numbers ----------------------------------------------------------------

    def _admit(self, key: tuple[str, str, str], document: StatusDocument, token: str) -> None:
        """Refuse `document` (ValueError) unless it is at least as new as every copy this
        verifier has seen; then record it in the shared store."""
        _, institution, purpose = key
        policy = self.settings.freshness
        if freshness.in_future(document.valid_from, self.now(), policy):
            raise Refused(freshness.dated_in_future(document.valid_from)[1])
        entry = self._cache.get(key)
        if entry is not None:
            _not_older(document, entry.value)
        bundled = self._bundled(institution, purpose)
        if bundled is not None:  # a trust file is a high-water mark from the start
            _not_older(document, bundled)
        stored = self.shared.get(institution, purpose)
        unusable = False
        if stored is not None and (stored.sequence > document.sequence or (
            stored.sequence == document.sequence and stored.token != token
        )):
            seen = self._checked(stored, institution, purpose)
            if seen is None:
                unusable = True  # not ours to judge (e.g. signed under keys since replaced)
            else:
                _not_older(document, seen)
        self.shared.offer(institution, purpose, Stored(document.sequence, token, self.clock()),
                          replace=unusable)

    def _checked(self, stored: Stored | None, institution: str,
                 purpose: str) -> StatusDocument | None:
        """A document from the shared store, verified like a fetched one, or None."""
        if stored is None:
            return None
        try:
            document = self._verify_status(stored.token, institution, purpose)
        except ValueError:
            return None
        if document.sequence != stored.sequence or freshness.in_future(
            document.valid_from, self.now(), self.settings.freshness
        ):
            return None
        return document

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

    def _verify_status(self, token: str, institution: str, purpose: str) -> StatusDocument:
        """A list (or the details) checked against the keys of its own institution, else
        ValueError."""
        try:
            store = self.keys().store
            kid = status_credential.header_kid(token)
            if kid is not None and store.key(kid) is None:
                store = self.keys(unknown_kid=kid).store  # a key newer than our copy
            if purpose == status_details.PURPOSE:
                return status_details.verify(token, store.key, institution)
            return status_credential.verify(token, store.key, institution, purpose)
        except StatusListError as exc:
            raise ValueError(str(exc)) from None

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

    def _bundled(self, institution: str, purpose: str) -> StatusDocument | None:
        """The trust file's document for `institution` and `purpose`, verified once."""
        key = (institution, purpose)
        if key not in self._bundle_status:
            return None
        if key not in self._bundle_checked:
            try:
                document = self._verify_status(self._bundle_status[key], institution, purpose)
            except ValueError:
                return None  # perhaps the keys are not known yet: try again next time
            self._bundle_checked[key] = document
        return self._bundle_checked[key]

    def _fallback(self, key: Any) -> _Entry | None:
        """Nothing cached: the newest usable copy among the bundle's and the shared
        store's, kept in the cache once checked. A bundle's copy is OFFLINE when the
        verifier has no status location, else CACHED as of its signing time (it proves
        nothing current)."""
        if key == "jwks":
            return self._bundle_jwks
        if key[0] != "status":
            return None
        _, institution, purpose = key
        candidates: list[_Entry] = []
        document = self._bundled(institution, purpose)
        if document is not None and not freshness.in_future(
            document.valid_from, self.now(), self.settings.freshness
        ):
            kind = Freshness.OFFLINE if self.offline else Freshness.CACHED
            candidates.append(_Entry(document, document.valid_from.timestamp(),
                                     float("-inf"), kind))
        stored = self.shared.get(institution, purpose)
        shared = self._checked(stored, institution, purpose)
        if stored is not None and shared is not None:
            candidates.append(_Entry(shared, stored.at, stored.at + self._lifetime(shared)))
        if not candidates:
            return None
        entry = max(candidates, key=lambda e: e.value.sequence)
        with self._lock:
            entry = self._cache.setdefault(key, entry)
        return entry


def _not_older(document: StatusDocument, seen: StatusDocument) -> None:
    """ValueError if `document` is older than `seen`, or reuses its number."""
    if document.sequence < seen.sequence:
        raise Refused(
            f"refused an older status list (number {document.sequence}; number "
            f"{seen.sequence} was already seen): a replayed or outdated copy")
    if document.sequence == seen.sequence and document != seen:
        raise Refused(f"refused a status list reusing number {document.sequence}")


def _ascii(body: bytes | str) -> str:
    try:
        return body.decode("ascii") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise ValueError("not a compact JWS") from None
