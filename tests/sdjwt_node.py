"""Verify an SD-JWT VC presentation with `@sd-jwt/sd-jwt-vc` (tests/sdjwt/verify.mjs), to
compare with our verifier; ``make sdjwt`` installs it (npm ci from the lock file)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

HERE = Path(__file__).parent / "sdjwt"
SCRIPT = HERE / "verify.mjs"
LIBRARY = HERE / "node_modules" / "@sd-jwt" / "sd-jwt-vc" / "package.json"


def require_node() -> None:
    """Skip when node or the library is missing (fail under BKT_REQUIRE_NODE=1)."""
    missing = ("node is not installed" if shutil.which("node") is None
               else "@sd-jwt/sd-jwt-vc is not installed: make sdjwt (npm ci in tests/sdjwt)"
               if not LIBRARY.exists() else None)
    if missing is None:
        return
    if os.environ.get("BKT_REQUIRE_NODE") == "1":
        pytest.fail(missing)
    pytest.skip(missing)


def library_version() -> str:
    return json.loads(LIBRARY.read_text())["version"]


def node_verify(presentation: str, public_key: ec.EllipticCurvePublicKey, tmp: Path,
                status_list: str) -> dict[str, Any]:
    """The library's answer: ``{"verified": true, "claims", "header", "unused"}`` or
    ``{"verified": false, "error"}``. `status_list`: the Token Status List JWT the
    presentation's ``status.status_list.uri`` names (given, never fetched)."""
    jwk = tmp / "issuer-jwk.json"
    jwk.write_text(json.dumps(ECKey.import_key(public_key).as_dict()))
    listed = tmp / "status-list.jwt"
    listed.write_text(status_list)
    done = subprocess.run(["node", str(SCRIPT), str(jwk), str(listed)], input=presentation,
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)
