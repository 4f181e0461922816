"""What verifiers read, served by the issuer's web service with cache headers, and
consumed over HTTP by the verifier's own trust source."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from issuer.adapters.pki import load_root
from issuer.core.records import InstitutionKind, schema_url
from issuer.services.context import Issuer
from issuer.services.lifecycle import revoke
from issuer.services.publishing import publish
from tests.e2e.conftest import REGISTRAR, issue_file
from tests.web.conftest import Browser
from verifier.core.verdict import Result
from verifier.sources import SourceSettings, TrustSource
from verifier.verification import Verifier


def test_jwks_is_public_and_cacheable(web_issuer: Issuer, browser: Browser) -> None:
    publish(web_issuer)
    response = browser.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/jwk-set+json"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    keys = json.loads(response.data)["keys"]
    assert len(keys) == 2 and all(k["x5c"] and k["kid"] for k in keys)
    again = browser.client.get("/.well-known/jwks.json",
                               headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_did_document_and_status_list_credentials_are_public(web_issuer: Issuer,
                                                                browser: Browser) -> None:
    publish(web_issuer)
    response = browser.client.get("/.well-known/did.json")
    assert response.status_code == 200 and response.mimetype == "application/did+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.data)
    assert document["id"] == "did:web:127.0.0.1%3A8000"
    assert len(document["assertionMethod"]) == 2  # one key generation per institution
    assert {m["type"] for m in document["verificationMethod"]} == {"Multikey"}
    for purpose in ("revocation", "refresh"):
        status = browser.client.get(f"/status/1001/{purpose}.vc.json")
        assert status.status_code == 200, purpose
        assert status.headers["Cache-Control"] == "public, no-cache"
        listed = json.loads(status.data)
        assert listed["credentialSubject"]["statusPurpose"] == purpose
        assert listed["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    assert browser.client.get("/status/1001/details.vc.json").status_code == 404
    context = browser.client.get("/ns/transcript/v1.jsonld")
    assert context.status_code == 200 and "@context" in json.loads(context.data)


def test_status_lists_are_served_from_the_published_folder(web_issuer: Issuer,
                                                           browser: Browser) -> None:
    folder = Path(web_issuer.settings.published_dir) / "status" / "1001"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "revocation.jws").write_text("a.b.c\n", encoding="ascii")
    response = browser.client.get("/status/1001/revocation.jws")
    assert response.status_code == 200 and response.data == b"a.b.c\n"
    # caches must ask again every time, and may do so cheaply
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    again = browser.client.get("/status/1001/revocation.jws",
                               headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = browser.client.get("/status/1001/revocation.jws",
                               headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert since.status_code == 304
    (folder / "revocation.jws").write_text("a.b.d\n", encoding="ascii")  # republished
    changed = browser.client.get("/status/1001/revocation.jws",
                                 headers={"If-None-Match": response.headers["ETag"]})
    assert changed.status_code == 200 and changed.data == b"a.b.d\n"
    (folder / "details.jws").write_text("d.e.f\n", encoding="ascii")
    details = browser.client.get("/status/1001/details.jws")
    assert details.status_code == 200 and details.data == b"d.e.f\n"
    assert details.headers["Cache-Control"] == "public, no-cache"
    for path in ("/status/1001/refresh.jws", "/status/1001/other.jws",
                 "/status/..%2F..%2Fkeys/revocation.jws", "/status/1001/..%2F..%2Fx.jws"):
        assert browser.client.get(path).status_code == 404, path


def test_audit_checkpoints_are_public_and_cacheable(web_issuer: Issuer,
                                                   browser: Browser) -> None:
    from issuer.adapters import audit_checkpoint
    from issuer.services.audit import write_checkpoint

    made, _ = write_checkpoint(web_issuer)
    latest = browser.client.get("/audit/checkpoint.jws")
    assert latest.status_code == 200 and latest.mimetype == "application/jose"
    assert latest.headers["Cache-Control"] == "public, max-age=60"
    assert latest.headers["Access-Control-Allow-Origin"] == "*"
    roots = [load_root(web_issuer.settings.keys_dir)]
    assert audit_checkpoint.verify(latest.get_data(as_text=True), roots) == made
    numbered = browser.client.get(f"/audit/checkpoints/{made.seq}.jws")
    assert numbered.status_code == 200 and numbered.data == latest.data
    assert numbered.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for path in (f"/audit/checkpoints/{made.seq + 1}.jws", "/audit/checkpoints/-1.jws",
                 "/audit/checkpoints/..%2Fcheckpoint.jws", "/audit/.lock",
                 "/audit/checkpoints/1.jws.tmp"):
        assert browser.client.get(path).status_code == 404, path


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The issuer app on a real local HTTP server (127.0.0.1, a free port)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_the_verifier_learns_keys_and_status_over_http(web_issuer: Issuer, served: str) -> None:
    _, report = issue_file(web_issuer, "1001", "school-batch.csv")
    pdf = (Path(web_issuer.settings.output_dir) / report.issued[0]).read_bytes()
    source = TrustSource(SourceSettings(
        roots=(load_root(web_issuer.settings.keys_dir),),
        jwks=f"{served}/.well-known/jwks.json", status=f"{served}/status"))
    verdict = Verifier(source).pdf(pdf)
    checks = {c.id: c.status.value for c in verdict.checks}
    assert "fail" not in checks.values(), verdict.checks
    assert verdict.result is Result.VALID  # keys and both status lists came over HTTP
    revoke(web_issuer, report_id(report), reason="issued in error", actor=REGISTRAR)
    fresh = TrustSource(SourceSettings(
        roots=(load_root(web_issuer.settings.keys_dir),),
        jwks=f"{served}/.well-known/jwks.json", status=f"{served}/status"))
    assert Verifier(fresh).pdf(pdf).result is Result.REVOKED


def report_id(report) -> str:  # type: ignore[no-untyped-def]
    return Path(report.issued[0]).name.split("-v")[0]


def test_an_auditor_checks_against_the_checkpoint_over_http(web_issuer: Issuer,
                                                            served: str) -> None:
    from issuer.services.audit import check_audit_chain, write_checkpoint

    made, _ = write_checkpoint(web_issuer)
    check = check_audit_chain(web_issuer, checkpoint=f"{served}/audit/checkpoint.jws")
    assert check.ok and check.checkpoint == made, check.problems()
    gone = check_audit_chain(web_issuer, checkpoint=f"{served}/audit/checkpoints/99.jws")
    assert not gone.ok and "unavailable" in (gone.checkpoint_problem or "")


def test_the_record_schemas_are_published_at_their_ids(browser: Browser) -> None:
    for kind in InstitutionKind:
        url = schema_url(kind)
        response = browser.client.get(url.removeprefix("https://transcripts.bangkok.go.th"))
        assert response.status_code == 200
        assert response.mimetype == "application/schema+json"
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert json.loads(response.data)["$id"] == url
    for missing in ("/schema/transcript/school/v1.json", "/schema/transcript/x/v2.json",
                    "/schema/transcript/..%2Fschool/v2.json"):
        assert browser.client.get(missing).status_code == 404
