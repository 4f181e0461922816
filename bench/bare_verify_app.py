"""The yardstick for bench/verify.py: a bare Flask endpoint that checks one ES256 JWS.

No trust store, no status, no verdict: parse the JSON body, split the compact JWS and
verify its signature with one public key (PEM file in ``BENCH_PUBLIC_KEY``). Served by
``gunicorn bench.bare_verify_app:app`` exactly like the verifier.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import Flask, jsonify, request

app = Flask(__name__)
_KEY = serialization.load_pem_public_key(Path(os.environ["BENCH_PUBLIC_KEY"]).read_bytes())


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@app.post("/verify")
def verify():  # type: ignore[no-untyped-def]
    token = request.get_json()["credential"]
    head, payload, signature = token.split(".")
    raw = _b64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        _KEY.verify(der, f"{head}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr, call-arg]
        valid = True
    except InvalidSignature:
        valid = False
    return jsonify({"valid": valid})
