"""The institutions' signing keys on disk, one directory per generation.

Layout under the keys directory (the rules are `issuer.core.key_lifecycle`)::

    <code>/generations.json          the manifest: every generation, its kid, the SHA-256
                                     of its PDF certificate, activated / retired /
                                     compromised times (UTC)
    <code>/<n>/pdf.crt, pdf.key      generation n's RSA-3072 PDF-signing key
    <code>/<n>/credential.crt, .key  generation n's P-256 credential key
    <code>/<n>/token.json            instead of the two .key files: the generation's keys
                                     are in an HSM (`issuer.adapters.hsm`), this names them

A key store made before generations holds the four files directly in ``<code>/``: they
are read in place as generation 1 (never moved), with or without a manifest, and
activated when their credential certificate starts. Signing always uses the active
generation. A change writes the new generation's files first and then replaces the
manifest atomically, so readers see the old state or the new one, each complete;
`stamp` changes with every change, which is how long-running processes notice it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from issuer.adapters import hsm
from issuer.adapters.pki import (
    INSTITUTION_FILES,
    Authority,
    InstitutionKeys,
    PkiError,
    _read_cert,
    _read_key,
    _write_cert,
    _write_key,
    _write_private,
    certify_institution_keys,
    issue_institution_keys,
    key_of,
    load_authority,
)
from issuer.adapters.publish import file_lock
from issuer.core.key_lifecycle import Generation, KeyHistory, KeyLifecycleError
from verifier.core.credential import kid_for

MANIFEST = "generations.json"
LOCK = ".keys.lock"

Stamp = tuple[int, ...] | None


@dataclass(frozen=True)
class PublicGeneration:
    """What verifiers may know of one generation: its public certificates."""

    generation: Generation
    credential_cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    """Issuing CA, then root."""


def certificate_sha256(cert: x509.Certificate) -> str:
    """base64url (unpadded) SHA-256 of a certificate's DER: JWK ``x5t#S256`` style."""
    digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generation_of(number: int, pdf_cert: x509.Certificate, credential_cert: x509.Certificate,
                  activated: datetime) -> Generation:
    """The manifest entry of a generation with these certificates."""
    public_key = credential_cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    return Generation(number, kid_for(public_key), certificate_sha256(pdf_cert), activated)


# --- where things are ---------------------------------------------------------------------


def generation_dir(directory: Path, code: str, number: int) -> Path:
    """Generation `number`'s folder; generation 1 of a store made before generations is
    the institution's folder itself."""
    folder = Path(directory) / code
    numbered = folder / str(number)
    if number == 1 and not numbered.exists() and (folder / "credential.crt").exists():
        return folder
    return numbered


def stamp(directory: Path, code: str) -> Stamp:
    """Changes whenever the institution's keys change (two `stat` calls: cheap enough to
    ask before every signature)."""
    folder = Path(directory) / code
    parts: list[int] = []
    for path in (folder, folder / MANIFEST):
        try:
            st = path.stat()
        except FileNotFoundError:
            parts += [0, 0, 0]
            continue
        parts += [st.st_ino, st.st_mtime_ns, st.st_size]
    return tuple(parts) if any(parts) else None


@contextmanager
def lock(directory: Path) -> Iterator[None]:
    """One key-store change at a time on this machine."""
    path = Path(directory) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # private, like the rest
    with file_lock(path):
        yield


# --- reading ------------------------------------------------------------------------------


def read_history(directory: Path, code: str) -> KeyHistory:
    """Every generation of `code` (none if it has no keys yet)."""
    folder = Path(directory) / code
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _flat_history(folder, code)
    except (OSError, ValueError) as e:
        raise PkiError(f"unreadable {path}: {e}") from None
    try:
        history = KeyHistory.from_json(data)
    except KeyLifecycleError as e:
        raise PkiError(f"{path}: {e}") from None
    if history.institution != code:
        raise PkiError(f"{path} is the manifest of {history.institution}, not {code}")
    return history


def _flat_history(folder: Path, code: str) -> KeyHistory:
    """A store made before generations: its four files are generation 1, active."""
    if not all((folder / name).exists() for name in INSTITUTION_FILES):
        return KeyHistory(code)
    credential_cert = _read_cert(folder / "credential.crt")
    first = generation_of(1, _read_cert(folder / "pdf.crt"), credential_cert,
                          credential_cert.not_valid_before_utc)
    return KeyHistory(code, (first,))


def _chain(directory: Path) -> tuple[x509.Certificate, ...]:
    return (_read_cert(Path(directory) / "issuing.crt"), _read_cert(Path(directory) / "root.crt"))


def load_generation(directory: Path, code: str, generation: Generation,
                    passphrase: bytes, token: hsm.TokenConfig | None = None) -> InstitutionKeys:
    """One generation's keys, checked against its certificates and the manifest; keys in
    an HSM are reached with `token`'s module and PIN."""
    folder = generation_dir(directory, code, generation.number)
    pdf_cert = _read_cert(folder / "pdf.crt")
    credential_cert = _read_cert(folder / "credential.crt")
    refs = hsm.read_token_keys(folder)
    pdf_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    credential_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if refs is not None:
        if token is None:
            raise PkiError(f"the keys of {code} (generation {generation.number}) are in the "
                           f"HSM token {refs.token!r}: set BKT_HSM_TOKEN and its PIN "
                           "(docs/hsm.md)")
        pdf_public, credential_public = pdf_cert.public_key(), credential_cert.public_key()
        if not isinstance(pdf_public, rsa.RSAPublicKey) or not isinstance(
                credential_public, ec.EllipticCurvePublicKey):
            raise PkiError(f"{folder}: unexpected certificate key types")
        pdf_key, credential_key = hsm.token_keys(token, refs, pdf_public, credential_public)
    else:
        pdf_key = _read_key(folder / "pdf.key", passphrase)
        credential_key = _read_key(folder / "credential.key", passphrase)
    keys = InstitutionKeys(
        code, key_of(pdf_cert, pdf_key, folder / "pdf.key", rsa.RSAPrivateKey), pdf_cert,
        key_of(credential_cert, credential_key, folder / "credential.key",
               ec.EllipticCurvePrivateKey), credential_cert, _chain(directory))
    if keys.kid != generation.kid or certificate_sha256(pdf_cert) != generation.pdf_sha256:
        raise PkiError(f"{folder} does not hold the keys its manifest names "
                       f"(generation {generation.number}, kid {generation.kid})")
    return keys


def load_active_keys(directory: Path, code: str, passphrase: bytes,
                     token: hsm.TokenConfig | None = None) -> InstitutionKeys:
    """The keys `code` signs with now: its active generation."""
    history = read_history(directory, code)
    active = history.active()
    if active is None:
        if history.generations:
            raise PkiError(f"{code} has no active signing key (its last one was retired): "
                           f"transcripts keys rotate --institution {code} makes one")
        raise PkiError(f"missing keys of {code} in {directory} "
                       "(transcripts keys create makes them)")
    return load_generation(directory, code, active, passphrase, token)


def public_generations(directory: Path, code: str) -> list[PublicGeneration]:
    """Every generation of `code` with its credential certificate, oldest first."""
    history = read_history(directory, code)
    if not history.generations:
        return []
    chain = _chain(directory)
    found = []
    for generation in history.generations:
        cert = _read_cert(generation_dir(directory, code, generation.number) / "credential.crt")
        public_key = cert.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or (
                kid_for(public_key) != generation.kid):
            raise PkiError(f"the credential certificate of {code} generation "
                           f"{generation.number} is not the key its manifest names")
        found.append(PublicGeneration(generation, cert, chain))
    return found


# --- writing ------------------------------------------------------------------------------


def write_history(directory: Path, code: str, history: KeyHistory) -> None:
    """Replace the manifest atomically (mode 0600, like everything in the store)."""
    folder = Path(directory) / code
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    _write_private(tmp, json.dumps(history.to_json(), indent=1).encode("utf-8") + b"\n")
    os.replace(tmp, folder / MANIFEST)


def in_token(directory: Path, code: str, number: int) -> bool:
    """Whether generation `number`'s keys are in an HSM."""
    return (generation_dir(directory, code, number) / hsm.TOKEN_FILE).exists()


def issue_keys(authority: Authority, code: str, name_en: str, number: int, now: datetime,
               token: hsm.TokenConfig | None = None) -> InstitutionKeys:
    """Generation `number`'s keys and certificates: file keys made here, or, with
    `token`, key pairs made inside the HSM (their certificates stored there too)."""
    if token is None:
        return issue_institution_keys(authority, code, name_en, now)
    made = hsm.create_keys(token, code, number)
    pdf_cert, credential_cert = certify_institution_keys(
        authority, code, name_en, made.pdf.public_key(), made.credential.public_key(), now)
    for ref, cert in ((made.refs.pdf, pdf_cert), (made.refs.credential, credential_cert)):
        hsm.store_certificate(token, ref, cert.public_bytes(Encoding.DER),
                              cert.subject.public_bytes())
    return InstitutionKeys(code, made.pdf, pdf_cert, made.credential, credential_cert,
                           (authority.issuing_cert, authority.root_cert))


def write_generation(directory: Path, code: str, number: int, keys: InstitutionKeys,
                     passphrase: bytes) -> None:
    """Write one generation's files (not yet named by the manifest): its two
    certificates, and its two encrypted keys or, for keys in an HSM, ``token.json``."""
    folder = Path(directory) / code / str(number)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    pdf, credential = keys.pdf_key, keys.credential_key
    if isinstance(pdf, hsm.TokenRsaKey) and isinstance(credential, hsm.TokenEcKey):
        for name in ("pdf.key", "credential.key"):  # left by an unfinished attempt
            (folder / name).unlink(missing_ok=True)
        refs = hsm.TokenKeys(pdf.token_label, pdf.ref, credential.ref)
        _write_private(folder / hsm.TOKEN_FILE, hsm.token_json(refs))
    else:
        (folder / hsm.TOKEN_FILE).unlink(missing_ok=True)
        _write_key(folder / "pdf.key", pdf, passphrase)
        _write_key(folder / "credential.key", credential, passphrase)
    _write_cert(folder / "pdf.crt", keys.pdf_cert)
    _write_cert(folder / "credential.crt", keys.credential_cert)


def new_generation(directory: Path, code: str, name_en: str, passphrase: bytes,
                   now: datetime, token: hsm.TokenConfig | None = None) -> Generation:
    """Make the next generation's keys and certificates (the issuing CA signs them; with
    `token`, the keys are made in the HSM) and write them, without naming them in the
    manifest: the caller does that, under `lock`, once the change is recorded. A folder
    left by an unfinished attempt is overwritten: no manifest named it, so nothing was
    signed with it."""
    number = read_history(directory, code).next_number
    keys = issue_keys(load_authority(directory, passphrase), code, name_en, number, now, token)
    write_generation(directory, code, number, keys, passphrase)
    return generation_of(number, keys.pdf_cert, keys.credential_cert, now)


def add_first_generation(directory: Path, code: str, keys: InstitutionKeys,
                         passphrase: bytes, now: datetime) -> None:
    """A new institution's generation 1, active from `now`."""
    write_generation(directory, code, 1, keys, passphrase)
    write_history(directory, code, KeyHistory(
        code, (generation_of(1, keys.pdf_cert, keys.credential_cert, now),)))
