"""The BMA PKI's online services, live on 127.0.0.1, for tests (`live_pki`).

The services (`issuer.pki_services`) start first on a free port, then the key store is
made naming their URL in its certificates, as `transcripts keys create` does with
BKT_PKI_URL; every request path is recorded (`LivePki.requests`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from issuer.adapters import keystore
from issuer.adapters.pki import (
    InstitutionKeys,
    _write_cert,
    _write_key,
    load_authority,
    load_institution_keys,
    load_root,
    revocation_pointers,
    write_dev_pki,
)
from issuer.adapters.publish import jwks_document
from issuer.pipeline import Producer
from issuer.pki_services import create_app, running
from verifier.trust import TrustStore

PASSPHRASE = b"live pki passphrase"
SCHOOL = ("1001", "Wat Don School")  # the code of tests.factories.SCHOOL


@dataclass
class LivePki:
    url: str
    keys_dir: Path
    requests: list[str] = field(default_factory=list)
    """Paths requested from the services, in order."""
    offset: list[timedelta] = field(default_factory=lambda: [timedelta(0)])
    """How far ahead of the real clock the services' clock runs (`advance`)."""

    def advance(self, delta: timedelta) -> None:
        """Move the services' clock (OCSP, CRL, TSA times) forward, never sleeping."""
        self.offset[0] += delta

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/tsa"

    @property
    def root(self) -> x509.Certificate:
        return load_root(self.keys_dir)

    def keys(self, code: str = SCHOOL[0]) -> InstitutionKeys:
        return load_institution_keys(self.keys_dir, code, PASSPHRASE)

    def trust(self, codes: Iterable[str] = (SCHOOL[0],)) -> TrustStore:
        """What a verifier pinning this root knows from a JWKS of every generation's
        credential key, without their life (`bkt_compromised_at`...): what is judged
        here is what the PDF itself proves."""
        found = [(g.credential_cert, g.chain) for code in codes
                 for g in keystore.public_generations(self.keys_dir, code)]
        return TrustStore.from_jwks(jwks_document(found), [self.root])

    def producer(self, level: str, code: str = SCHOOL[0], verifier_url: str =
                 "https://verify.bkt.example") -> Producer:
        return Producer(self.keys(code), verifier_url, level=level,
                        tsa_url=self.tsa_url if level != "B-B" else None)

    def count(self, path: str) -> int:
        return sum(p == path for p in self.requests)

    def compromise(self, code: str, since: datetime) -> None:
        """Report `code`'s active keys compromised since `since`, as `transcripts keys
        compromise` does: a new generation takes over, the old one is revoked."""
        now = datetime.now(UTC)
        with keystore.lock(self.keys_dir):
            history = keystore.read_history(self.keys_dir, code)
            active = history.active()
            assert active is not None
            successor = keystore.new_generation(self.keys_dir, code, code, PASSPHRASE, now)
            keystore.write_history(self.keys_dir, code,
                                   history.compromised(active.kid, since, now, successor))


def _short_tsa(directory: Path, lifetime: timedelta) -> None:
    """Replace the store's TSA by one from the issuing CA whose certificate ends in
    `lifetime` (a TSA near its expiry)."""
    authority = load_authority(directory, PASSPHRASE)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Short-lived TSA")]))
        .issuer_name(authority.issuing_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                       critical=True)
    )
    for extension in revocation_pointers(authority.service_url):
        builder = builder.add_extension(extension, critical=False)
    _write_key(directory / "tsa.key", key, PASSPHRASE)
    _write_cert(directory / "tsa.crt", builder.sign(authority.issuing_key, hashes.SHA384()))


@contextmanager
def live_pki(directory: Path, institutions: Iterable[tuple[str, str]] = (SCHOOL,), *,
             tsa_lifetime: timedelta | None = None) -> Iterator[LivePki]:
    """A key store in `directory` and its services running while inside."""
    offset = [timedelta(0)]
    app = create_app(directory, PASSPHRASE, lambda: datetime.now(UTC) + offset[0])
    requests: list[str] = []

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        requests.append(environ.get("PATH_INFO", ""))
        return app(environ, start_response)

    with running(recording) as url:
        write_dev_pki(directory, list(institutions), PASSPHRASE, datetime.now(UTC),
                      service_url=url)
        if tsa_lifetime is not None:
            _short_tsa(directory, tsa_lifetime)
        yield LivePki(url, directory, requests, offset)
