"""Link tokens never reach the logs (issue 10): the real gunicorn with the issuer's config
(`issuer/gunicorn_conf.py`), its access and error logs and the application's captured."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from issuer.gunicorn_conf import redact
from issuer.serve import commands

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except urllib.error.URLError:  # not listening yet
        return 0


def test_tokens_are_redacted_from_gunicorn_and_app_logs(tmp_path: Path) -> None:
    port, log = _port(), tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:issuer.gunicorn_conf",
             "--chdir", str(ROOT), "-w", "1", "-b", f"127.0.0.1:{port}",
             "tests.web.redaction_app:app"], stdout=out, stderr=subprocess.STDOUT)
        try:
            base, tokens = f"http://127.0.0.1:{port}", []
            deadline = time.monotonic() + 30
            while _get(f"{base}/x/warmup") != 200:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)
            for kind, suffix in (("c", ""), ("s", ""), ("c", "/boom"), ("s", "?pin=1")):
                token = secrets.token_urlsafe(32)
                tokens.append(token)
                assert _get(f"{base}/{kind}/{token}{suffix}") in (200, 500)
        finally:
            server.terminate()
            server.wait(15)
    text = log.read_text(encoding="utf-8")
    assert "GET /c/… HTTP" in text and "GET /s/…?pin=1 HTTP" in text  # access log
    assert "opened /c/…" in text  # the application's log
    assert "Exception on /c/…/boom" in text and "RuntimeError: failed on /c/…/boom" in text
    assert not [t for t in tokens if t in text]


def test_redact_and_the_served_commands() -> None:
    assert redact('"GET /s/abc-_DEF?x=1 HTTP/1.1" /c/xyz/pdf/2') == \
        '"GET /s/…?x=1 HTTP/1.1" /c/…/pdf/2'
    assert redact("/static/c/site.css") == "/static/c/…"  # over-redacting is harmless
    from issuer.config import Settings
    issuer_cmd = commands(Settings.from_env(), 8000, 8001, {})[0][0]
    assert "python:issuer.gunicorn_conf" in issuer_cmd
