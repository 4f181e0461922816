"""A Flask app for the log-redaction test: it logs the path it serves, and fails on
``/c/<token>/boom``, so Flask and gunicorn log an exception naming the path."""

from __future__ import annotations

import logging

from flask import Flask, request

app = Flask("issuer.web")


@app.get("/<kind>/<token>")
def opened(kind: str, token: str) -> str:
    logging.getLogger("issuer.web.graduates").warning("opened %s", request.path)
    return "ok"


@app.get("/<kind>/<token>/boom")
def boom(kind: str, token: str) -> str:
    raise RuntimeError(f"failed on {request.full_path}")
