"""The BMA PKI's online services over HTTP: CRL distribution point, OCSP, RFC 3161 TSA.

One small Flask app (`create_app`) beside the issuer and the verifier (`transcripts
serve` runs it on 127.0.0.1:8002; `transcripts pki-services` alone). It reads the key
store: the issuing CA's key signs the CRL, the OCSP responder's and the TSA's keys
(`issuer.adapters.responders`) sign the rest. What is revoked is what the key store
says: an institution's key generation reported compromised (`transcripts keys
compromise`) revokes both of its certificates from the time given. The CRL is made
again when that changes and every `CRL_REFRESH`, so the one served is never past its
nextUpdate. Why our own and not certomancer's services: docs/long-term-validity.md.

Routes (the certificates name them, `issuer.adapters.pki.revocation_pointers` and
`root_crl_pointer`): ``GET /crl/issuing.crl`` and ``GET /crl/root.crl`` (the root's CRL,
signed at the key ceremony; application/pkix-crl), ``POST /ocsp`` or ``GET /ocsp/<base64>``
(RFC 6960 A.1), ``POST /tsa`` (RFC 3161 3.4, application/timestamp-query).
"""

from __future__ import annotations

import base64
import binascii
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from flask import Flask, Response, abort, request
from werkzeug.serving import WSGIRequestHandler, make_server

from issuer.adapters import keystore
from issuer.adapters.pki import (
    AUDIT_FILES,
    CRL_PATH,
    OCSP_PATH,
    ROOT_CRL,
    ROOT_CRL_PATH,
    TSA_PATH,
    _read_cert,
    load_authority,
)
from issuer.adapters.responders import (
    CRL_REFRESH,
    ServiceKeys,
    load_service_keys,
    make_crl,
    ocsp_response,
    tsa_response,
)

MAX_REQUEST = 16 * 1024
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CaState:
    """What the issuing CA has issued and revoked, read from the key store."""

    issued: dict[int, x509.Certificate]
    revoked: dict[int, datetime]
    """Serial -> since when its key is held compromised."""


def _institutions(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and (
        (p / keystore.MANIFEST).exists() or (p / "credential.crt").exists()))


def read_ca_state(directory: Path, issuing: x509.Certificate) -> CaState:
    """Every certificate of the issuing CA in the key store, and the revoked ones."""
    issued: dict[int, x509.Certificate] = {}
    revoked: dict[int, datetime] = {}
    for name in ("tsa.crt", AUDIT_FILES[0]):
        if (directory / name).exists():
            cert = _read_cert(directory / name)
            if cert.issuer == issuing.subject:
                issued[cert.serial_number] = cert
    for code in _institutions(directory):
        for generation in keystore.read_history(directory, code).generations:
            folder = keystore.generation_dir(directory, code, generation.number)
            for name in ("pdf.crt", "credential.crt"):
                cert = _read_cert(folder / name)
                if cert.issuer != issuing.subject:
                    continue
                issued[cert.serial_number] = cert
                if generation.compromised is not None:
                    revoked[cert.serial_number] = generation.compromised
    return CaState(issued, revoked)


def _fingerprint(directory: Path) -> tuple[object, ...]:
    """Changes whenever an institution's keys change (cheap: a few `stat` calls)."""
    return tuple((code, keystore.stamp(directory, code)) for code in _institutions(directory))


class Services:
    """The services' state: keys loaded once, the CA's state and CRL kept current."""

    def __init__(self, keys_dir: Path, passphrase: bytes, clock: Clock) -> None:
        self.keys_dir = Path(keys_dir)
        self.clock = clock
        authority = load_authority(self.keys_dir, passphrase)
        self.keys: ServiceKeys = load_service_keys(self.keys_dir, authority, passphrase)
        self._lock = threading.Lock()
        self._seen: tuple[object, ...] | None = None
        self._state = CaState({}, {})
        self._crl: tuple[datetime, bytes] | None = None
        self._crl_number = int(clock().timestamp())  # increases across restarts too

    def state(self) -> CaState:
        with self._lock:
            seen = _fingerprint(self.keys_dir)
            if seen != self._seen:
                state = read_ca_state(self.keys_dir, self.keys.authority.issuing_cert)
                if self._crl is not None and state.revoked != self._state.revoked:
                    self._crl = None  # a revocation: a new CRL at once
                self._seen, self._state = seen, state
            return self._state

    def crl(self) -> bytes:
        revoked = self.state().revoked
        now = self.clock()
        with self._lock:
            if self._crl is None or now - self._crl[0] >= CRL_REFRESH:
                self._crl_number = max(self._crl_number + 1, int(now.timestamp()))
                self._crl = (now, make_crl(self.keys.authority, revoked, self._crl_number, now))
            return self._crl[1]

    def ocsp(self, der: bytes) -> bytes:
        state = self.state()
        return ocsp_response(der, self.keys, state.issued, state.revoked, self.clock())

    def timestamp(self, der: bytes) -> bytes:
        return tsa_response(der, self.keys, self.clock())


def _body() -> bytes:
    if (request.content_length or 0) > MAX_REQUEST:
        abort(413)
    data = request.get_data(cache=False)
    if len(data) > MAX_REQUEST:
        abort(413)
    return data


def create_app(keys_dir: Path, passphrase: bytes, clock: Clock | None = None) -> Flask:
    """The services for the key store `keys_dir`, read at the first request (so a test
    can start them, then make a key store naming their URL); `clock` for tests
    (default: now, UTC)."""
    app = Flask(__name__)
    made: list[Services] = []
    lock = threading.Lock()

    def services() -> Services:
        with lock:
            if not made:
                made.append(Services(keys_dir, passphrase, clock or (lambda: datetime.now(UTC))))
            return made[0]

    @app.get(CRL_PATH)
    def crl() -> Response:
        return Response(services().crl(), mimetype="application/pkix-crl",
                        headers={"Cache-Control": "max-age=300"})

    @app.get(ROOT_CRL_PATH)
    def root_crl() -> Response:
        try:  # signed at the key ceremony (the root's key is offline), served as it is
            data = (Path(keys_dir) / ROOT_CRL).read_bytes()
        except FileNotFoundError:
            abort(404)
        return Response(data, mimetype="application/pkix-crl",
                        headers={"Cache-Control": "max-age=3600"})

    @app.post(OCSP_PATH)
    def ocsp_post() -> Response:
        return Response(services().ocsp(_body()), mimetype="application/ocsp-response")

    @app.get(f"{OCSP_PATH}/<path:encoded>")
    def ocsp_get(encoded: str) -> Response:
        try:
            der = base64.b64decode(encoded.replace(" ", "+"), validate=True)
        except (binascii.Error, ValueError):
            abort(400)
        return Response(services().ocsp(der), mimetype="application/ocsp-response")

    @app.post(TSA_PATH)
    def tsa() -> Response:
        return Response(services().timestamp(_body()), mimetype="application/timestamp-reply")

    return app


def create_app_from_env() -> Flask:
    """`create_app` for the configured key store (``wsgi:pki_services``)."""
    from issuer.adapters import passphrase
    from issuer.config import Settings

    s = Settings.from_env()
    secret = passphrase.resolve(s.keys_dir, s.var_dir, s.key_passphrase,
                                s.key_passphrase_file, s.credentials_dir)
    return create_app(s.keys_dir, secret)


class _Quiet(WSGIRequestHandler):
    """No line per request (a batch makes two timestamp requests per transcript)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def running(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0
            ) -> Iterator[str]:
    """Serve `app` (a WSGI application) from a thread while inside; yields its base URL
    (port 0: a free one). For tests and for `transcripts demo`, which issues before
    `transcripts serve` runs."""
    server = make_server(host, port, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="pki-services", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)






def local_address(url: str | None) -> tuple[str, int] | None:
    """``(host, port)`` of `url` if it is on this machine (127.0.0.1 or localhost)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
        return None
    return "127.0.0.1", parts.port or 80


def _listening(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def serving_while(pki_url: str | None, tsa_url: str | None, keys_dir: Path,
                  passphrase: bytes) -> Iterator[None]:
    """While inside, the project's services answer at `pki_url` if the TSA is theirs
    (`tsa_url` under `pki_url`), it is local and nothing listens there yet (`transcripts
    demo` issues before `transcripts serve` runs them)."""
    address = local_address(pki_url)
    ours = bool(pki_url and tsa_url and tsa_url.startswith(pki_url.rstrip("/") + "/"))
    if address is None or not ours or _listening(address):
        yield
        return
    with running(create_app(keys_dir, passphrase), *address):
        yield
