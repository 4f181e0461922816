"""WSGI entry points, one line per app: ``gunicorn wsgi:verifier``, ``gunicorn wsgi:issuer``."""

from issuer.web import create_app as create_issuer
from verifier.app import create_app as create_verifier

verifier = create_verifier()
issuer = create_issuer()
