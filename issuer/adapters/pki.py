"""Development PKI: BMA Root CA -> BMA Issuing CA -> two keys per institution, and one
audit-log signing key.

Per institution (DESIGN.md, Trust): an RSA-3072 **PDF-signing** certificate
(keyUsage digitalSignature + nonRepudiation; extendedKeyUsage emailProtection, which
poppler/NSS requires, plus documentSigning) and an ECDSA P-256 **credential** certificate
for the QR's JWS. Beside them, one ECDSA P-256 **audit** certificate (extendedKeyUsage
`AUDIT_SIGNING` only) signs the audit log's checkpoints (`issuer.adapters.audit_checkpoint`).
The pure part takes `now` and returns objects; the file part writes
PEM certificates and PKCS#8 keys encrypted with a passphrase, mode 0600. Institutions'
keys are kept by generation (rotation, retirement, compromise): `issuer.adapters.keystore`.
The root CA's key is never in the issuer's key store: the key ceremony
(`issuer.adapters.ceremony`) keeps it offline and installs only the root certificate and
the issuing CA. Production keys live in an HSM; this module is for development and tests.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from issuer.adapters import integrity

if TYPE_CHECKING:
    from issuer.adapters.hsm import TokenConfig
from verifier.core.credential import kid_for

ROOT_YEARS = 20
ISSUING_YEARS = 15
"""Beyond the 2040s of a transcript issued today: pyHanko's long-term validation fails a
signature once an intermediate CA of its chain has expired, whatever the timestamps
prove (docs/long-term-validity.md), so the issuing CA bounds how long what it certified
stays VALID."""
END_ENTITY_YEARS = 3
RSA_BITS = 3072
BACKDATE = timedelta(minutes=5)  # tolerate small clock skew between issuer and verifiers

ROOT_NAME = "BMA Root CA (development)"
ISSUING_NAME = "BMA Issuing CA (development)"

# RFC 9336 id-kp-documentSigning. NSS (pdfsig) ignores it but still trusts the certificate
# because emailProtection is present too; Adobe and pyHanko accept either.
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")

# The audit-checkpoint signing purpose, an OID under the UUID arc (ITU-T X.667, 2.25):
# no other certificate of this PKI carries it, so no other key can sign a checkpoint.
AUDIT_SIGNING = x509.ObjectIdentifier("2.25.18522163207127965918053645341189878151")
AUDIT_NAME = "BMA audit log checkpoints (development)"

SERVICE_URL_FILE = "services.url"
"""In the key store: the base URL of the PKI's online services (`Authority.service_url`)."""
DEFAULT_SERVICE_URL = "http://127.0.0.1:8002"
CRL_PATH = "/crl/issuing.crl"
ROOT_CRL_PATH = "/crl/root.crl"
ROOT_CRL = "root.crl"
"""In the key store: the root CA's CRL (the status of the CAs and the TSA it certified),
signed at the key ceremony, since the root's key is offline."""
ROOT_CRL_DAYS = 365
OCSP_PATH = "/ocsp"
TSA_PATH = "/tsa"

HOST_CA_FILES = ("root.crt", "issuing.crt", "issuing.key")
"""What the issuer host holds of the CAs: the root certificate, the issuing CA and its key."""
OFFLINE_FILES = ("root.crt", "root.key", "issuing.crt")
"""What the key ceremony keeps offline: the root CA with its key."""
ROOT_KEY = "root.key"
EXPORT_DIR = "export"
AUDIT_FILES = ("audit.crt", "audit.key")
INSTITUTION_FILES = ("pdf.crt", "pdf.key", "credential.crt", "credential.key")


class PkiError(ValueError):
    """A key store cannot be read: missing file, wrong passphrase, mismatched key."""


@dataclass(frozen=True)
class Authority:
    """The two CAs. On the issuer host `root_key` is None: the root's key stays on the
    offline machine of the key ceremony (`ceremony`), and only its certificate, the trust
    anchor, is on the host."""

    root_cert: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey | None
    issuing_cert: x509.Certificate
    issuing_key: ec.EllipticCurvePrivateKey
    service_url: str | None = None
    """Base URL of the PKI's online services (`issuer.pki_services`: CRL, OCSP, TSA);
    certificates issued with it name its CRL distribution point and OCSP responder.
    None: no online services (certificates without those extensions)."""


@dataclass(frozen=True)
class InstitutionKeys:
    """One institution's signing material."""

    code: str
    """Institution code (e.g. "1001"); also the certificates' serialNumber and OU."""
    pdf_key: rsa.RSAPrivateKey
    """RSA-3072 key for the PAdES signature."""
    pdf_cert: x509.Certificate
    credential_key: ec.EllipticCurvePrivateKey
    """ECDSA P-256 key for the QR's ES256 JWS."""
    credential_cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    """Issuing CA, then root."""

    @property
    def kid(self) -> str:
        """The JWS key id of the credential key (RFC 7638 thumbprint prefix)."""
        public_key = self.credential_cert.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        return kid_for(public_key)


@dataclass(frozen=True)
class AuditSigner:
    """The key that signs the audit log's checkpoints, with its certificate chain."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    """Issuing CA, then root."""


# --- pure: certificates from `now` ------------------------------------------------------


def _name(common_name: str, *extra: x509.NameAttribute) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bangkok Metropolitan Administration"),
            *extra,
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _years(now: datetime, years: int) -> datetime:
    return now + timedelta(days=365 * years + years // 4)


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def _ca_cert(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    path_length: int,
    now: datetime,
    years: int,
    service_url: str | None = None,
) -> x509.Certificate:
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(_years(now, years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(_aki(issuer), critical=False)
        if service_url:
            builder = builder.add_extension(root_crl_pointer(service_url), critical=False)
    return builder.sign(issuer_key, hashes.SHA384())


def root_crl_pointer(service_url: str) -> x509.CRLDistributionPoints:
    """Where the root CA's CRL is served (for what the root certifies)."""
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(service_url.rstrip("/") + ROOT_CRL_PATH)],
        None, None, None)])


def make_root_crl(root_cert: x509.Certificate, root_key: ec.EllipticCurvePrivateKey,
                  now: datetime, number: int | None = None) -> bytes:
    """The root CA's CRL (DER, nothing revoked), valid `ROOT_CRL_DAYS`: made where the
    root's key is, at the key ceremony (or with a PKI made in memory)."""
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root_cert.subject)
        .last_update(now)
        .next_update(now + timedelta(days=ROOT_CRL_DAYS))
        .add_extension(x509.CRLNumber(number or int(now.timestamp())), critical=False)
        .add_extension(_aki(root_cert), critical=False)
        .sign(root_key, hashes.SHA384())
    )
    return crl.public_bytes(serialization.Encoding.DER)


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def generate_authority(now: datetime, service_url: str | None = None) -> Authority:
    """A new root (P-384, 20 years, pathlen 1) and issuing CA (P-384, 15 years,
    pathlen 0); with `service_url`, the PKI's online services (`Authority.service_url`)."""
    _check_aware(now)
    root_key = ec.generate_private_key(ec.SECP384R1())
    root_cert = _ca_cert(_name(ROOT_NAME), root_key, None, root_key, 1, now, ROOT_YEARS)
    return new_issuing_ca(root_cert, root_key, now, service_url)


def new_issuing_ca(root_cert: x509.Certificate, root_key: ec.EllipticCurvePrivateKey,
                   now: datetime, service_url: str | None = None) -> Authority:
    """A new issuing CA (P-384, 15 years, pathlen 0) certified by the root; with
    `service_url`, its certificate names the root's CRL there (`ROOT_CRL_PATH`)."""
    _check_aware(now)
    issuing_key = ec.generate_private_key(ec.SECP384R1())
    issuing_cert = _ca_cert(
        _name(ISSUING_NAME), issuing_key, root_cert, root_key, 0, now, ISSUING_YEARS,
        service_url,
    )
    return Authority(root_cert, root_key, issuing_cert, issuing_key, service_url)


def _key_usage(*, non_repudiation: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _end_entity(
    authority: Authority,
    subject: x509.Name,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    key_usage: x509.KeyUsage,
    eku: list[x509.ObjectIdentifier] | None,
    now: datetime,
    *,
    years: int = END_ENTITY_YEARS,
    eku_critical: bool = False,
    extra: Sequence[x509.ExtensionType] = (),
) -> x509.Certificate:
    """A certificate from the issuing CA; with `authority.service_url`, it names the CRL
    distribution point and OCSP responder where its revocation status is published."""
    not_after = min(_years(now, years), authority.issuing_cert.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.issuing_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki(authority.issuing_cert), critical=False)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
    for extension in (*revocation_pointers(authority.service_url), *extra):
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(authority.issuing_key, hashes.SHA384())


def revocation_pointers(service_url: str | None) -> list[x509.ExtensionType]:
    """CRL distribution point and AIA OCSP extensions for the services at `service_url`."""
    if not service_url:
        return []
    base = service_url.rstrip("/")
    return [
        x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(base + CRL_PATH)], None, None, None)]),
        x509.AuthorityInformationAccess([x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.OCSP,
            x509.UniformResourceIdentifier(base + OCSP_PATH))]),
    ]


def issue_institution_keys(
    authority: Authority, code: str, name_en: str, now: datetime
) -> InstitutionKeys:
    """Generate the PDF-signing (RSA-3072) and credential (P-256) keys and certificates."""
    pdf_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    credential_key = ec.generate_private_key(ec.SECP256R1())
    pdf_cert, credential_cert = certify_institution_keys(
        authority, code, name_en, pdf_key.public_key(), credential_key.public_key(), now)
    return InstitutionKeys(
        code=code,
        pdf_key=pdf_key,
        pdf_cert=pdf_cert,
        credential_key=credential_key,
        credential_cert=credential_cert,
        chain=(authority.issuing_cert, authority.root_cert),
    )


def certify_institution_keys(
    authority: Authority, code: str, name_en: str, pdf_public: rsa.RSAPublicKey,
    credential_public: ec.EllipticCurvePublicKey, now: datetime,
) -> tuple[x509.Certificate, x509.Certificate]:
    """The PDF-signing and credential certificates of an institution's two public keys
    (made here or in an HSM, `issuer.adapters.hsm`)."""
    _check_aware(now)
    if not code or not code.isalnum():
        raise ValueError(f"institution code must be alphanumeric: {code!r}")
    org = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name_en),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, code),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, code),
    ]
    pdf_cert = _end_entity(
        authority,
        x509.Name([*org, x509.NameAttribute(NameOID.COMMON_NAME, f"{name_en} PDF signing")]),
        pdf_public,
        _key_usage(non_repudiation=True),
        [ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING],
        now,
    )
    credential_cert = _end_entity(
        authority,
        x509.Name([*org, x509.NameAttribute(NameOID.COMMON_NAME, f"{name_en} credential")]),
        credential_public,
        _key_usage(non_repudiation=False),
        None,
        now,
    )
    return pdf_cert, credential_cert


def issue_audit_key(authority: Authority, now: datetime) -> AuditSigner:
    """Generate the audit-checkpoint signing key (P-256) and its certificate."""
    _check_aware(now)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _end_entity(
        authority,
        _name(AUDIT_NAME, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Audit log")),
        key.public_key(),
        _key_usage(non_repudiation=False),
        [AUDIT_SIGNING],
        now,
    )
    return AuditSigner(key, cert, (authority.issuing_cert, authority.root_cert))


# --- files ------------------------------------------------------------------------------


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` with mode 0600 (also when the file already existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def private_dir(path: Path) -> Path:
    """Make `path` (and missing parents) a directory only its owner can enter (0700)."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _inside(path: Path, directory: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(directory).resolve())


_write_private = write_private


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    _write_private(path, cert.public_bytes(serialization.Encoding.PEM))


def _write_key(
    path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, passphrase: bytes
) -> None:
    if not passphrase:
        raise ValueError("an empty passphrase would leave the key unencrypted")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    _write_private(path, pem)


def _read_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise PkiError(f"missing certificate {path}") from None
    except ValueError as exc:
        raise PkiError(f"not a PEM certificate: {path}: {exc}") from None


def _read_key(path: Path, passphrase: bytes) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PkiError(f"missing private key {path}") from None
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError):
        raise PkiError(f"cannot decrypt {path}: wrong passphrase or corrupt key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise PkiError(f"unexpected key type in {path}")
    return key


K = TypeVar("K", rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)
_KIND_NAMES = {rsa.RSAPrivateKey: "an RSA", ec.EllipticCurvePrivateKey: "an EC (ECDSA)"}


def key_of(cert: x509.Certificate, key: object, path: Path, kind: type[K]) -> K:
    """`key` (read from `path`, or found in an HSM token for it) if it is a `kind` key
    and belongs to `cert`; PkiError otherwise."""
    if not isinstance(key, kind):
        raise PkiError(f"{path} is not {_KIND_NAMES[kind]} key")
    if key.public_key() != cert.public_key():
        raise PkiError(f"{path} does not belong to its certificate")
    return key


def read_key_pair(key_path: Path, cert_path: Path, passphrase: bytes, kind: type[K]
                  ) -> tuple[K, x509.Certificate]:
    """A private key file (PEM, encrypted with `passphrase`) and its certificate, checked
    to belong together (`key_of`)."""
    cert = _read_cert(cert_path)
    return key_of(cert, _read_key(key_path, passphrase), key_path, kind), cert


def load_root(directory: Path) -> x509.Certificate:
    """The root certificate verifiers pin."""
    return _read_cert(Path(directory) / "root.crt")


def check_no_root_key(directory: Path) -> None:
    """Refuse an issuer key store holding the root CA's private key (made before the key
    ceremony): whoever read it could certify any key."""
    path = Path(directory) / ROOT_KEY
    if path.exists():
        raise PkiError(
            f"{path}: the root CA's private key must not be on the issuer host. Move it to "
            "offline media (transcripts keys move-root --to /media/OFFLINE), then keep that "
            "media away from this machine (keys/README.md, \"Upgrading\")")


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate, path: Path) -> None:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        raise PkiError(f"{path} is not certified by the root certificate beside it") from None


def load_authority(directory: Path, passphrase: bytes) -> Authority:
    """The issuing CA with its (decrypted) key, and the root certificate (never its key:
    a store holding `root.key` is refused, `check_no_root_key`)."""
    directory = Path(directory)
    check_no_root_key(directory)
    root_cert = _read_cert(directory / "root.crt")
    issuing_key, issuing_cert = read_key_pair(directory / "issuing.key",
                                              directory / "issuing.crt", passphrase,
                                              ec.EllipticCurvePrivateKey)
    _issued_by(issuing_cert, root_cert, directory / "issuing.crt")
    return Authority(root_cert, None, issuing_cert, issuing_key, read_service_url(directory))


def read_service_url(directory: Path) -> str | None:
    """The base URL of the PKI's online services recorded in the key store, if any."""
    try:
        return (Path(directory) / SERVICE_URL_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def write_dev_pki(
    directory: Path,
    institutions: Sequence[tuple[str, str]],
    passphrase: bytes,
    now: datetime,
    offline: Path | None = None,
    service_url: str | None = None,
    token: TokenConfig | None = None,
) -> None:
    """Create (or extend) the development PKI in `directory`, with the integrity key
    (`issuer.adapters.integrity`) and the audit signing key if there are none yet.

    With `service_url` (the base URL of `issuer.pki_services`), it is recorded in the key
    store, certificates issued from then on name its CRL distribution point and OCSP
    responder, and the services' own keys (TSA, OCSP responder) are made or renewed
    (`issuer.adapters.responders`).

    `institutions` are ``(code, English name)`` pairs. An existing CA is reused; an
    institution with keys already is left alone (they may have signed transcripts), and
    so is an existing audit key. A new institution gets generation 1
    (`issuer.adapters.keystore`), its keys made in the HSM `token` if given;
    `transcripts keys rotate` makes the next ones.
    Without a CA, the key ceremony runs into `offline` (development: ``var/ceremony/``)
    and its export is installed; with `offline` None the root's key is not kept at all
    (tests). The root's key is never written into `directory`.
    """
    directory = private_dir(Path(directory))
    check_no_root_key(directory)
    integrity.create_key_file(directory)
    present = [(directory / name).exists() for name in HOST_CA_FILES]
    if any(present) and not all(present):
        raise PkiError(f"{directory} holds part of a CA; remove it or restore the rest")
    if service_url:
        _write_private(directory / SERVICE_URL_FILE, service_url.rstrip("/").encode() + b"\n")
    if all(present):
        authority = load_authority(directory, passphrase)
    elif offline is not None:
        if _inside(offline, directory):
            raise PkiError(f"the ceremony's folder {offline} is inside the key store")
        from issuer.adapters.ceremony import ceremony, install_authority  # builds on this

        export = ceremony(offline, passphrase, passphrase, now, service_url)
        authority = install_authority(export, directory, passphrase)
    else:
        authority = generate_authority(now, service_url)
        assert authority.root_key is not None
        _write_key(directory / "issuing.key", authority.issuing_key, passphrase)
        _write_cert(directory / "issuing.crt", authority.issuing_cert)
        _write_cert(directory / "root.crt", authority.root_cert)
        if service_url:
            _write_private(directory / ROOT_CRL,
                           make_root_crl(authority.root_cert, authority.root_key, now))
    authority = replace(authority, service_url=read_service_url(directory))
    if service_url:
        from issuer.adapters.responders import write_service_keys  # builds on this module

        write_service_keys(directory, authority, passphrase, now)
    if not all((directory / name).exists() for name in AUDIT_FILES):
        audit = issue_audit_key(authority, now)
        _write_key(directory / "audit.key", audit.key, passphrase)
        _write_cert(directory / "audit.crt", audit.cert)
    from issuer.adapters import keystore  # it builds on this module

    with keystore.lock(directory):
        for code, name_en in institutions:
            if keystore.read_history(directory, code).generations:
                continue
            keys = keystore.issue_keys(authority, code, name_en, 1, now, token)
            keystore.add_first_generation(directory, code, keys, passphrase, now)


def load_credential_certificate(
    directory: Path, code: str
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The credential certificate `code` signs with now and its chain (issuing CA, root):
    public material only. Every generation's: `issuer.adapters.keystore.public_generations`."""
    from issuer.adapters import keystore  # it builds on this module

    history = keystore.read_history(directory, code)
    active = history.active()
    if active is None:
        raise PkiError(f"{code} has no active credential key in {directory}")
    folder = keystore.generation_dir(directory, code, active.number)
    chain = (_read_cert(Path(directory) / "issuing.crt"), _read_cert(Path(directory) / "root.crt"))
    return _read_cert(folder / "credential.crt"), chain


def load_institution_keys(directory: Path, code: str, passphrase: bytes,
                          token: TokenConfig | None = None) -> InstitutionKeys:
    """The keys `code` signs with now (its active generation, `issuer.adapters.keystore`;
    keys in an HSM through `token`); PkiError if a file is missing or locked, or the
    institution has no active key."""
    from issuer.adapters import keystore  # it builds on this module

    return keystore.load_active_keys(directory, code, passphrase, token)


def load_audit_signer(directory: Path, passphrase: bytes) -> AuditSigner:
    """The audit-checkpoint signing key; PkiError if missing (`transcripts keys create`
    adds it to a key store made before it existed) or locked."""
    directory = Path(directory)
    key, cert = read_key_pair(directory / "audit.key", directory / "audit.crt", passphrase,
                              ec.EllipticCurvePrivateKey)
    chain = (_read_cert(directory / "issuing.crt"), _read_cert(directory / "root.crt"))
    return AuditSigner(key, cert, chain)
