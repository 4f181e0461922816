"""WSGI entry points: ``gunicorn wsgi:verifier``, ``gunicorn wsgi:issuer`` and ``gunicorn
wsgi:pki_services`` (CRL, OCSP, TSA).

Each app is built only when asked for, so serving the verifier never opens the
issuer's database or starts its job worker (and vice versa). Importing this module sets
the umask to 077: what a service writes (database, PDFs, secrets) is its own alone,
whatever gunicorn's ``--umask`` says.
"""

from __future__ import annotations

import os
from typing import Any

os.umask(0o077)


def __getattr__(name: str) -> Any:
    if name == "verifier":
        from verifier.app import create_app as create_verifier

        app = create_verifier()
    elif name == "issuer":
        from issuer.web import create_app as create_issuer

        app = create_issuer()
    elif name == "pki_services":
        from issuer.pki_services import create_app_from_env

        app = create_app_from_env()
    else:
        raise AttributeError(name)
    globals()[name] = app
    return app
