"""The installed wheel carries what the service reads at run time besides code: the
document templates, migrations, schemas, web templates and the Thai catalog."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_the_files_read_at_run_time(tmp_path: Path) -> None:
    source = tmp_path / "src"
    for name in ("issuer", "verifier", "templates"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n.split("/", 1)[0] for n in names if ".data/" in n)
    for template in (ROOT / "templates").glob("*.toml"):
        assert f"{data}/data/share/bangkok-transcripts/templates/{template.name}" in names
    expected = ["issuer/alembic.ini", "issuer/schemas/transcript-school-v3.json",
                "issuer/web/translations/th/LC_MESSAGES/messages.po",
                "issuer/web/templates/issuer/base.html", "verifier/app/static/verify.js",
                "verifier/core/contexts/credentials-v2.jsonld",  # JSON-LD, never fetched
                "verifier/core/contexts/ob-context-3.0.3.json",
                "verifier/core/contexts/bkt-transcript-v1.jsonld"]
    missing = [n for n in expected if n not in names]
    assert not missing, missing
    assert any(n.startswith("issuer/migrations/versions/0011") for n in names)
