"""Known vulnerabilities of the locked versions, where pip-audit's feed is not served.

pip-audit reads PyPI's per-release JSON (``/pypi/NAME/VERSION/json``); behind a mirror
that serves only ``/pypi/NAME/json`` it can check nothing. That project-level document
carries the same advisories (the Python Packaging Advisory Database, via OSV) for the
project's *latest* release only, so this checks every locked version that is the latest
release and names the others as unchecked. Exit status 1 on any advisory, else 0.

    python tools/lock_advisories.py requirements.lock
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", re.M)
PROJECT = "https://pypi.org/pypi/{name}/json"


def pins(lock: str) -> dict[str, str]:
    """Every ``name==version`` line of a pip requirements lock."""
    return {name.lower(): version for name, version in PIN.findall(lock)}


def project(name: str) -> dict:
    with urllib.request.urlopen(PROJECT.format(name=name), timeout=30) as answer:
        return json.load(answer)


def main(path: str) -> int:
    locked = pins(Path(path).read_text())
    with ThreadPoolExecutor(16) as pool:
        documents = dict(zip(locked, pool.map(project, locked), strict=True))
    found, unchecked = [], []
    for name, version in sorted(locked.items()):
        latest = documents[name]["info"]["version"]
        if latest != version:
            unchecked.append(f"{name} {version} (latest {latest})")
            continue
        for v in documents[name].get("vulnerabilities") or []:
            if not v.get("withdrawn"):
                found.append(f"{name} {version}: {v['id']} fixed in {v.get('fixed_in')}")
    print(f"{len(locked) - len(unchecked)} of {len(locked)} locked versions are their "
          f"project's latest release and were checked: {len(found)} known vulnerabilities")
    for line in found:
        print("  VULNERABLE", line)
    if unchecked:
        print("not checked (not the latest release):", "; ".join(unchecked))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock"))
