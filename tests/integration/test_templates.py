"""Document templates: the fixed wording comes from templates/*.toml, not from code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from issuer.adapters.render import render_transcript
from issuer.adapters.render.templates import DEFAULT_DIR, TemplateError, wording
from tests.factories import school_record, vocational_record
from tests.pdfcheck import pdf_text


def _copy(tmp_path: Path, name: str, old: str, new: str) -> None:
    for f in DEFAULT_DIR.glob("*.toml"):
        if not (tmp_path / f.name).exists():
            shutil.copy(f, tmp_path / f.name)
    path = tmp_path / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_wording_change_is_a_template_change(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _copy(tmp_path, "pp1", 'subdistrict = ["ตำบล/แขวง", "Subdistrict"]',
          'subdistrict = ["แขวง", "Khwaeng"]')
    _copy(tmp_path, "vocational", 'title = ["ประกาศนียบัตร", "Certificate"]',
          'title = ["วุฒิบัตร", "Certificate of Training"]')
    monkeypatch.setenv("TRANSCRIPTS_TEMPLATES", str(tmp_path))
    school = "".join(pdf_text(render_transcript(school_record(), "https://v.example/#x",
                                                "ABCD-EFGH")).split())
    assert "Khwaeng" in school and "ตำบล/แขวง" not in school and "Subdistrict" not in school
    cert = pdf_text(render_transcript(vocational_record(), "https://v.example/#x", "ABCD-EFGH"))
    assert "วุฒิบัตร" in cert and "Certificate of Training" in cert
    assert "ประกาศนียบัตร" not in cert


def test_a_missing_label_is_a_clear_error(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _copy(tmp_path, "pp1", 'left_school = ["วันออกจากโรงเรียน", "Left school"]\n', "")
    monkeypatch.setenv("TRANSCRIPTS_TEMPLATES", str(tmp_path))
    with pytest.raises(TemplateError, match=r"template pp1: no \[back\] left_school"):
        render_transcript(school_record(), "https://v.example/#x", "ABCD-EFGH")


def test_a_label_is_thai_and_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy(tmp_path, "pp1", 'issued = ["วันที่ออกเอกสาร", "Issued"]', 'issued = "วันที่ออกเอกสาร"')
    monkeypatch.setenv("TRANSCRIPTS_TEMPLATES", str(tmp_path))
    with pytest.raises(TemplateError, match=r"\[back\] issued must be \[Thai, English\]"):
        wording("pp1").pair("back", "issued")


def test_an_unreadable_template_is_named(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pp1.toml").write_text("title = [", encoding="utf-8")
    monkeypatch.setenv("TRANSCRIPTS_TEMPLATES", str(tmp_path))
    with pytest.raises(TemplateError, match="cannot read the template"):
        wording("pp1")
