"""Run the issuer and the verifier web services side by side (development and demo), and
the BMA PKI's online services (CRL, OCSP, TSA: `issuer.pki_services`) when configured on
this machine.

Both are gunicorn processes on localhost: the issuer with its embedded job worker (and
`issuer.gunicorn_conf`, which keeps graduates' link tokens out of every log), the
verifier trusting only the development root and reading the issuer's published JWKS and
status lists over HTTP, as a real verifier would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

from issuer.config import ROOT, Settings
from issuer.pki_services import local_address

Command = tuple[list[str], dict[str, str]]


def service_command(port: int, env: Mapping[str, str]) -> Command:
    """The PKI's online services (`issuer.pki_services`) on 127.0.0.1:`port`."""
    return ([sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "-w", "2",
             "--threads", "4", "-b", f"127.0.0.1:{port}", "wsgi:pki_services"], dict(env))


def commands(settings: Settings, issuer_port: int, verifier_port: int,
             env: Mapping[str, str]) -> list[Command]:
    """The gunicorn command lines with their environments: issuer, verifier, and the PKI
    services when `settings.pki_url` is on this machine."""
    issuer_url = f"http://127.0.0.1:{issuer_port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "-w", "2"]
    issuer_env = {"BKT_PUBLIC_BASE_URL": issuer_url} | dict(env) | {  # links: unless set
        "BKT_WEB_SECURE_COOKIES": "0", "BKT_VERIFIER_URL": f"http://127.0.0.1:{verifier_port}"}
    verifier_env = dict(env) | {
        "BKT_VERIFIER_ROOTS": str(settings.keys_dir / "root.crt"),
        "BKT_VERIFIER_JWKS": f"{issuer_url}/.well-known/jwks.json",
        "BKT_VERIFIER_STATUS": f"{issuer_url}/status",
    }
    found = [
        ([*gunicorn, "-c", "python:issuer.gunicorn_conf", "--threads", "4",
          "-b", f"127.0.0.1:{issuer_port}", "wsgi:issuer"], issuer_env),
        ([*gunicorn, "-b", f"127.0.0.1:{verifier_port}", "wsgi:verifier"], verifier_env),
    ]
    address = local_address(settings.pki_url)
    if address is not None:
        found.append(service_command(address[1], env))
    return found


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(settings: Settings, issuer_port: int = 8000, verifier_port: int = 8001) -> int:
    """Start the services; stop all when one exits or on Ctrl-C / SIGTERM."""
    return run_until_stopped(commands(settings, issuer_port, verifier_port, os.environ))


def run_until_stopped(found: list[Command]) -> int:
    """Run these processes; stop all when one exits or on Ctrl-C / SIGTERM."""
    os.umask(0o077)  # inherited by the services: what they write is theirs alone
    processes = [subprocess.Popen(cmd, env=env) for cmd, env in found]
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
        for p in processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    return max((p.returncode or 0) for p in processes)
