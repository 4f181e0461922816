"""WSGI entry points: ``gunicorn wsgi:verifier`` and ``gunicorn wsgi:issuer``.

Each app is built only when asked for, so serving the verifier never opens the
issuer's database or starts its job worker (and vice versa).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "verifier":
        from verifier.app import create_app as create_verifier

        app = create_verifier()
    elif name == "issuer":
        from issuer.web import create_app as create_issuer

        app = create_issuer()
    else:
        raise AttributeError(name)
    globals()[name] = app
    return app
