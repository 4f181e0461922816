"""Documents the issuer publishes for verifiers: keys, status lists, a trust bundle.

Until the issuer's web service exists these are written as files under the published
directory (``var/published/``); a web server serves the same tree at the same paths,
and verifiers read them from the path or the URL::

    .well-known/jwks.json           credential keys with x5c chains (`jwks_document`);
                                    retired keys stay published forever
    status/<code>/revocation.jws    signed W3C status list, bit set = revoked
    status/<code>/refresh.jws       signed W3C status list, bit set = superseded
                                    (`write_status_lists`; format in
                                    verifier/core/status_credential.py)
    status/<code>/directory.jws     the institution's and its programmes' names, signed
                                    (`issuer.adapters.directory`)
    trust.json                      offline bundle: the JWKS, every status list and
                                    directory (`write_trust_bundle`); never the roots,
                                    which verifiers pin separately

Status lists are valid for 30 days and verifiers re-fetch them after their ttl (1 hour):
re-sign them on every revocation or reissue and at least once a day.
"""

from __future__ import annotations

import base64
import fcntl
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc.jwk import ECKey

from verifier.core import directory, status_credential
from verifier.core.credential import ALG, kid_for

if TYPE_CHECKING:
    from issuer.adapters.pki import InstitutionKeys

JWKS_PATH = Path(".well-known/jwks.json")
STATUS_DIR = Path("status")
TRUST_BUNDLE = Path("trust.json")
TRUST_BUNDLE_TYPE = "bkt-trust-bundle"


def jwk_for(credential_cert: x509.Certificate, chain: Iterable[x509.Certificate]) -> dict[str, Any]:
    """A public JWK with its x5c chain (leaf first, root excluded: verifiers pin it)."""
    public_key = credential_cert.public_key()
    jwk = ECKey.import_key(public_key).as_dict(private=False)  # type: ignore[arg-type]
    return jwk | {
        "kid": kid_for(public_key),  # type: ignore[arg-type]
        "use": "sig",
        "alg": ALG,
        "x5c": x5c([credential_cert, *chain]),
    }


def x5c(certs: Iterable[x509.Certificate]) -> list[str]:
    """An ``x5c`` value (RFC 7515): base64 DER, leaf first, self-signed roots left out
    (verifiers pin them)."""
    certs = list(certs)
    return [base64.b64encode(c.public_bytes(Encoding.DER)).decode()
            for i, c in enumerate(certs) if i == 0 or c.subject != c.issuer]


def jwks_document(entries: Iterable[tuple[x509.Certificate, Iterable[x509.Certificate]]]) -> dict:
    """``{"keys": [...]}`` for every (credential certificate, chain) given."""
    return {"keys": [jwk_for(cert, chain) for cert, chain in entries]}


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


# --- status lists -------------------------------------------------------------------------


def status_list_path(published_dir: Path, code: str, purpose: str) -> Path:
    """Where one institution's list for `purpose` ("revocation" or "refresh") lives."""
    return Path(published_dir) / STATUS_DIR / code / f"{purpose}.jws"


def status_list_documents(
    keys: InstitutionKeys,
    revoked: Iterable[int],
    superseded: Iterable[int],
    now: datetime,
    *,
    ttl: timedelta = status_credential.DEFAULT_TTL,
    validity: timedelta = status_credential.DEFAULT_VALIDITY,
) -> dict[str, str]:
    """``{"revocation": jws, "refresh": jws}`` for the institution `keys` belong to.

    `revoked` and `superseded` are status indexes (the credential's ``s``); an index may
    be in both (a superseded version revoked later).
    """
    def signed(purpose: str, indexes: Iterable[int]) -> str:
        status = status_credential.build(keys.code, purpose, indexes, now, ttl=ttl,
                                         validity=validity)
        return status_credential.sign(status, keys.credential_key, keys.kid)

    return {
        status_credential.REVOCATION: signed(status_credential.REVOCATION, revoked),
        status_credential.SUPERSESSION: signed(status_credential.SUPERSESSION, superseded),
    }


def write_status_lists(
    published_dir: Path,
    keys: InstitutionKeys,
    revoked: Iterable[int],
    superseded: Iterable[int],
    now: datetime,
    **options: timedelta,
) -> list[Path]:
    """Sign and write both lists of one institution; return the paths written."""
    documents = status_list_documents(keys, revoked, superseded, now, **options)
    return [
        _write_text(status_list_path(published_dir, keys.code, purpose), token)
        for purpose, token in documents.items()
    ]


def read_status_lists(published_dir: Path) -> dict[str, dict[str, str]]:
    """Every published list, ``{code: {purpose: jws}}`` (for the trust bundle)."""
    lists: dict[str, dict[str, str]] = {}
    root = Path(published_dir) / STATUS_DIR
    for path in sorted(root.glob("*/*.jws")):
        purpose = path.stem
        if purpose in status_credential.PURPOSES:
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
