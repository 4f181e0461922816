"""The Thai catalog covers every message of the web service, and compiles."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from issuer.web import i18n

WEB = Path(i18n.__file__).parent
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def test_every_message_has_a_thai_translation() -> None:
    with (i18n.TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="th")
    translated = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
    used = {message for _, _, message, _, _ in extract_from_dir(
        str(WEB), METHODS, keywords=KEYWORDS)}
    assert len(used) > 150  # the templates are read too
    missing = sorted(str(m) for m in used if not translated.get(m))
    assert missing == [], "run pybabel update (see issuer/web/i18n.py) and translate these"


def test_catalogs_compile(tmp_path: Path) -> None:
    po = i18n.TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.po"
    copy = tmp_path / "th" / "LC_MESSAGES" / "messages.po"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(po.read_bytes())
    assert i18n.compile_catalogs(tmp_path) == [copy.with_suffix(".mo")]
    assert i18n.compile_catalogs(tmp_path) == []  # up to date: nothing to do
