"""Development PKI: chain, extensions, encrypted key files."""

from __future__ import annotations

import asyncio
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from issuer.adapters.pki import (
    AUDIT_SIGNING,
    DOCUMENT_SIGNING,
    Authority,
    InstitutionKeys,
    PkiError,
    generate_authority,
    issue_institution_keys,
    load_audit_signer,
    load_institution_keys,
    load_root,
    write_dev_pki,
)
from tests.conftest import PKI_NOW
from verifier.core.credential import kid_for

PASS = b"correct horse battery staple"


def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def validate(
    cert: x509.Certificate,
    chain: tuple[x509.Certificate, ...],
    root: x509.Certificate,
    key_usage: set[str],
    eku: set[str] | None = None,
    moment: datetime = PKI_NOW + timedelta(days=1),
) -> None:
    context = ValidationContext(trust_roots=[asn1(root)], allow_fetching=False, moment=moment)
    validator = CertificateValidator(
        asn1(cert), intermediate_certs=[asn1(c) for c in chain], validation_context=context
    )
    asyncio.run(validator.async_validate_usage(key_usage, extended_key_usage=eku))


def ext(cert: x509.Certificate, kind: type) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)


# --- chain ------------------------------------------------------------------------------


def test_pdf_certificate_chains_to_the_root(school_keys: InstitutionKeys) -> None:
    root = school_keys.chain[-1]
    validate(
        school_keys.pdf_cert,
        school_keys.chain,
        root,
        {"digital_signature", "non_repudiation"},
        {"email_protection"},
    )


def test_credential_certificate_chains_to_the_root(vocational_keys: InstitutionKeys) -> None:
    validate(
        vocational_keys.credential_cert,
        vocational_keys.chain,
        vocational_keys.chain[-1],
        {"digital_signature"},
    )


def test_signatures_link_each_certificate_to_its_issuer(
    authority: Authority, school_keys: InstitutionKeys
) -> None:
    issuing, root = school_keys.chain
    assert (issuing, root) == (authority.issuing_cert, authority.root_cert)
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    school_keys.pdf_cert.verify_directly_issued_by(issuing)
    school_keys.credential_cert.verify_directly_issued_by(issuing)
    with pytest.raises((ValueError, TypeError)):
        school_keys.pdf_cert.verify_directly_issued_by(root)


def test_other_root_does_not_validate(school_keys: InstitutionKeys) -> None:
    stranger = generate_authority(PKI_NOW)
    with pytest.raises((PathBuildingError, PathValidationError)):
        validate(
            school_keys.pdf_cert,
            school_keys.chain,
            stranger.root_cert,
            {"digital_signature"},
        )


def test_certificate_not_valid_after_it_expires(school_keys: InstitutionKeys) -> None:
    after = school_keys.pdf_cert.not_valid_after_utc + timedelta(days=1)
    with pytest.raises(PathValidationError):
        validate(
            school_keys.pdf_cert, school_keys.chain, school_keys.chain[-1], set(), moment=after
        )


# --- extensions -------------------------------------------------------------------------


def test_root_ca(authority: Authority) -> None:
    root = authority.root_cert
    assert root.subject == root.issuer
    bc = ext(root, x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 1
    ku = ext(root, x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    lifetime = root.not_valid_after_utc - root.not_valid_before_utc
    assert timedelta(days=20 * 365) <= lifetime <= timedelta(days=20 * 366)


def test_issuing_ca(authority: Authority) -> None:
    issuing = authority.issuing_cert
    assert issuing.issuer == authority.root_cert.subject
    bc = ext(issuing, x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    assert ext(issuing, x509.KeyUsage).value.key_cert_sign
    aki = ext(issuing, x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == ext(authority.root_cert, x509.SubjectKeyIdentifier).value.digest


def test_pdf_signing_certificate(school_keys: InstitutionKeys) -> None:
    cert = school_keys.pdf_cert
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 3072
    assert isinstance(school_keys.pdf_key, rsa.RSAPrivateKey)
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature and ku.value.content_commitment
    assert not (ku.value.key_encipherment or ku.value.key_cert_sign or ku.value.crl_sign)
    eku = ext(cert, x509.ExtendedKeyUsage)
    assert set(eku.value) == {ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING}
    assert not ext(cert, x509.BasicConstraints).value.ca


def test_pdf_signing_subject_names_the_institution(school_keys: InstitutionKeys) -> None:
    subject = school_keys.pdf_cert.subject

    def one(oid: x509.ObjectIdentifier) -> str | bytes:
        (attribute,) = subject.get_attributes_for_oid(oid)
        return attribute.value

    assert one(NameOID.ORGANIZATION_NAME) == "Wat Sutthiwararam School"
    assert one(NameOID.COMMON_NAME) == "Wat Sutthiwararam School PDF signing"
    assert one(NameOID.SERIAL_NUMBER) == "1001"
    assert one(NameOID.ORGANIZATIONAL_UNIT_NAME) == "1001"


def test_credential_certificate(school_keys: InstitutionKeys) -> None:
    cert = school_keys.credential_cert
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.content_commitment
    assert school_keys.kid == kid_for(key)
    assert len(school_keys.kid) == 11


def test_keys_match_and_differ_per_institution(
    school_keys: InstitutionKeys, vocational_keys: InstitutionKeys
) -> None:
    assert school_keys.pdf_key.public_key() == school_keys.pdf_cert.public_key()
    assert school_keys.credential_key.public_key() == school_keys.credential_cert.public_key()
    assert school_keys.kid != vocational_keys.kid
    assert school_keys.pdf_cert.serial_number != vocational_keys.pdf_cert.serial_number


def test_validity_starts_at_now(school_keys: InstitutionKeys) -> None:
    cert = school_keys.pdf_cert
    assert PKI_NOW - timedelta(hours=1) <= cert.not_valid_before_utc <= PKI_NOW
    assert cert.not_valid_after_utc <= school_keys.chain[0].not_valid_after_utc


def test_naive_time_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate_authority(datetime(2026, 1, 1))


def test_bad_institution_code_refused(authority: Authority) -> None:
    with pytest.raises(ValueError, match="code"):
        issue_institution_keys(authority, "../x", "Evil", PKI_NOW)


# --- files ------------------------------------------------------------------------------

INSTITUTIONS = [("1001", "Wat Sutthiwararam School")]


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    write_dev_pki(directory, INSTITUTIONS, PASS, PKI_NOW)
    return directory


def test_files_written_private(pki_dir: Path) -> None:
    expected = {
        "root.crt",
        "issuing.crt",
        "issuing.key",
        "1001/generations.json",
        ".keys.lock",
        "1001/1/pdf.crt",
        "1001/1/pdf.key",
        "1001/1/credential.crt",
        "1001/1/credential.key",
        "integrity.key",
        "audit.crt",
        "audit.key",
    }
    files = {str(p.relative_to(pki_dir)) for p in pki_dir.rglob("*") if p.is_file()}
    assert files == expected
    for name in expected:
        assert stat.S_IMODE((pki_dir / name).stat().st_mode) == 0o600, name


def test_round_trip(pki_dir: Path) -> None:
    keys = load_institution_keys(pki_dir, "1001", PASS)
    assert keys.code == "1001"
    assert keys.chain == (
        x509.load_pem_x509_certificate((pki_dir / "issuing.crt").read_bytes()),
        load_root(pki_dir),
    )
    assert keys.pdf_key.public_key() == keys.pdf_cert.public_key()
    assert keys.credential_key.public_key() == keys.credential_cert.public_key()
    validate(keys.pdf_cert, keys.chain, load_root(pki_dir), {"non_repudiation"})


@pytest.mark.parametrize("name", ["issuing.key", "1001/1/pdf.key",
                                  "1001/1/credential.key"])
def test_key_files_are_encrypted(pki_dir: Path, name: str) -> None:
    pem = (pki_dir / name).read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):  # "Password was not given but private key is encrypted"
        serialization.load_pem_private_key(pem, password=None)
    assert serialization.load_pem_private_key(pem, password=PASS) is not None


@pytest.mark.parametrize(("swap", "problem"), [
    ({"pdf.key": "credential.key"}, r"pdf\.key is not an RSA key"),
    ({"credential.key": "pdf.key"}, r"credential\.key is not an EC \(ECDSA\) key"),
])
def test_a_key_that_is_not_its_certificates_is_refused(pki_dir: Path, tmp_path: Path,
                                                       swap: dict[str, str],
                                                       problem: str) -> None:
    """Every key the service loads (institutions', CA's, audit's, TSA's, OCSP's) goes
    through one check (`pki.key_of`): the right kind, and its certificate's key."""
    copy = tmp_path / "keys"
    shutil.copytree(pki_dir, copy)
    for name, other in swap.items():
        (copy / "1001" / "1" / name).write_bytes((copy / "1001" / "1" / other).read_bytes())
    with pytest.raises(PkiError, match=problem):
        load_institution_keys(copy, "1001", PASS)
    other = tmp_path / "other"
    write_dev_pki(other, INSTITUTIONS, PASS, PKI_NOW)
    (copy / "audit.key").write_bytes((other / "audit.key").read_bytes())
    with pytest.raises(PkiError, match=r"audit\.key does not belong to its certificate"):
        load_audit_signer(copy, PASS)


def test_wrong_passphrase_is_a_clear_error(pki_dir: Path) -> None:
    with pytest.raises(PkiError, match=r"pdf\.key.*wrong passphrase"):
        load_institution_keys(pki_dir, "1001", b"not the passphrase")


def test_missing_institution_is_a_clear_error(pki_dir: Path) -> None:
    with pytest.raises(PkiError, match="missing"):
        load_institution_keys(pki_dir, "9999", PASS)


def test_adding_an_institution_reuses_the_ca(tmp_path: Path) -> None:
    write_dev_pki(tmp_path, INSTITUTIONS, PASS, PKI_NOW)
    root_before = (tmp_path / "root.crt").read_bytes()
    pdf_before = (tmp_path / "1001" / "1" / "pdf.crt").read_bytes()
    write_dev_pki(tmp_path, [*INSTITUTIONS, ("2001", "BMA Vocational Centre")], PASS, PKI_NOW)
    assert (tmp_path / "root.crt").read_bytes() == root_before
    assert (tmp_path / "1001" / "1" / "pdf.crt").read_bytes() == pdf_before  # key kept
    new = load_institution_keys(tmp_path, "2001", PASS)
    validate(new.pdf_cert, new.chain, load_root(tmp_path), {"digital_signature"})


def test_the_audit_key_signs_checkpoints_and_nothing_else(pki_dir: Path) -> None:
    signer = load_audit_signer(pki_dir, PASS)
    validate(signer.cert, signer.chain, load_root(pki_dir), {"digital_signature"},
             {AUDIT_SIGNING.dotted_string})
    usage = ext(signer.cert, x509.ExtendedKeyUsage).value
    assert list(usage) == [AUDIT_SIGNING]
    assert isinstance(signer.key, ec.EllipticCurvePrivateKey)
    assert isinstance(signer.key.curve, ec.SECP256R1)
    assert not ext(signer.cert, x509.BasicConstraints).value.ca
    with pytest.raises(PkiError, match="cannot decrypt"):
        load_audit_signer(pki_dir, b"wrong")


def test_a_key_store_without_the_audit_key_gets_it(tmp_path: Path) -> None:
    write_dev_pki(tmp_path, INSTITUTIONS, PASS, PKI_NOW)
    before = {name: (tmp_path / name).read_bytes()
              for name in ("root.crt", "1001/1/credential.crt", "integrity.key")}
    for name in ("audit.crt", "audit.key"):
        (tmp_path / name).unlink()
    with pytest.raises(PkiError, match="missing"):
        load_audit_signer(tmp_path, PASS)
    write_dev_pki(tmp_path, INSTITUTIONS, PASS, PKI_NOW)
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    signer = load_audit_signer(tmp_path, PASS)
    assert signer.chain[-1] == load_root(tmp_path)
    kept = (tmp_path / "audit.crt").read_bytes()
    write_dev_pki(tmp_path, INSTITUTIONS, PASS, PKI_NOW)  # an existing audit key is kept
    assert (tmp_path / "audit.crt").read_bytes() == kept


def test_partial_ca_is_refused(tmp_path: Path) -> None:
    write_dev_pki(tmp_path, [], PASS, PKI_NOW)
    (tmp_path / "issuing.key").unlink()
    with pytest.raises(PkiError, match="part of a CA"):
        write_dev_pki(tmp_path, INSTITUTIONS, PASS, PKI_NOW)


def test_empty_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="passphrase"):
        write_dev_pki(tmp_path, INSTITUTIONS, b"", PKI_NOW)


def test_real_clock_is_not_read(authority: Authority) -> None:
    """Certificates follow the `now` passed in, not the wall clock."""
    past = datetime(2001, 2, 3, 12, tzinfo=UTC)
    keys = issue_institution_keys(authority, "3001", "Old School", past)
    assert keys.pdf_cert.not_valid_before_utc.date() == past.date()
