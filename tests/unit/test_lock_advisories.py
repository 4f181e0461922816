"""The fallback audit reads every pin of the lock (it checks what it reads, nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

from tools.lock_advisories import pins

LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"


def test_every_locked_pin_is_read() -> None:
    text = LOCK.read_text()
    found = pins(text)
    assert len(found) == len(re.findall(r"^\S+==", text, re.M)) > 100
    assert found["flask"] and found["pyhanko"] and found["defusedxml"]
    assert pins("foo-bar==1.2 \\\n    --hash=sha256:00\nbaz==3.0 ; python_version >= '3'\n") == {
        "foo-bar": "1.2", "baz": "3.0"}
