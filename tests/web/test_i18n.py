"""The Thai catalog covers every message of the web service, and compiles."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from issuer.web import i18n


def test_every_message_has_a_thai_translation() -> None:
    with (i18n.TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="th")
    translated = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
    used = i18n.used_messages()
    assert len(used) > 250  # the templates and the services' refusals are read too
    assert "no batch %(batch)s" in used and "Superseded by version %(n)s" in used
    missing = sorted(str(m) for m in used if not translated.get(m))
    assert missing == [], "run `make messages` and translate these"


def test_catalogs_compile(tmp_path: Path) -> None:
    po = i18n.TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.po"
    copy = tmp_path / "th" / "LC_MESSAGES" / "messages.po"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(po.read_bytes())
    assert i18n.compile_catalogs(tmp_path) == [copy.with_suffix(".mo")]
    assert i18n.compile_catalogs(tmp_path) == []  # up to date: nothing to do
