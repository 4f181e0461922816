"""Thai dates (Buddhist Era), national ID grouping and word wrapping."""

from __future__ import annotations

from datetime import date

import pytest

from issuer.adapters.render import thai


def test_be_date() -> None:
    assert thai.date_th(date(2026, 3, 31)) == "31 มีนาคม 2569"
    assert thai.date_th(date(2011, 8, 14)) == "14 สิงหาคม 2554"
    assert thai.date_th(date(2026, 1, 1), era=True) == "1 มกราคม พ.ศ. 2569"


def test_every_thai_month_name() -> None:
    names = [thai.date_th(date(2024, m, 1)).split()[1] for m in range(1, 13)]
    assert names == [
        "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
        "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
    ]


def test_ce_date() -> None:
    assert thai.date_en(date(2026, 3, 31)) == "31 March 2026"


@pytest.mark.parametrize(
    ("raw", "printed"),
    [
        ("1234567890123", "1-2345-67890-12-3"),
        ("1-2345-67890-12-3", "1-2345-67890-12-3"),
        ("1103701234567", "1-1037-01234-56-7"),
        ("G123456", "G123456"),  # not a Thai ID: unchanged
        ("123456789012", "123456789012"),  # 12 digits: unchanged
    ],
)
def test_national_id(raw: str, printed: str) -> None:
    assert thai.national_id(raw) == printed


def test_clusters_keep_marks_with_their_base() -> None:
    assert thai.clusters("กิ่ง") == ["กิ่", "ง"]
    assert thai.clusters("น้ำ") == ["น้ำ"]
    assert thai.clusters("ญี่ปุ่น") == ["ญี่", "ปุ่", "น"]


TEXT = "ได้สำเร็จการฝึกอาชีพ หลักสูตรช่างเครื่องปรับอากาศและเครื่องทำความเย็น จำนวน 200 ชั่วโมง"


@pytest.mark.parametrize("width", [18, 24, 30, 45])  # every word fits a line
def test_wrap_breaks_only_between_words(width: int) -> None:
    lines = thai.wrap(TEXT, width, len)
    assert len(lines) > 1
    assert all(len(line) <= width for line in lines)
    # Nothing lost or added apart from the spaces at the breaks.
    assert "".join(lines).replace(" ", "") == TEXT.replace(" ", "")
    # Every break falls on a word boundary of the tokenizer.
    boundaries, pos = set(), 0
    for token in thai.words(TEXT):
        pos += len(token)
        boundaries.add(pos)
    squeezed = TEXT.replace(" ", "")
    pos = 0
    for line in lines[:-1]:
        pos += len(line.replace(" ", ""))
        assert squeezed[:pos] in {TEXT[:b].replace(" ", "") for b in boundaries}


def test_wrap_keeps_short_text_on_one_line() -> None:
    assert thai.wrap("ประกาศนียบัตร", 100, len) == ["ประกาศนียบัตร"]


def test_wrap_splits_an_overlong_word_between_clusters() -> None:
    lines = thai.wrap("เครื่องปรับอากาศ", 4, len)
    assert "".join(lines) == "เครื่องปรับอากาศ"
    assert all(len(line) <= 4 for line in lines)
    assert not any(line[0] in "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e47\u0e48\u0e49"
                   "\u0e4a\u0e4b\u0e4c" for line in lines)


def test_wrap_english() -> None:
    assert thai.wrap("has successfully completed the course", 20, len) == [
        "has successfully", "completed the course",
    ]
