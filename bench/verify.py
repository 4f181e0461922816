"""Verifier benchmark (issue 3 item 7, issue 9): QR credential in-process and over HTTP,
PDF, and QR checks while noise photos flood the photo path.

1. QR credential verification in-process (`Verifier.credential`, warm cache): p50/p99.
2. PDF verification in-process (`Verifier.pdf`) of a school transcript: p50, and what
   the printed-QR check (render page 1, read its QR: `verifier.printed_qr`) adds to it.
3. Over HTTP: ``gunicorn -w 2 wsgi:verifier`` on 127.0.0.1, ``POST /api/v1/verify`` with
   the JSON credential, requests/s; and in the same run a bare Flask endpoint that only
   checks one ES256 signature (`bench/bare_verify_app.py`) under the same load, and our
   ratio to it. The verifier runs twice: with its Flask-Limiter limits (memory storage,
   a limit never reached) and with ``BKT_VERIFIER_RATELIMIT_ENABLED=0``, as when a
   reverse proxy enforces the limits. Load: ``wrk`` (Debian package) with 16 connections
   and 2 threads when it is installed, else a Python load generator (threads, one
   connection per request, as gunicorn's sync workers close them anyway) -- the output
   says which.

4. Photo flood: ``gunicorn -w 2 wsgi:verifier``, four clients sending 4 MB noise JPEGs
   back to back (``image``; limits raised so none is refused for its rate) while two
   clients send ordinary QR checks (JSON, 20 ms apart): the QR checks' p50/p99/max
   before and during the flood, and how the photos were answered.

Targets on the 2-core machine: QR p50 < 2 ms; >= 1,500 requests/s and >= half the bare
endpoint; PDF p50 < 100 ms; QR p99 <= 200 ms during the photo flood.
Run: ``.venv/bin/python bench/verify.py [--seconds 10] [--only photos|pdf]``.
Everything it starts listens on 127.0.0.1 only and is stopped at the end.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402
from PIL import Image  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402

from issuer.adapters.pki import generate_authority, issue_institution_keys  # noqa: E402
from issuer.adapters.publish import (  # noqa: E402
    jwks_document,
    write_json,
    write_status_lists,
)
from issuer.pipeline import Producer  # noqa: E402
from tests.factories import school_record  # noqa: E402
from verifier import printed_qr  # noqa: E402
from verifier.sources import SourceSettings, TrustSource  # noqa: E402
from verifier.verification import Verifier  # noqa: E402

CONNECTIONS = 16


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def setup(directory: Path) -> tuple[Path, str, bytes]:
    """Dev PKI, published JWKS and status lists, one signed school transcript."""
    now = datetime.now(UTC) - timedelta(hours=1)
    authority = generate_authority(now)
    keys = issue_institution_keys(authority, "1001", "Bench School", now)
    (directory / "root.crt").write_bytes(authority.root_cert.public_bytes(Encoding.PEM))
    (directory / "credential.pub").write_bytes(keys.credential_cert.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    write_json(directory / ".well-known" / "jwks.json",
               jwks_document([(keys.credential_cert, keys.chain)]))
    write_status_lists(directory, keys, [10], [11], datetime.now(UTC))
    doc = Producer(keys, "http://127.0.0.1:8001").produce(
        school_record(issued_at=now + timedelta(minutes=10)))
    return directory, doc.credential, doc.pdf


def in_process(directory: Path, credential: str, pdf: bytes, n: int) -> dict[str, float]:
    roots = tuple(x509.load_pem_x509_certificates((directory / "root.crt").read_bytes()))
    verifier = Verifier(TrustSource(SourceSettings(
        roots=roots, jwks=str(directory / ".well-known" / "jwks.json"),
        status=str(directory / "status"))))
    assert verifier.credential(credential).result.value == "VALID"
    assert verifier.pdf(pdf).result.value == "VALID"
    qr = []
    for _ in range(n):
        t = time.perf_counter()
        verifier.credential(credential)
        qr.append((time.perf_counter() - t) * 1000)
    pdfs = time_pdf(verifier, pdf, max(20, n // 40))
    check = printed_qr.check
    printed_qr.check = lambda data, token: printed_qr.PASSED  # type: ignore[assignment]
    try:
        without = time_pdf(verifier, pdf, max(20, n // 40))
    finally:
        printed_qr.check = check  # type: ignore[assignment]
    return {"qr_p50": percentile(qr, 0.5), "qr_p99": percentile(qr, 0.99),
            "pdf_p50": percentile(pdfs, 0.5), "pdf_p99": percentile(pdfs, 0.99),
            "pdf_without_qr_p50": percentile(without, 0.5)}


def time_pdf(verifier: Verifier, pdf: bytes, n: int) -> list[float]:
    """Milliseconds of `n` verifications, the two kinds interleaved by the caller."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        verdict = verifier.pdf(pdf)
        times.append((time.perf_counter() - t) * 1000)
    assert verdict.result.value == "VALID", verdict.checks
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``gunicorn -w 2`` on 127.0.0.1 for `app`, stopped on exit."""

    def __init__(self, app: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b",
             f"127.0.0.1:{self.port}", "--log-level", "warning", app],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode()) from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def post(port: int, path: str, body: bytes,
         content_type: str = "application/json") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body, {"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def load_wrk(port: int, path: str, body: bytes, seconds: int, folder: Path) -> dict[str, float]:
    script = folder / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    done = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    socket_errors = re.search(r"Socket errors:.*", done.stdout)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", done.stdout)
    p50_ms = 0.0
    if p50:
        p50_ms = float(p50.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p50.group(2)]
    return {"rps": rate, "non_2xx": float(errors.group(1)) if errors else 0.0,
            "latency_p50_ms": p50_ms, "socket_errors": socket_errors.group(0)
            if socket_errors else ""}  # type: ignore[dict-item]


def load_python(port: int, path: str, body: bytes, seconds: int) -> dict[str, float]:
    stop = time.monotonic() + seconds
    counts, failures, latencies = [0] * CONNECTIONS, [0] * CONNECTIONS, []

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                status, _ = post(port, path, body)
            except OSError:
                failures[i] += 1
                continue
            latencies.append(time.perf_counter() - t)
            counts[i] += 1
            if status != 200:
                failures[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    return {"rps": sum(counts) / elapsed, "non_2xx": float(sum(failures)),
            "latency_p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0}


def measure(name: str, app: str, path: str, env: dict[str, str], body: bytes, seconds: int,
            use_wrk: bool, folder: Path) -> dict[str, float]:
    """One server, checked to answer correctly, warmed up for 2 s, then loaded."""
    server = Gunicorn(app, env)
    try:
        for _ in range(50):  # the port opens before the workers have booted
            try:
                status, answer = post(server.port, path, body)
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, answer
        if name.startswith("verifier"):
            assert json.loads(answer)["result"] == "VALID", answer
        else:
            assert json.loads(answer)["valid"] is True, answer
        if use_wrk:
            load_wrk(server.port, path, body, 2, folder)
            return load_wrk(server.port, path, body, seconds, folder)
        load_python(server.port, path, body, 2)
        return load_python(server.port, path, body, seconds)
    finally:
        server.stop()


def over_http(directory: Path, credential: str, seconds: int, rounds: int,
              force_python: bool) -> None:
    use_wrk = shutil.which("wrk") is not None and not force_python
    why = "--python-load" if force_python else "wrk not installed"
    generator = (f"wrk, {CONNECTIONS} connections, 2 threads" if use_wrk else
                 f"Python load generator, {CONNECTIONS} threads ({why})")
    body = json.dumps({"credential": credential}).encode()
    env = {
        "BKT_VERIFIER_ROOTS": str(directory / "root.crt"),
        "BKT_VERIFIER_JWKS": str(directory / ".well-known" / "jwks.json"),
        "BKT_VERIFIER_STATUS": str(directory / "status"),
        "BKT_VERIFIER_RATELIMIT": "10000000 per minute",  # limits on, never reached
        "BENCH_PUBLIC_KEY": str(directory / "credential.pub"),
    }
    servers = (
        ("verifier", "wsgi:verifier", "/api/v1/verify", {}),
        ("verifier, limits off", "wsgi:verifier", "/api/v1/verify",
         {"BKT_VERIFIER_RATELIMIT_ENABLED": "0"}),
        ("bare ES256 endpoint", "bench.bare_verify_app:app", "/verify", {}),
    )
    # Rounds interleave the servers; the best round of each is kept, the one least
    # disturbed by whatever else runs on the machine.
    results: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for name, app, path, extra in servers:
            r = measure(name, app, path, {**env, **extra}, body, seconds, use_wrk, directory)
            if name not in results or r["rps"] > results[name]["rps"]:
                results[name] = r
    print(f"\nover HTTP: gunicorn -w 2 (sync), {seconds} s, best of {rounds} interleaved rounds,"
          f" load by {generator}")
    for name, r in results.items():
        print(f"  {name:22s} {r['rps']:8.0f} requests/s   p50 latency {r['latency_p50_ms']:.2f} ms"
              f"   non-2xx {int(r['non_2xx'])}")
    bare = results["bare ES256 endpoint"]["rps"]
    print(f"  ratio verifier / bare: {results['verifier']['rps'] / bare:.2f}"
          f" (rate limits in-process, memory storage);"
          f" {results['verifier, limits off']['rps'] / bare:.2f} with limits left to the proxy"
          "  (target >= 0.5 and >= 1,500 requests/s)")


# --- QR checks during a flood of noise photos ---------------------------------------------

PHOTO_CLIENTS = 4
QR_CLIENTS = 2
QR_PAUSE = 0.02  # seconds between one QR client's checks
QR_LIMIT_MS = 200.0


def noise_jpeg(side: int = 4000) -> bytes:
    """About 4 MB of grey noise (JPEG quality 20): the picture of issue 9."""
    out = BytesIO()
    Image.frombytes("L", (side, side), os.urandom(side * side)).save(out, "JPEG", quality=20)
    return out.getvalue()


def multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "bkt-bench-" + os.urandom(8).hex()
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), \
        f"multipart/form-data; boundary={boundary}"


def qr_latencies(port: int, body: bytes, seconds: float) -> list[float]:
    """Milliseconds of each QR check by `QR_CLIENTS` clients for `seconds`."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []

    def client() -> None:
        while time.monotonic() < stop:
            t = time.perf_counter()
            status, answer = post(port, "/api/v1/verify", body)
            latencies.append((time.perf_counter() - t) * 1000)
            assert status == 200 and b'"VALID"' in answer, answer[:200]
            time.sleep(QR_PAUSE)

    threads = [threading.Thread(target=client) for _ in range(QR_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def photo_flood(directory: Path, credential: str, seconds: int) -> dict[str, float]:
    env = {
        "BKT_VERIFIER_ROOTS": str(directory / "root.crt"),
        "BKT_VERIFIER_JWKS": str(directory / ".well-known" / "jwks.json"),
        "BKT_VERIFIER_STATUS": str(directory / "status"),
        "BKT_VERIFIER_RATELIMIT": "10000000 per minute",  # the flood is not rate-limited
    }
    photo, content_type = multipart("image", "noise.jpg", noise_jpeg())
    body = json.dumps({"credential": credential}).encode()
    server = Gunicorn("wsgi:verifier", env)
    answers: collections.Counter[int] = collections.Counter()
    photo_times: list[float] = []
    flooding = threading.Event()
    try:
        for _ in range(50):  # the port opens before the workers have booted
            try:
                post(server.port, "/api/v1/verify", body)
                break
            except OSError:
                time.sleep(0.2)
        qr_latencies(server.port, body, 2)  # warm-up: caches, both workers
        quiet = qr_latencies(server.port, body, seconds)

        def photos() -> None:
            while flooding.is_set():
                t = time.perf_counter()
                try:
                    status, _ = post(server.port, "/api/v1/verify", photo, content_type)
                except OSError:
                    status = 0
                answers[status] += 1
                photo_times.append((time.perf_counter() - t) * 1000)

        flooding.set()
        senders = [threading.Thread(target=photos) for _ in range(PHOTO_CLIENTS)]
        for sender in senders:
            sender.start()
        time.sleep(1)
        loaded = qr_latencies(server.port, body, seconds)
        flooding.clear()
        for sender in senders:
            sender.join()
    finally:
        server.stop()
    return {
        "photo_bytes": len(photo), "quiet_p50": percentile(quiet, 0.5),
        "quiet_p99": percentile(quiet, 0.99), "p50": percentile(loaded, 0.5),
        "p99": percentile(loaded, 0.99), "max": max(loaded), "checks": len(loaded),
        "photo_p50": percentile(photo_times, 0.5) if photo_times else 0.0,
        "answers": dict(answers),  # type: ignore[dict-item]
    }


def print_flood(r: dict[str, float], seconds: int) -> None:
    print(f"\nphoto flood: gunicorn -w 2 (sync), {PHOTO_CLIENTS} clients sending "
          f"{r['photo_bytes'] / 1e6:.1f} MB noise JPEGs back to back, {QR_CLIENTS} QR clients"
          f" ({QR_PAUSE * 1000:.0f} ms apart), {seconds} s each:")
    print(f"  QR checks without photos   p50 {r['quiet_p50']:6.1f} ms"
          f"   p99 {r['quiet_p99']:6.1f} ms")
    print(f"  QR checks during the flood p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms"
          f"   max {r['max']:.1f} ms   ({int(r['checks'])} checks)")
    answers = ", ".join(f"{count} x HTTP {status}"
                        for status, count in sorted(r["answers"].items()))  # type: ignore[attr-defined]
    print(f"  photos answered: {answers}; p50 {r['photo_p50']:.0f} ms each")
    print(f"  p99 / limit: {r['p99']:.1f} / {QR_LIMIT_MS:.0f} ms = {r['p99'] / QR_LIMIT_MS:.2f}"
          f"  ({'within' if r['p99'] <= QR_LIMIT_MS else 'OVER'} the limit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="in-process QR verifications")
    parser.add_argument("--seconds", type=int, default=10, help="HTTP load duration")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved HTTP rounds")
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--only", choices=["pdf", "photos", "http"],
                        help="one part only: in-process (QR, PDF), the photo flood, or HTTP")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bkt-bench-") as tmp:
        directory, credential, pdf = setup(Path(tmp))
        if args.only in (None, "pdf"):
            r = in_process(directory, credential, pdf, args.n)
            print(f"in-process, warm cache (n={args.n}):")
            print(f"  QR credential  p50 {r['qr_p50']:.3f} ms   p99 {r['qr_p99']:.3f} ms"
                  "   (target p50 < 2 ms)")
            pages = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"]
            print(f"  PDF            p50 {r['pdf_p50']:.1f} ms   p99 {r['pdf_p99']:.1f} ms"
                  f"   ({pages} pages, {len(pdf) // 1024} KB; target p50 < 100 ms)")
            print(f"    of which the printed-QR check (render page 1, read its QR): "
                  f"{r['pdf_p50'] - r['pdf_without_qr_p50']:.1f} ms"
                  f"  (p50 without it {r['pdf_without_qr_p50']:.1f} ms)")
        if args.only in (None, "photos") and not args.no_http:
            print_flood(photo_flood(directory, credential, args.seconds), args.seconds)
        if args.only in (None, "http") and not args.no_http:
            over_http(directory, credential, args.seconds, args.rounds, args.python_load)


if __name__ == "__main__":
    main()
