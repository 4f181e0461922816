"""PAdES levels end to end: the PKI's own services, signing at each level, and the
verifier's long-term verdict now, after the certificates expire, and after revocation.

The services run live on 127.0.0.1 (`tests.livepki`); expiry is reached by judging at a
later moment (the verifier's `moment`, `transcripts verify --at`), never by sleeping.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import cms, core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation.dss import DocumentSecurityStore

from issuer.adapters.pdf_archive import refresh
from issuer.adapters.pdf_signing import (
    PadesLevel,
    TranscriptSigner,
    close_timestamper,
    http_timestamper,
)
from issuer.adapters.pki import Authority, InstitutionKeys, load_authority
from issuer.adapters.responders import CRL_VALIDITY, TSA_POLICY
from issuer.pipeline import IssuedDocument
from tests.factories import school_record
from tests.livepki import PASSPHRASE, LivePki, live_pki
from tests.pdfcheck import make_tsa, pdfsig_report, pyhanko_validate, sample_pdf
from verifier.core.verdict import Result, Status, decide
from verifier.pdf import check_pdf
from verifier.trust import TrustStore

LEVELS = [level.value for level in PadesLevel]


def fetch(url: str, body: bytes | None = None, kind: str = "") -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": kind} if kind
                                     else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def problems(checks: tuple) -> list[tuple[str, str, str]]:
    return [(c.id, c.status.value, c.message_en) for c in checks if c.status is not Status.PASS]


def statuses(checks: tuple) -> dict[str, Status]:
    return {c.id: c.status for c in checks}


def message(checks: tuple, cid: str) -> str:
    return next(c.message_en for c in checks if c.id == cid)


@pytest.fixture(scope="module")
def issued(pki_services: LivePki) -> dict[str, IssuedDocument]:
    """One transcript at each level, issued now by the live PKI's school."""
    record = school_record(issued_at=datetime.now(UTC).replace(microsecond=0))
    found = {}
    for level in LEVELS:
        producer = pki_services.producer(level)
        found[level] = producer.produce(record)
        producer.close()
    return found


def judge(pdf: bytes, trust: TrustStore, moment: datetime | None = None):
    findings = check_pdf(pdf, trust, moment=moment)
    return decide(findings.checks), findings.checks


# --- the services -------------------------------------------------------------------------


def test_the_crl_is_signed_by_the_issuing_ca_with_an_honest_next_update(
        pki_services: LivePki) -> None:
    keys = pki_services.keys()
    point = keys.pdf_cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    url = point.value[0].full_name[0].value
    assert url == f"{pki_services.url}/crl/issuing.crl"
    crl = x509.load_der_x509_crl(fetch(url))
    issuing = keys.chain[0]
    assert crl.issuer == issuing.subject and crl.is_signature_valid(issuing.public_key())
    assert crl.next_update_utc - crl.last_update_utc == CRL_VALIDITY
    assert crl.last_update_utc <= datetime.now(UTC) < crl.next_update_utc
    root_crl = x509.load_der_x509_crl(fetch(f"{pki_services.url}/crl/root.crl"))
    assert root_crl.is_signature_valid(pki_services.root.public_key())


def _ocsp_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    return ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build(
    ).public_bytes(serialization.Encoding.DER)


def test_the_ocsp_responder_answers_with_its_own_delegated_certificate(
        pki_services: LivePki) -> None:
    keys = pki_services.keys()
    aia = keys.pdf_cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    url = aia.value[0].access_location.value
    answer = ocsp.load_der_ocsp_response(fetch(url, _ocsp_request(keys.pdf_cert, keys.chain[0]),
                                               "application/ocsp-request"))
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == keys.pdf_cert.serial_number
    responder = answer.certificates[0]
    responder.verify_directly_issued_by(keys.chain[0])
    eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    # a certificate this CA never issued: the responder knows nothing of it
    stranger = make_tsa(load_authority(pki_services.keys_dir, PASSPHRASE)).tsa_cert
    foreign = x509.load_der_x509_certificate(stranger.dump())
    refused = ocsp.load_der_ocsp_response(fetch(url, _ocsp_request(foreign, keys.chain[0]),
                                                "application/ocsp-request"))
    assert refused.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_the_tsa_grants_rfc3161_tokens_from_a_timestamping_only_certificate(
        pki_services: LivePki) -> None:
    request = tsp.TimeStampReq({
        "version": "v1", "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                                             "hashed_message": bytes(32)},
        "nonce": 12345, "cert_req": True})
    reply = tsp.TimeStampResp.load(fetch(pki_services.tsa_url, request.dump(),
                                         "application/timestamp-query"))
    assert reply["status"]["status"].native == "granted"
    signed = reply["time_stamp_token"]["content"]
    info = tsp.TSTInfo.load(signed["encap_content_info"]["content"].parsed.dump())
    assert info["nonce"].native == 12345 and info["policy"].dotted == TSA_POLICY
    cert = x509.load_der_x509_certificate(signed["certificates"][0].chosen.dump())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert cert.issuer == pki_services.root.subject  # outlives the issuing CA
    bad = tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": {"algorithm": "sha1"}, "hashed_message": bytes(20)}})
    raw = fetch(pki_services.tsa_url, bad.dump(), "application/timestamp-query")
    rejected = tsp.PKIStatusInfo.load(core.Sequence.load(raw)[0].dump())  # status only
    assert rejected["status"].native == "rejection"
    assert rejected["fail_info"].native == {"bad_alg"}
    assert isinstance(signed, cms.SignedData)


def test_a_revocation_reaches_the_crl_and_ocsp_at_once(tmp_path: Path) -> None:
    with live_pki(tmp_path / "keys") as pki:
        keys = pki.keys()
        before = x509.load_der_x509_crl(fetch(f"{pki.url}/crl/issuing.crl"))
        assert before.get_revoked_certificate_by_serial_number(keys.pdf_cert.serial_number) \
            is None
        since = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        pki.compromise("1001", since)
        after = x509.load_der_x509_crl(fetch(f"{pki.url}/crl/issuing.crl"))
        entry = after.get_revoked_certificate_by_serial_number(keys.pdf_cert.serial_number)
        assert entry is not None and entry.revocation_date_utc == since
        assert after.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > \
            before.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        answer = ocsp.load_der_ocsp_response(fetch(
            f"{pki.url}/ocsp", _ocsp_request(keys.credential_cert, keys.chain[0]),
            "application/ocsp-request"))
        assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert answer.revocation_time_utc == since


# --- signing at each level ----------------------------------------------------------------


def test_each_level_is_what_the_verifier_finds(issued: dict[str, IssuedDocument],
                                               pki_services: LivePki) -> None:
    trust = pki_services.trust()
    for level, doc in issued.items():
        verdict, checks = judge(doc.pdf, trust)
        assert verdict.result is Result.VALID, (level, checks)
        assert f"PAdES level {level}" in message(checks, "pades_level")
        proven = statuses(checks)["signing_time"]
        assert proven is (Status.WARN if level == "B-B" else Status.PASS), level
        assert statuses(checks)["long_term_validity"] is Status.PASS


def test_b_lta_holds_validation_data_for_the_whole_chain_and_a_document_timestamp(
        issued: dict[str, IssuedDocument], pki_services: LivePki) -> None:
    pdf = issued["B-LTA"].pdf
    status = pyhanko_validate(pdf, pki_services.root)
    assert status.intact and status.valid and status.trusted
    assert status.modification_level is ModificationLevel.LTA_UPDATES  # DSS + timestamp
    assert status.docmdp_ok and status.timestamp_validity.trusted
    reader = PdfFileReader(BytesIO(pdf))
    dss = DocumentSecurityStore.read_dss(reader)
    assert len(dss.ocsps) == 1  # the signer's, from our responder
    assert len(dss.crls) == 1  # the root's: the issuing CA and the TSA
    assert len(reader.embedded_timestamp_signatures) == 1


def test_pdfsig_says_a_b_lta_signature_is_valid(issued: dict[str, IssuedDocument],
                                                pki_services: LivePki,
                                                tmp_path: Path) -> None:
    report = pdfsig_report(issued["B-LTA"].pdf, pki_services.root, tmp_path)
    first = report.split("Signature #2")[0]
    assert "Signature is Valid" in first and "Certificate is Trusted" in first, report
    assert "Total document signed" not in first  # the DSS and timestamp revisions follow


def test_revocation_data_is_fetched_once_per_signer_not_per_transcript(
        pki_services: LivePki) -> None:
    producer = pki_services.producer("B-LTA")
    before = {path: pki_services.count(path) for path in ("/ocsp", "/crl/root.crl", "/tsa")}
    for n in range(3):
        producer.produce(school_record(transcript_id=f"1001-2569-0009{n}"))
    producer.close()
    assert pki_services.count("/ocsp") - before["/ocsp"] == 1
    assert pki_services.count("/crl/root.crl") - before["/crl/root.crl"] == 1
    assert pki_services.count("/tsa") - before["/tsa"] == 3 * 2 + 1  # + one size estimate


def test_a_level_above_b_b_needs_a_timestamp_authority(pki_services: LivePki) -> None:
    with pytest.raises(ValueError, match="time-stamping authority"):
        TranscriptSigner(pki_services.keys(), level=PadesLevel.B_LTA)


def test_b_lt_refuses_certificates_that_name_no_revocation_service(
        school_keys: InstitutionKeys, authority: Authority) -> None:
    """A key store made before the services: its documents could never be validated in
    the long term, so they are not issued as if they could."""
    with pytest.raises(ValueError, match="name their CRL or OCSP service"):
        TranscriptSigner(school_keys, level=PadesLevel.B_LTA, timestamper=make_tsa(authority))
    assert TranscriptSigner(school_keys, level=PadesLevel.B_T,
                            timestamper=make_tsa(authority)).level is PadesLevel.B_T


def test_signing_refuses_a_certificate_its_responder_says_is_revoked(tmp_path: Path) -> None:
    with live_pki(tmp_path / "keys") as pki:
        keys = pki.keys()
        pki.compromise("1001", datetime.now(UTC) - timedelta(hours=1))
        signer = TranscriptSigner(keys, level=PadesLevel.B_LT,
                                  timestamper=http_timestamper(pki.tsa_url))
        try:
            with pytest.raises(SigningError, match="could not be validated"):
                signer.sign(sample_pdf())
        finally:
            signer.close()


# --- the verdict after expiry, revocation, a TSA's end ------------------------------------


def test_b_lta_stays_valid_after_the_signer_expires_and_in_2040(
        issued: dict[str, IssuedDocument], pki_services: LivePki) -> None:
    trust = pki_services.trust()
    expiry = pki_services.keys().pdf_cert.not_valid_after_utc
    for moment in (expiry + timedelta(days=1), datetime(2040, 6, 1, tzinfo=UTC)):
        verdict, checks = judge(issued["B-LTA"].pdf, trust, moment)
        assert verdict.result is Result.VALID, (moment, checks)
        assert statuses(checks)["long_term_validity"] is Status.PASS


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_below_b_lta_a_transcript_is_indeterminate_once_its_signer_expired(
        issued: dict[str, IssuedDocument], pki_services: LivePki, level: str) -> None:
    trust = pki_services.trust()
    expiry = pki_services.keys().pdf_cert.not_valid_after_utc
    verdict, checks = judge(issued[level].pdf, trust, expiry + timedelta(days=1))
    assert verdict.result is Result.INDETERMINATE
    assert statuses(checks)["long_term_validity"] is Status.INDETERMINATE
    assert f"expired on {expiry:%Y-%m-%d}" in message(checks, "long_term_validity")
    still, _ = judge(issued[level].pdf, trust, expiry - timedelta(days=1))
    assert still.result is Result.VALID


@pytest.fixture
def compromised_pki(tmp_path: Path) -> Iterator[tuple[LivePki, IssuedDocument]]:
    with live_pki(tmp_path / "keys") as pki:
        producer = pki.producer("B-LTA")
        doc = producer.produce(school_record(issued_at=datetime.now(UTC)))
        producer.close()
        yield pki, doc


def refreshed_by(pki: LivePki, pdf: bytes) -> bytes:
    """`pdf` with fresh validation data and a document timestamp from `pki`'s TSA."""
    timestamper = http_timestamper(pki.tsa_url)
    try:
        return refresh(pdf, pki.root, timestamper)
    finally:
        close_timestamper(timestamper)


def _signature_time(pdf: bytes, pki: LivePki) -> datetime:
    status = pyhanko_validate(pdf, pki.root)
    return status.timestamp_validity.timestamp


def test_revoked_after_the_proven_signing_time_stays_valid(
        compromised_pki: tuple[LivePki, IssuedDocument]) -> None:
    pki, doc = compromised_pki
    # responders give times to the second: the compromise is 2 s after the timestamp,
    # and the responders' clock then runs an hour ahead (no sleeping)
    since = _signature_time(doc.pdf, pki).replace(microsecond=0) + timedelta(seconds=2)
    pki.compromise("1001", since)
    pki.advance(timedelta(hours=1))
    refreshed = refreshed_by(pki, doc.pdf)
    verdict, checks = judge(refreshed, pki.trust(), datetime.now(UTC) + timedelta(hours=2))
    assert verdict.result is Result.VALID, problems(checks)
    assert statuses(checks)["pdf_unmodified"] is Status.PASS  # DSS + timestamp accepted
    said = message(checks, "long_term_validity")
    assert f"revoked on {since:%Y-%m-%d %H:%M}" in said and "after the proven" in said


def test_revoked_before_the_proven_signing_time_is_not_valid(
        compromised_pki: tuple[LivePki, IssuedDocument]) -> None:
    pki, doc = compromised_pki
    pki.compromise("1001", _signature_time(doc.pdf, pki) - timedelta(hours=1))
    refreshed = refreshed_by(pki, doc.pdf)
    verdict, checks = judge(refreshed, pki.trust())
    assert verdict.result is not Result.VALID
    assert statuses(checks)["long_term_validity"] is Status.FAIL, problems(checks)
    assert "revoked" in message(checks, "long_term_validity")


def test_a_tsa_near_expiry_needs_a_fresh_document_timestamp(tmp_path: Path) -> None:
    with live_pki(tmp_path / "keys", tsa_lifetime=timedelta(minutes=10)) as pki:
        producer = pki.producer("B-LTA")
        doc = producer.produce(school_record(issued_at=datetime.now(UTC)))
        producer.close()
        trust = pki.trust()
        later = datetime.now(UTC) + timedelta(days=1)  # the TSA's certificate has ended
        now, checks = judge(doc.pdf, trust)
        assert now.result is Result.VALID, problems(checks)
        stale, checks = judge(doc.pdf, trust, later)
        assert stale.result is Result.INDETERMINATE, problems(checks)
        longer = make_tsa(load_authority(pki.keys_dir, PASSPHRASE),
                          datetime.now(UTC) - timedelta(minutes=5))
        refreshed = refresh(doc.pdf, pki.root, longer)
        verdict, checks = judge(refreshed, trust, later)
        assert verdict.result is Result.VALID, problems(checks)
        assert len(PdfFileReader(BytesIO(refreshed)).embedded_timestamp_signatures) == 2
