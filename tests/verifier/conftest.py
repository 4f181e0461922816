"""Verifier fixtures: real signed PDFs, the documents an issuer publishes, a local server.

Everything is generated here (PKI from tests/conftest.py); no test touches the network
beyond a server on 127.0.0.1 that a fixture starts.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from flask.testing import FlaskClient

from issuer.adapters.directory import write_directory
from issuer.adapters.pki import Authority, InstitutionKeys, issue_institution_keys
from issuer.adapters.publish import (
    jwks_document,
    write_json,
    write_status_lists,
    write_trust_bundle,
)
from issuer.pipeline import IssuedDocument, Producer
from tests.conftest import PKI_NOW
from tests.factories import SCHOOL, TRAINING, school_record, vocational_record
from verifier.app import create_app
from verifier.app.config import VerifierConfig
from verifier.core.status_details import StatusDetail
from verifier.sources import SourceSettings, TrustSource

BASE_URL = "https://verify.bkt.example"
ISSUED_AT = PKI_NOW + timedelta(days=30)  # the keys were valid then
REVOKED_INDEX = 10
SUPERSEDED_INDEX = 11
REVOKED_ON = (ISSUED_AT + timedelta(days=2)).date()  # in the signed status details
SUCCESSOR_ON = (ISSUED_AT + timedelta(days=3)).date()  # `successor` was issued then
DIRECTORIES = {  # what each institution's signed directory names (the factories' data)
    inst.code: (inst.name_th, inst.name_en, {record.record.programme.code: (
        record.record.programme.name_th, record.record.programme.name_en)})
    for inst, record in ((SCHOOL, school_record()), (TRAINING, vocational_record()))
}


@dataclass(frozen=True)
class Documents:
    school: IssuedDocument
    vocational: IssuedDocument
    revoked: IssuedDocument
    superseded: IssuedDocument
    successor: IssuedDocument  # the corrected version of `superseded`


@pytest.fixture(scope="session")
def training_keys(authority: Authority) -> InstitutionKeys:
    """Keys of the vocational training school the factories use (code 3001)."""
    return issue_institution_keys(authority, TRAINING.code, TRAINING.name_en, PKI_NOW)


@pytest.fixture(scope="session")
def documents(school_keys: InstitutionKeys, training_keys: InstitutionKeys) -> Documents:
    school = Producer(school_keys, BASE_URL)
    return Documents(
        school=school.produce(school_record(issued_at=ISSUED_AT)),
        vocational=Producer(training_keys, BASE_URL).produce(
            vocational_record(issued_at=ISSUED_AT)),
        revoked=school.produce(school_record(
            transcript_id="1001-2569-000200", status_index=REVOKED_INDEX, issued_at=ISSUED_AT)),
        superseded=school.produce(school_record(
            transcript_id="1001-2569-000201", status_index=SUPERSEDED_INDEX,
            issued_at=ISSUED_AT)),
        successor=school.produce(school_record(
            transcript_id="1001-2569-000201", version=2, status_index=12,
            issued_at=ISSUED_AT + timedelta(days=3))),
    )


def publish(
    directory: Path,
    authority: Authority,
    keys: list[InstitutionKeys],
    now: datetime,
    **status_options: timedelta,
) -> Path:
    """What the issuer publishes, as files: root, JWKS, status lists, directories, trust
    bundle."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "root.crt").write_bytes(authority.root_cert.public_bytes(Encoding.PEM))
    write_json(directory / ".well-known" / "jwks.json",
               jwks_document([(k.credential_cert, k.chain) for k in keys]))
    for k in keys:
        revoked = [REVOKED_INDEX] if k.code == "1001" else []
        superseded = [SUPERSEDED_INDEX] if k.code == "1001" else []
        details = [
            StatusDetail(REVOKED_INDEX, "revoked", REVOKED_ON, "issued_in_error"),
            StatusDetail(SUPERSEDED_INDEX, "superseded", SUCCESSOR_ON, None, 2, SUCCESSOR_ON),
        ] if k.code == "1001" else []
        write_status_lists(directory, k, revoked, superseded, now, details=details,
                           **status_options)
        if k.code in DIRECTORIES:
            write_directory(directory, k, *DIRECTORIES[k.code], now)
    write_trust_bundle(directory, now)
    return directory


@pytest.fixture(scope="session")
def published(
    tmp_path_factory: pytest.TempPathFactory,
    authority: Authority,
    school_keys: InstitutionKeys,
    training_keys: InstitutionKeys,
) -> Path:
    return publish(tmp_path_factory.mktemp("published"), authority,
                   [school_keys, training_keys], datetime.now(UTC))


def file_config(published: Path, **changes: object) -> VerifierConfig:
    """The verifier reading the issuer's files directly (no server)."""
    config = VerifierConfig(
        roots=(published / "root.crt",),
        jwks=str(published / ".well-known" / "jwks.json"),
        status=str(published / "status"),
        ratelimit_enabled=False,
    )
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


@pytest.fixture
def app(published: Path) -> Flask:
    return create_app(file_config(published))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class FakeClock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def source_for(published: Path, roots: tuple, clock: Callable[[], float] | None = None,
               **settings: object) -> TrustSource:
    base = SourceSettings(roots=roots, jwks=str(published / ".well-known" / "jwks.json"),
                          status=str(published / "status"), timeout=1.0)
    return TrustSource(dataclasses.replace(base, **settings),  # type: ignore[arg-type]
                       clock=clock or time.time)


class Server:
    """A static HTTP server on 127.0.0.1 over the published directory; can be stopped."""

    def __init__(self, directory: Path, cache_control: str | None = "max-age=60") -> None:
        cache = cache_control
        self.requests: list[str] = []
        self.codes: list[int] = []
        requests, codes = self.requests, self.codes

        class Handler(http.server.SimpleHTTPRequestHandler):
            def end_headers(self) -> None:
                if cache:
                    self.send_header("Cache-Control", cache)
                super().end_headers()

            def log_message(self, format: str, *args: object) -> None:
                requests.append(self.path)

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                codes.append(int(getattr(code, "value", code)))
                super().log_request(code, size)

        handler = functools.partial(Handler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server(published: Path) -> Iterator[Server]:
    running = Server(published)
    yield running
    running.stop()


def dead_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
