"""Run the Node verifier of exported VCs (tests/vc/verify.mjs: the Digital Bazaar stack).

Skips when node or the installed packages (``npm ci`` in tests/vc, `make test` does) are
missing, unless ``BKT_REQUIRE_BROWSER=1`` (CI), which makes it a failure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.browser import skip_or_fail
from verifier.core.jsonld import BKT_V1, CONTEXT_FILES, CONTEXTS_DIR

VC_DIR = Path(__file__).resolve().parent / "vc"
SCRIPT = VC_DIR / "verify.mjs"


def node() -> str:
    """The node binary, or skip (fail under BKT_REQUIRE_BROWSER=1)."""
    binary = shutil.which("node")
    if binary is None:
        skip_or_fail("node is not installed: the VC export is verified with Node")
    if not (VC_DIR / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        skip_or_fail("tests/vc's packages are not installed: cd tests/vc && npm ci")
    assert binary is not None
    return binary


def verify(published: Path, *files: Path) -> dict[str, dict[str, Any]]:
    """``{file name: {verified, status: {revocation, refresh}, error}}`` per file."""
    return run(published, *files)[1]


def run(published: Path, *files: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """The script's exit status (0: every file verified, no status bit set) and `verify`'s
    answer."""
    command = [node(), str(SCRIPT), "--published", str(published),
               "--context", f"{BKT_V1}={CONTEXTS_DIR / CONTEXT_FILES[BKT_V1]}",
               *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False,
                          cwd=VC_DIR)
    assert done.returncode in (0, 1), done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == len(files), done.stdout + done.stderr
    return done.returncode, {Path(entry["file"]).name: entry for entry in lines}
