"""The BMA PKI's online services as functions: CRL, OCSP responses, RFC 3161 timestamps.

Each takes the signing material, the request and `now`, and returns DER bytes; the HTTP
side is `issuer.pki_services`. Their keys and certificates (`ServiceKeys`):

- the **CRL** is signed by the issuing CA itself (RFC 5280: the CRL issuer is the CA),
  with a CRL number and an honest nextUpdate: the service issues a new one before it;
- the **OCSP responder** signs with a delegated certificate from the issuing CA
  (id-kp-OCSPSigning, and id-pkix-ocsp-nocheck so that clients do not ask about the
  responder's own status, RFC 6960 4.2.2.2.1);
- the **TSA** signs with its own RSA key (RSA, so that NSS/pdfsig and every PDF reader
  accept its tokens) and a certificate whose extended key usage is timeStamping only,
  critical (RFC 3161 2.3). It is certified by the root CA where the root's key is at
  hand (the key ceremony, or a PKI made in memory for tests), so that its tokens outlive
  the issuing CA; a key store made before it gets one from the issuing CA.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from issuer.adapters.pki import (
    BACKDATE,
    RSA_BITS,
    Authority,
    PkiError,
    _aki,
    _end_entity,
    _key_usage,
    _name,
    _read_cert,
    _write_cert,
    _write_key,
    _years,
    read_key_pair,
    root_crl_pointer,
)

TSA_YEARS = 15
"""A B-LTA document stays verifiable as long as its last timestamp's certificate (then
`transcripts archive refresh` adds a new one): beyond an issuing CA's ten years."""
OCSP_RESPONDER_YEARS = 1
RENEW_BEFORE = timedelta(days=30)
"""`transcripts keys create` replaces a service certificate this close to its expiry."""
CRL_VALIDITY = timedelta(days=7)
"""nextUpdate of a CRL; the service issues a new one after `CRL_REFRESH`, long before."""
CRL_REFRESH = timedelta(hours=1)
OCSP_VALIDITY = timedelta(days=1)
"""nextUpdate of an OCSP response (signers reuse one response for a whole batch)."""
TSA_POLICY = "2.25.18522163207127965918053645341189878152"
"""The TSA's policy OID (TSTInfo.policy), under the UUID arc like the audit purpose."""
TSA_NAME = "BMA Time-Stamping Authority (development)"
OCSP_NAME = "BMA Issuing CA OCSP responder (development)"
TSA_FILES = ("tsa.crt", "tsa.key")
OCSP_FILES = ("ocsp.crt", "ocsp.key")


@dataclass(frozen=True)
class ServiceKeys:
    """What the online services sign with."""

    authority: Authority
    """The issuing CA (it signs the CRL) and the root certificate."""
    tsa_key: rsa.RSAPrivateKey
    tsa_cert: x509.Certificate
    ocsp_key: ec.EllipticCurvePrivateKey
    ocsp_cert: x509.Certificate

    @property
    def tsa_chain(self) -> tuple[x509.Certificate, ...]:
        """The TSA's certificate with the CA certificates above it (root excepted)."""
        if self.tsa_cert.issuer == self.authority.root_cert.subject:
            return (self.tsa_cert,)
        return (self.tsa_cert, self.authority.issuing_cert)


# --- the services' certificates -----------------------------------------------------------


def issue_tsa(authority: Authority, now: datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The TSA's RSA-3072 key and certificate (EKU timeStamping, critical): from the root
    CA when `authority` holds its key, else from the issuing CA."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    usage = _key_usage(non_repudiation=True)
    eku = [ExtendedKeyUsageOID.TIME_STAMPING]
    subject = _name(TSA_NAME, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "TSA"))
    if authority.root_key is None:
        return key, _end_entity(authority, subject, key.public_key(), usage, eku, now,
                                years=TSA_YEARS, eku_critical=True)
    root = authority.root_cert
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(_years(now, TSA_YEARS), root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(eku), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(_aki(root), critical=False)
    )
    if authority.service_url:
        builder = builder.add_extension(root_crl_pointer(authority.service_url), critical=False)
    return key, builder.sign(authority.root_key, hashes.SHA384())


def issue_ocsp_responder(authority: Authority, now: datetime
                         ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The OCSP responder's P-256 key and its delegated certificate from the issuing CA
    (id-kp-OCSPSigning, ocsp-nocheck, no revocation pointers of its own)."""
    key = ec.generate_private_key(ec.SECP256R1())
    plain = Authority(authority.root_cert, authority.root_key, authority.issuing_cert,
                      authority.issuing_key)  # no CRL/OCSP pointers: nocheck
    cert = _end_entity(
        plain, _name(OCSP_NAME, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "OCSP")),
        key.public_key(), _key_usage(non_repudiation=False), [ExtendedKeyUsageOID.OCSP_SIGNING],
        now, years=OCSP_RESPONDER_YEARS, extra=[x509.OCSPNoCheck()])
    return key, cert


def _fresh(directory: Path, names: tuple[str, str], now: datetime) -> bool:
    try:
        cert = _read_cert(directory / names[0])
    except PkiError:
        return False
    return (directory / names[1]).exists() and cert.not_valid_after_utc - RENEW_BEFORE > now


def write_service_keys(directory: Path, authority: Authority, passphrase: bytes,
                       now: datetime) -> None:
    """Make the TSA's and the OCSP responder's keys in the key store if missing or near
    their certificate's expiry (a replaced TSA key leaves earlier tokens valid: each
    carries its certificate, and documents carry the revocation data)."""
    directory = Path(directory)
    if not _fresh(directory, TSA_FILES, now):
        key, cert = issue_tsa(authority, now)
        _write_key(directory / "tsa.key", key, passphrase)
        _write_cert(directory / "tsa.crt", cert)
    if not _fresh(directory, OCSP_FILES, now):
        ocsp_key, ocsp_cert = issue_ocsp_responder(authority, now)
        _write_key(directory / "ocsp.key", ocsp_key, passphrase)
        _write_cert(directory / "ocsp.crt", ocsp_cert)


def load_service_keys(directory: Path, authority: Authority, passphrase: bytes) -> ServiceKeys:
    """The services' keys from the key store; PkiError if missing (`transcripts keys
    create` makes them) or locked."""
    directory = Path(directory)
    tsa_key, tsa_cert = read_key_pair(directory / "tsa.key", directory / "tsa.crt",
                                      passphrase, rsa.RSAPrivateKey)
    ocsp_key, ocsp_cert = read_key_pair(directory / "ocsp.key", directory / "ocsp.crt",
                                        passphrase, ec.EllipticCurvePrivateKey)
    return ServiceKeys(authority, tsa_key, tsa_cert, ocsp_key, ocsp_cert)


# --- CRL ----------------------------------------------------------------------------------


def make_crl(authority: Authority, revoked: Mapping[int, datetime], number: int,
             now: datetime) -> bytes:
    """The issuing CA's CRL (DER): thisUpdate `now`, nextUpdate `now` + `CRL_VALIDITY`.
    `revoked`: serial -> since when its key is held compromised, which is the entry's
    revocation date (what it signed before stays valid where a timestamp proves it) and
    its invalidityDate; the reason is keyCompromise."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.issuing_cert.subject)
        .last_update(now)
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_aki(authority.issuing_cert), critical=False)
    )
    for serial, since in sorted(revoked.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(since)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .add_extension(x509.InvalidityDate(since.astimezone(UTC).replace(tzinfo=None)),
                           critical=False)
            .build())
    return builder.sign(authority.issuing_key, hashes.SHA384()).public_bytes(
        serialization.Encoding.DER)


# --- OCSP ---------------------------------------------------------------------------------


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER)


def ocsp_response(request_der: bytes, keys: ServiceKeys, issued: Mapping[int, x509.Certificate],
                  revoked: Mapping[int, datetime], now: datetime) -> bytes:
    """Answer an OCSP request (DER) for one certificate of the issuing CA.

    `issued`: every certificate the CA issued, by serial; another serial, or another
    CA's, is answered ``unauthorized`` (RFC 6960 2.3: this responder knows nothing of
    it). A revoked one carries the time its key was compromised since: what it signed
    before stays valid where a timestamp proves it.
    """
    try:
        request = ocsp.load_der_ocsp_request(request_der)
    except ValueError:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    ca = keys.authority.issuing_cert
    algorithm = request.hash_algorithm
    ca_key_der = ca.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    spki = asn1_x509.PublicKeyInfo.load(ca_key_der)
    name_hash = hashlib.new(algorithm.name, ca.subject.public_bytes()).digest()
    key_hash = hashlib.new(algorithm.name, spki["public_key"].contents[1:]).digest()
    cert = issued.get(request.serial_number)
    if (request.issuer_name_hash != name_hash or request.issuer_key_hash != key_hash
            or cert is None):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    since = revoked.get(request.serial_number)
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert, issuer=ca, algorithm=algorithm,
        cert_status=ocsp.OCSPCertStatus.REVOKED if since else ocsp.OCSPCertStatus.GOOD,
        this_update=now, next_update=now + OCSP_VALIDITY,
        revocation_time=since,
        revocation_reason=x509.ReasonFlags.key_compromise if since else None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, keys.ocsp_cert).certificates(
        [keys.ocsp_cert])
    for extension in request.extensions:
        if isinstance(extension.value, x509.OCSPNonce):
            builder = builder.add_extension(extension.value, critical=False)
    response = builder.sign(keys.ocsp_key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


# --- RFC 3161 -----------------------------------------------------------------------------


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _attribute(kind: str, value: object) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": cms.CMSAttributeType(kind), "values": (value,)})


def _rejection(failure: str, text: str) -> bytes:
    """A TimeStampResp with only its status (asn1crypto's schema cannot leave out the
    token, RFC 3161's optional field: the SEQUENCE is written here)."""
    status = tsp.PKIStatusInfo({
        "status": tsp.PKIStatus("rejection"),
        "status_string": tsp.PKIFreeText([text]),
        "fail_info": tsp.PKIFailureInfo({failure}),
    }).dump()
    return core.Sequence.load(b"\x30" + _der_length(len(status)) + status).dump()


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


ACCEPTED_DIGESTS = frozenset({"sha256", "sha384", "sha512"})


def tsa_response(request_der: bytes, keys: ServiceKeys, now: datetime) -> bytes:
    """Answer an RFC 3161 TimeStampReq (DER) with a granted TimeStampResp signed by the
    TSA (RSA PKCS#1 v1.5, SHA-256), or a rejection saying why."""
    try:
        request = tsp.TimeStampReq.load(request_der)
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        digest = imprint["hashed_message"].native
    except (ValueError, TypeError, KeyError):
        return _rejection("bad_data_format", "not a TimeStampReq")
    if algorithm not in ACCEPTED_DIGESTS:
        return _rejection("bad_alg", f"digest {algorithm} not accepted")
    if len(digest) != hashlib.new(algorithm).digest_size:
        return _rejection("bad_data_format", "message imprint of the wrong length")
    if request["req_policy"].native not in (None, TSA_POLICY):
        return _rejection("unaccepted_policy", "unknown policy")
    info = {
        "version": "v1",
        "policy": TSA_POLICY,
        "message_imprint": imprint,
        "serial_number": secrets.randbits(127),
        "gen_time": core.GeneralizedTime(now),
        "accuracy": {"seconds": 1},
        "tsa": asn1_x509.GeneralName(name="directory_name", value=_asn1(keys.tsa_cert).subject),
    }
    if request["nonce"].native is not None:
        info["nonce"] = request["nonce"]
    tst_info = tsp.TSTInfo(info).dump()
    tsa_cert = _asn1(keys.tsa_cert)
    signed_attrs = cms.CMSAttributes([
        _attribute("content_type", "tst_info"),
        _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
        _attribute("message_digest", hashlib.sha256(tst_info).digest()),
        _attribute("signing_certificate_v2", tsp.SigningCertificateV2({"certs": [
            tsp.ESSCertIDv2({
                "hash_algorithm": {"algorithm": "sha256"},
                "cert_hash": hashlib.sha256(tsa_cert.dump()).digest(),
                "issuer_serial": {
                    "issuer": [asn1_x509.GeneralName(name="directory_name",
                                                     value=tsa_cert.issuer)],
                    "serial_number": tsa_cert.serial_number,
                },
            })]})),
    ])
    signature = keys.tsa_key.sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": tsa_cert.issuer, "serial_number": tsa_cert.serial_number})}),
        "digest_algorithm": digest_algorithm,
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
        "signature": signature,
    })
    certificates = [_asn1(c) for c in keys.tsa_chain] if request["cert_req"].native else []
    signed_data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [digest_algorithm],
        "encap_content_info": {"content_type": "tst_info",
                               "content": cms.ParsableOctetString(tst_info)},
        "certificates": certificates or None,
        "signer_infos": [signer],
    })
    if not certificates:
        del signed_data["certificates"]
    token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()
