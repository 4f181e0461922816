"""The page the QR opens, its headers and assets, the OpenAPI document, rate limits."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from openapi_spec_validator import validate

from tests.verifier.conftest import Documents, file_config
from verifier.app import create_app


def test_page_security_headers(client: FlaskClient) -> None:
    response = client.get("/v")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_api_answers_are_attachments_and_https_gets_hsts(client: FlaskClient) -> None:
    """ASVS 14.4.2 and 14.4.5: an API answer is never rendered as a page; over https
    (as the proxy says) browsers are told to stay on https, subdomains included."""
    api = client.post("/api/v1/verify", json={"credential": "x"})
    assert api.headers["Content-Disposition"] == 'attachment; filename="api.json"'
    assert "Content-Disposition" not in client.get("/v").headers
    assert "Strict-Transport-Security" not in client.get("/v").headers  # plain http
    https = client.get("/v", base_url="https://localhost")
    assert https.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_page_uses_only_its_own_assets(client: FlaskClient) -> None:
    html = client.get("/v").get_data(as_text=True)
    assert '<meta name="referrer" content="no-referrer">' in html
    assert "<script>" not in html and "style=" not in html  # nothing inline (CSP)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") for a in assets)  # no CDN, no other origin
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert "http://" not in response.get_data(as_text=True)
        assert "https://" not in response.get_data(as_text=True)


def test_script_reads_the_fragment_and_posts_it(client: FlaskClient) -> None:
    """The fragment goes out of the address bar and into the form's POST body."""
    js = client.get("/static/verifier/verify.js").get_data(as_text=True)
    assert "location.hash" in js
    assert "replaceState" in js and '$("paste-form").submit()' in js
    assert "innerHTML" not in js and "?credential" not in js


def test_root_redirects_to_the_page(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/v")


def test_openapi_document(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert "post" in document["paths"]["/api/v1/verify"]


def test_rate_limit_per_client(published: Path, documents: Documents) -> None:
    app = create_app(file_config(published, ratelimit_enabled=True,
                                 rate_limit="3 per minute"))
    client = app.test_client()
    body = {"credential": documents.school.credential}
    for _ in range(3):
        assert client.post("/api/v1/verify", json=body).status_code == 200
    limited = client.post("/api/v1/verify", json=body)
    assert limited.status_code == 429
    assert limited.get_json()["error"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    # another client is not affected
    other = client.post("/api/v1/verify", json=body,
                        environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200
    # the page itself is not counted against the API's limit
    assert client.get("/v").status_code == 200


def test_rate_limit_behind_a_proxy_counts_the_forwarded_client(
    published: Path, documents: Documents
) -> None:
    app = create_app(file_config(published, ratelimit_enabled=True,
                                 rate_limit="1 per minute", proxies=1))
    client = app.test_client()
    body = {"credential": documents.school.credential}
    first = {"X-Forwarded-For": "198.51.100.1"}
    assert client.post("/api/v1/verify", json=body, headers=first).status_code == 200
    assert client.post("/api/v1/verify", json=body, headers=first).status_code == 429
    second = {"X-Forwarded-For": "198.51.100.2"}
    assert client.post("/api/v1/verify", json=body, headers=second).status_code == 200


def test_errors_outside_the_api_are_plain_text(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert "Traceback" not in response.get_data(as_text=True)


def test_rate_limit_storage_down_lets_requests_through(published: Path,
                                                       documents: Documents) -> None:
    """Limits kept in Redis: if Redis is unreachable the verifier still answers."""
    from tests.verifier.conftest import dead_url

    storage = dead_url().replace("http://", "redis://")
    app = create_app(file_config(published, ratelimit_enabled=True, rate_limit="1 per minute",
                                 ratelimit_storage=storage))
    client = app.test_client()
    body = {"credential": documents.school.credential}
    assert [client.post("/api/v1/verify", json=body).status_code for _ in range(2)] == [200, 200]
    assert client.get("/v").status_code == 200


def test_memory_rate_limits_start_no_timer_threads(published: Path,
                                                   documents: Documents) -> None:
    import threading

    from verifier.app.ratelimit import SweptMemoryStorage

    app = create_app(file_config(published, ratelimit_enabled=True,
                                 rate_limit="1000 per minute"))
    storage = app.extensions["bkt_api_limits"].limiter.storage
    assert isinstance(storage, SweptMemoryStorage)
    client = app.test_client()
    before = threading.active_count()
    for _ in range(20):
        assert client.post("/api/v1/verify",
                           json={"credential": documents.school.credential}).status_code == 200
    assert threading.active_count() <= before


def test_memory_rate_limit_counters_expire_and_quiet_clients_are_swept() -> None:
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    from verifier.app.ratelimit import SWEEP_EVERY, SweptMemoryStorage

    now = [1000.0]
    storage = SweptMemoryStorage(clock=lambda: now[0])
    limiter, item = FixedWindowRateLimiter(storage), parse("2 per minute")
    assert [limiter.hit(item, "api", "a") for _ in range(3)] == [True, True, False]
    assert limiter.get_window_stats(item, "api", "a").reset_time == 1060.0
    assert limiter.hit(item, "api", "b")
    now[0] = 1059.5
    assert not limiter.hit(item, "api", "a")  # swept here: nothing had expired
    now[0] = 1060.2  # the window is over
    assert limiter.hit(item, "api", "a")
    assert storage.held() == 2  # "b" expired, not yet swept (at most one sweep a second)
    now[0] = 1059.5 + SWEEP_EVERY
    assert limiter.hit(item, "api", "c")
    assert storage.held() == 2  # "a" and "c"; "b" swept
    storage.reset()
    assert storage.held() == 0 and storage.get("a") == 0
