"""A SoftHSM2 token for the tests, in this test process's own temporary folder.

SoftHSM2 reads ``SOFTHSM2_CONF`` when a process first loads it, and the local worker
pool's processes come from a fork server started with the test process's environment:
`point_at_private_tokens` (tests/conftest.py, before any test) sets it for the whole
run, and `init_token` makes the token there. Without the ``softhsm2`` package the tests
are skipped, unless ``BKT_REQUIRE_HSM=1`` (CI), in which case they fail. The benchmark
(`bench/issue_batch.py --hsm`) makes its token the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from issuer.adapters.hsm import SOFTHSM_MODULE, TokenConfig

TOKEN = "bkt-test"
PIN = "test-pin-4711"
SO_PIN = "test-so-pin-0815"
CONF = "SOFTHSM2_CONF"


def point_at_private_tokens() -> Path:
    """Point SoftHSM2 at a fresh folder of this process (removed by `forget_tokens`)."""
    folder = Path(tempfile.mkdtemp(prefix="bkt-softhsm-"))
    os.environ[CONF] = str(folder / "softhsm2.conf")
    return folder


def forget_tokens() -> None:
    conf = os.environ.get(CONF)
    if conf and Path(conf).parent.name.startswith("bkt-softhsm-"):
        shutil.rmtree(Path(conf).parent, ignore_errors=True)


def skip_or_fail(message: str) -> None:
    if os.environ.get("BKT_REQUIRE_HSM") == "1":
        pytest.fail(message)
    pytest.skip(message)


def make_token(label: str = TOKEN) -> TokenConfig:
    """A new token `label` (user PIN `PIN`) in the SoftHSM2 folder ``SOFTHSM2_CONF``
    names (`point_at_private_tokens`); RuntimeError without SoftHSM2 (the benchmark)."""
    util = shutil.which("softhsm2-util")
    if util is None or not SOFTHSM_MODULE.exists():
        raise RuntimeError("SoftHSM2 is not installed: apt-get install softhsm2 "
                           "(make system-deps)")
    conf = Path(os.environ[CONF])
    tokens = conf.parent / "tokens"
    tokens.mkdir(exist_ok=True)
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                    "log.level = ERROR\nslots.removable = false\n")
    subprocess.run([util, "--init-token", "--free", "--label", label,
                    "--so-pin", SO_PIN, "--pin", PIN], check=True, capture_output=True)
    return TokenConfig(SOFTHSM_MODULE, label, PIN)


def init_token(label: str = TOKEN) -> TokenConfig:
    """`make_token` for a test: skipped (or failed, BKT_REQUIRE_HSM=1) without SoftHSM2 or
    python-pkcs11."""
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        skip_or_fail("python-pkcs11 is not installed: pip install -e '.[test]'")
    try:
        return make_token(label)
    except RuntimeError as e:
        skip_or_fail(str(e))
        raise
