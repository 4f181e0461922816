"""Documents the issuer publishes for verifiers: keys, status lists, a trust bundle.

Until the issuer's web service exists these are written as files under the published
directory (``var/published/``); a web server serves the same tree at the same paths,
and verifiers read them from the path or the URL::

    .well-known/jwks.json           credential keys with x5c chains (`jwks_document`);
                                    every generation, retired and compromised ones
                                    too, forever, with its period of use
    status/<code>/revocation.jws    signed W3C status list, bit set = revoked
    status/<code>/refresh.jws       signed W3C status list, bit set = superseded
                                    (`write_status_lists`; format in
                                    verifier/core/status_credential.py)
    status/<code>/details.jws       signed status details: date, reason code and newer
                                    version per set index, no personal data
                                    (verifier/core/status_details.py)
    status/<code>/directory.jws     the institution's and its programmes' names, signed
                                    (`issuer.adapters.directory`)
    trust.json                      offline bundle: the JWKS, every status document and
                                    directory (`write_trust_bundle`); never the roots,
                                    which verifiers pin separately
    schema/transcript/<kind>/v<n>.json  the JSON Schema of `transcript.json` (school,
                                    vocational), each version kept (`write_schemas`)

Each JWK carries, besides RFC 7517's members, its generation's life (read by
``verifier.trust``; times are RFC 3339 UTC)::

    "bkt_generation": 2                  the institution's key generation
    "bkt_not_before": "2027-01-05T03:00:00Z"   start of its period of use
    "bkt_retired_at": "2028-01-05T03:00:00Z"   end of it; absent while the key signs
    "bkt_compromised_at": "..."          absent unless reported: what it signed from
                                         then on is void, and before then is proven
                                         only by a trusted timestamp
    "bkt_pdf_x5t#S256": "..."            base64url SHA-256 of the same generation's
                                         PDF-signing certificate (DER), so the PDF path
                                         applies the same rules to that key

The three status documents of one publication carry the same sequence number, higher
than any published before (never reused: a verifier refuses a lower one). Lists are
valid for 30 days, but verifiers treat them as stale 12 hours after signing and check
them again every 30 s: re-sign them on every revocation or reissue and every 6 hours.
"""

from __future__ import annotations

import base64
import fcntl
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc.jwk import ECKey

from verifier.core import directory, sd_jwt_vc, status_credential, status_details, token_status_list
from verifier.core.credential import ALG, kid_for
from verifier.core.status_details import StatusDetail

if TYPE_CHECKING:
    from issuer.adapters.pki import InstitutionKeys
    from issuer.core.key_lifecycle import Generation

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
SCHEMA_DIR = Path("schema/transcript")
JWKS_PATH = Path(".well-known/jwks.json")
STATUS_DIR = Path("status")
TRUST_BUNDLE = Path("trust.json")
TRUST_BUNDLE_TYPE = "bkt-trust-bundle"


def jwk_for(credential_cert: x509.Certificate, chain: Iterable[x509.Certificate],
            generation: Generation | None = None) -> dict[str, Any]:
    """A public JWK with its x5c chain (leaf first, root excluded: verifiers pin it) and,
    given its `generation`, that generation's life (the ``bkt_`` members above)."""
    public_key = credential_cert.public_key()
    jwk = ECKey.import_key(public_key).as_dict(private=False)  # type: ignore[arg-type]
    jwk |= {
        "kid": kid_for(public_key),  # type: ignore[arg-type]
        "use": "sig",
        "alg": ALG,
        "x5c": x5c([credential_cert, *chain]),
    }
    if generation is not None:
        jwk |= lifecycle_members(generation)
    return jwk


def lifecycle_members(generation: Generation) -> dict[str, Any]:
    """The ``bkt_`` members of a generation's JWK."""
    members: dict[str, Any] = {"bkt_generation": generation.number,
                               "bkt_not_before": _utc(generation.activated)}
    if generation.retired is not None:
        members["bkt_retired_at"] = _utc(generation.retired)
    if generation.compromised is not None:
        members["bkt_compromised_at"] = _utc(generation.compromised)
    members["bkt_pdf_x5t#S256"] = generation.pdf_sha256
    return members


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def x5c(certs: Iterable[x509.Certificate]) -> list[str]:
    """An ``x5c`` value (RFC 7515): base64 DER, leaf first, self-signed roots left out
    (verifiers pin them)."""
    certs = list(certs)
    return [base64.b64encode(c.public_bytes(Encoding.DER)).decode()
            for i, c in enumerate(certs) if i == 0 or c.subject != c.issuer]


def jwks_document(
    entries: Iterable[tuple[x509.Certificate, Iterable[x509.Certificate]]
                      | tuple[x509.Certificate, Iterable[x509.Certificate], Generation]],
) -> dict:
    """``{"keys": [...]}`` for every (credential certificate, chain[, generation]) given."""
    return {"keys": [jwk_for(*entry) for entry in entries]}


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def schema_files() -> dict[Path, Path]:
    """Published path -> packaged file of every record schema version
    (``transcript-school-v2.json`` is published as ``schema/transcript/school/v2.json``)."""
    out = {}
    for path in sorted(SCHEMAS.glob("transcript-*-v*.json")):
        kind, version = path.stem.removeprefix("transcript-").rsplit("-", 1)
        out[SCHEMA_DIR / kind / f"{version}.json"] = path
    return out


def write_schemas(published_dir: Path) -> list[Path]:
    """Copy every record schema into the published tree; the paths written."""
    written = []
    for target, source in schema_files().items():
        path = published_dir / target
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(source.read_bytes())
        tmp.replace(path)
        written.append(path)
    return written


# --- status lists -------------------------------------------------------------------------


STATUS_DOCUMENTS = (*status_credential.PURPOSES, status_details.PURPOSE)


def status_list_path(published_dir: Path, code: str, purpose: str) -> Path:
    """Where one institution's list for `purpose` ("revocation" or "refresh") lives, or
    its status details (purpose "details")."""
    return Path(published_dir) / STATUS_DIR / code / f"{purpose}.jws"


def status_list_documents(
    keys: InstitutionKeys,
    revoked: Iterable[int],
    superseded: Iterable[int],
    now: datetime,
    *,
    sequence: int = 1,
    details: Iterable[StatusDetail] | None = None,
    ttl: timedelta = status_credential.DEFAULT_TTL,
    validity: timedelta = status_credential.DEFAULT_VALIDITY,
) -> dict[str, str]:
    """``{"revocation": jws, "refresh": jws, "details": jws}`` for the institution `keys`
    belong to, all numbered `sequence`.

    `revoked` and `superseded` are status indexes (the credential's ``s``); an index may
    be in both (a superseded version revoked later). `details` explain them (dates,
    reason codes, newer versions); without them the details name only the states.
    """
    revoked, superseded = sorted(set(revoked)), sorted(set(superseded))

    def signed(purpose: str, indexes: Iterable[int]) -> str:
        status = status_credential.build(keys.code, purpose, indexes, now, sequence=sequence,
                                         ttl=ttl, validity=validity)
        return status_credential.sign(status, keys.credential_key, keys.kid)

    if details is None:
        details = [*(StatusDetail(i, status_details.SUPERSEDED) for i in superseded),
                   *(StatusDetail(i, status_details.REVOKED) for i in revoked)]
    explained = status_details.build(keys.code, details, now, sequence=sequence, ttl=ttl,
                                     validity=validity)
    return {
        status_credential.REVOCATION: signed(status_credential.REVOCATION, revoked),
        status_credential.SUPERSESSION: signed(status_credential.SUPERSESSION, superseded),
        status_details.PURPOSE: status_details.sign(explained, keys.credential_key, keys.kid),
    }


def published_sequence(published_dir: Path, code: str) -> int:
    """The highest sequence number among the institution's published status documents
    (0 if none): the next publication must be numbered above it."""
    highest = 0
    for purpose in STATUS_DOCUMENTS:
        try:
            token = status_list_path(published_dir, code, purpose).read_text("ascii")
        except (OSError, UnicodeDecodeError):
            continue
        highest = max(highest, status_credential.sequence_of(token))
    return highest


def write_status_lists(
    published_dir: Path,
    keys: InstitutionKeys,
    revoked: Iterable[int],
    superseded: Iterable[int],
    now: datetime,
    *,
    sequence: int | None = None,
    details: Iterable[StatusDetail] | None = None,
    **options: timedelta,
) -> list[Path]:
    """Sign and write the status documents of one institution; return the paths written.

    `sequence` (the issuer's, from its database) must be above what is published: a
    lower one raises ValueError rather than put an older list in place of a newer.
    Without it the documents are numbered one above the published ones.
    """
    published = published_sequence(published_dir, keys.code)
    if sequence is None:
        sequence = published + 1
    elif sequence <= published:
        raise ValueError(f"status documents of {keys.code} number {published} are published: "
                         f"refusing to replace them with number {sequence}")
    documents = status_list_documents(keys, revoked, superseded, now, sequence=sequence,
                                      details=details, **options)
    return [
        _write_text(status_list_path(published_dir, keys.code, purpose), token)
        for purpose, token in documents.items()
    ]


def write_token_status_list(
    published_dir: Path, keys: InstitutionKeys, revoked: Iterable[int],
    superseded: Iterable[int], now: datetime, public_url: str,
) -> Path:
    """The institution's IETF Token Status List (`verifier.core.token_status_list`): the
    same bits as its W3C lists, for SD-JWT VC verifiers; ``sub`` is the URI the SD-JWT VCs
    name."""
    uri = sd_jwt_vc.status_uri(public_url, keys.code)
    token = token_status_list.sign(
        uri, token_status_list.statuses(revoked, superseded), keys.credential_key, keys.kid,
        now, ttl=status_credential.DEFAULT_TTL, validity=status_credential.DEFAULT_VALIDITY)
    return _write_text(Path(published_dir) / sd_jwt_vc.STATUS_PATH.format(
        code=keys.code).lstrip("/"), token)


def read_status_lists(published_dir: Path) -> dict[str, dict[str, str]]:
    """Every published list and status details, ``{code: {purpose: jws}}`` (for the
    trust bundle)."""
    lists: dict[str, dict[str, str]] = {}
    root = Path(published_dir) / STATUS_DIR
    for path in sorted(root.glob("*/*.jws")):
        purpose = path.stem
        if purpose in STATUS_DOCUMENTS:
            lists.setdefault(path.parent.name, {})[purpose] = path.read_text("ascii").strip()
    return lists


# --- the offline trust bundle -------------------------------------------------------------


def trust_bundle(
    jwks: Mapping[str, Any], status_lists: Mapping[str, Mapping[str, str]], now: datetime,
    directories: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One JSON document a verifier can run from offline (``BKT_VERIFIER_TRUST_FILE``).

    Nothing in it needs to be trusted as such: keys are checked against the verifier's
    pinned roots and lists against those keys, exactly as when fetched.
    """
    return {
        "type": TRUST_BUNDLE_TYPE,
        "created": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "jwks": dict(jwks),
        "status": {code: dict(lists) for code, lists in status_lists.items()},
        "directory": dict(directories or {}),
    }


def write_trust_bundle(published_dir: Path, now: datetime, path: Path | None = None) -> Path:
    """Bundle the published JWKS, status lists and directories into `path` (default
    ``trust.json``)."""
    published_dir = Path(published_dir)
    jwks = json.loads((published_dir / JWKS_PATH).read_text("utf-8"))
    directories = {p.parent.name: p.read_text("ascii").strip() for p in sorted(
        (published_dir / STATUS_DIR).glob(f"*/{directory.PURPOSE}.jws"))}
    document = trust_bundle(jwks, read_status_lists(published_dir), now, directories)
    return write_json(path or published_dir / TRUST_BUNDLE, document)


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text + "\n", encoding="ascii")
    tmp.replace(path)
    return path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created if need be) among the processes of this
    machine: web threads, worker processes, the command line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
