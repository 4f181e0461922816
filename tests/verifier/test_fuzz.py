"""Bad input never yields a 500: a replayed corpus of tricky inputs, then hypothesis.

Corpus files (``corpus/``) are sent by prefix: ``pdf-*`` as the multipart ``file``,
``image-*`` as ``image``, ``json-*`` as a raw ``application/json`` body, ``cred-*`` as
``{"credential": <file text>}``. Add a file whenever a new crash is found.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verifier.conftest import Documents, file_config
from verifier.app import create_app

CORPUS = Path(__file__).parent / "corpus"
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def fuzz_app(published: Path) -> Flask:
    return create_app(file_config(published))


@pytest.fixture
def fuzz_client(fuzz_app: Flask) -> FlaskClient:
    return fuzz_app.test_client()


def sane(response: Any) -> dict[str, Any]:
    """Not a 5xx (503 only when a tool is missing), JSON, no trace."""
    assert response.status_code < 500 or response.status_code == 503, (
        response.status_code, response.get_data()[:300])
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    body = json.loads(text)
    if response.status_code == 200:
        assert body["result"] in {"VALID", "INVALID", "REVOKED", "SUPERSEDED", "UNTRUSTED",
                                  "INDETERMINATE"}
    else:
        assert body["error"] and body["message_en"] and body["message_th"]
    return body


def send_file(client: FlaskClient, field: str, data: bytes, name: str = "x") -> Any:
    return client.post("/api/v1/verify", data={field: (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_corpus(fuzz_client: FlaskClient, path: Path) -> None:
    data = path.read_bytes()
    kind = path.name.split("-", 1)[0]
    if kind == "pdf":
        body = sane(send_file(fuzz_client, "file", data, path.name))
    elif kind == "image":
        body = sane(send_file(fuzz_client, "image", data, path.name))
    elif kind == "json":
        body = sane(fuzz_client.post("/api/v1/verify", data=data,
                                     content_type="application/json"))
    elif kind == "cred":
        body = sane(fuzz_client.post("/api/v1/verify",
                                     json={"credential": data.decode("utf-8")}))
    else:
        pytest.fail(f"corpus file without a known prefix: {path.name}")
    assert body.get("result") != "VALID"


@FUZZ
@given(data=st.binary(max_size=4096), pdf_header=st.booleans())
def test_random_uploads(fuzz_client: FlaskClient, data: bytes, pdf_header: bool) -> None:
    sane(send_file(fuzz_client, "file", (b"%PDF-1.7\n" if pdf_header else b"") + data))
    sane(send_file(fuzz_client, "image", data))


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), flips=st.integers(1, 8))
def test_mutated_real_pdf(fuzz_client: FlaskClient, documents: Documents, seed: int,
                          flips: int) -> None:
    rng = random.Random(seed)
    data = bytearray(documents.school.pdf)
    for _ in range(flips):
        choice = rng.random()
        at = rng.randrange(len(data))
        if choice < 0.6:
            data[at] = rng.randrange(256)
        elif choice < 0.8:
            del data[at:at + rng.randrange(1, 64)]
        else:
            data[at:at] = rng.randbytes(rng.randrange(1, 64))
    body = sane(send_file(fuzz_client, "file", bytes(data)))
    if body.get("result") == "VALID":  # only a change the signature does not cover
        assert body["checks"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(body=JSON | st.fixed_dictionaries({"credential": JSON}))
def test_random_json(fuzz_client: FlaskClient, body: Any) -> None:
    body = sane(fuzz_client.post("/api/v1/verify", json=body))
    assert body.get("result") != "VALID"


B64 = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=",
              max_size=200)


@FUZZ
@given(parts=st.lists(B64 | st.text(max_size=50), min_size=1, max_size=5),
       prefix=st.sampled_from(["", "https://verify.bkt.example/v#", "#", " "]))
def test_random_credentials(fuzz_client: FlaskClient, parts: list[str], prefix: str) -> None:
    body = sane(fuzz_client.post("/api/v1/verify", json={"credential": prefix + ".".join(parts)}))
    assert body["result"] != "VALID"


@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_real_credential(fuzz_client: FlaskClient, documents: Documents,
                                 seed: int) -> None:
    rng = random.Random(seed)
    token = list(documents.school.credential)
    at = rng.randrange(len(token))
    original = token[at]
    token[at] = rng.choice([c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789-_." if c != original])
    body = sane(fuzz_client.post("/api/v1/verify", json={"credential": "".join(token)}))
    # base64url's last character may carry unused bits: those changes decode identically
    if body["result"] == "VALID":
        assert at in _last_chars(documents.school.credential)


def _last_chars(token: str) -> set[int]:
    ends, position = set(), 0
    for part in token.split("."):
        position += len(part)
        ends.add(position - 1)
        position += 1
    return ends


@FUZZ
@given(content_type=st.sampled_from(["text/plain", "application/xml", "multipart/form-data",
                                     "multipart/form-data; boundary=x", "application/json",
                                     "application/pdf", "application/x-www-form-urlencoded",
                                     "", "image/png"]),
       data=st.binary(max_size=1024))
def test_random_bodies(fuzz_client: FlaskClient, content_type: str, data: bytes) -> None:
    response = fuzz_client.post("/api/v1/verify", data=data, content_type=content_type)
    sane(response)
