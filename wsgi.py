"""WSGI entry points, one line per app: ``gunicorn wsgi:verifier``."""

from verifier.app import create_app as create_verifier

verifier = create_verifier()
