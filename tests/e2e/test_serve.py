"""`make demo`: B-LTA transcripts, then the issuer, the verifier and the PKI's services
(CRL, OCSP, TSA) side by side, for real."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path

import pikepdf

from issuer.config import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> int:
    """The HTTP status of `url` once the server answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def credential_in(pdf: Path) -> str:
    with pikepdf.open(BytesIO(pdf.read_bytes())) as doc:
        return doc.attachments["credential.jws"].get_file().read_bytes().decode()


def test_verifier_entry_point_never_loads_the_issuer() -> None:
    code = ("import sys, wsgi; wsgi.verifier; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'issuer', 'sqlalchemy'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_demo_then_serve_both_services(tmp_path: Path) -> None:
    pki_url = f"http://127.0.0.1:{free_port()}"  # as the Makefile's demo, on a free port
    env = os.environ | {"BKT_VAR_DIR": str(tmp_path / "var"),
                        "BKT_KEYS_DIR": str(tmp_path / "keys"),
                        "BKT_PKI_URL": pki_url, "BKT_TSA_URL": f"{pki_url}/tsa"}
    env.pop("BKT_DATABASE_URL", None)
    env.pop("BKT_PADES_LEVEL", None)
    cli = [sys.executable, "-m", "issuer.cli"]
    demo = subprocess.run([*cli, "demo", "--workers", "0"], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    assert "PAdES B-LTA" in demo  # the services ran while the demo issued
    pdf = Path(re.findall(r"^\s*(/\S+\.pdf)$", demo, re.M)[0])
    issuer_port, verifier_port = free_port(), free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--issuer-port", str(issuer_port), "--verifier-port",
         str(verifier_port)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(f"http://127.0.0.1:{issuer_port}/login") == 200
        assert wait_for(f"http://127.0.0.1:{verifier_port}/healthz") == 200
        request = urllib.request.Request(
            f"http://127.0.0.1:{verifier_port}/api/v1/verify",
            data=json.dumps({"credential": credential_in(pdf)}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            verdict = json.load(response)
        # The verifier learnt the key and the status lists from the issuer over HTTP.
        assert verdict["result"] == "VALID", verdict
        # the PDF itself: B-LTA, valid now and in 2040, offline from what it embeds
        assert wait_for(f"{pki_url}/crl/issuing.crl") == 200  # `serve` runs the services
        for at in ("", "?at=2040-06-01T00:00Z"):
            request = urllib.request.Request(
                f"http://127.0.0.1:{verifier_port}/api/v1/verify{at}", data=pdf.read_bytes(),
                headers={"Content-Type": "application/pdf"})
            with urllib.request.urlopen(request, timeout=60) as response:
                verdict = json.load(response)
            checks = {c["id"]: c for c in verdict["checks"]}
            assert checks["long_term_validity"]["status"] == "pass", verdict
            assert "PAdES level B-LTA" in checks["pades_level"]["message_en"]
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
