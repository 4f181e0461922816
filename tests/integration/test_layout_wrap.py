"""`fonts.wrap` and `Sheet.pair`: wrap before shrinking, a minimum size, no dropped gloss."""

from __future__ import annotations

import unicodedata

from issuer.adapters.render import fonts
from issuer.adapters.render.fonts import REGULAR
from issuer.adapters.render.layout import GLOSS_MIN, Sheet

COURSE = ("การประยุกต์ใช้เทคโนโลยีสารสนเทศและการสื่อสารเพื่อการแก้ปัญหาในชีวิตประจำวัน"
          "และการพัฒนาชุมชนอย่างยั่งยืน")


def test_wraps_at_full_size_before_shrinking() -> None:
    size, lines = fonts.wrap(COURSE, REGULAR, 8, 100)
    assert size == 8 and len(lines) > 1
    assert "".join(lines) == COURSE.replace(" ", "")
    assert all(fonts.width(line, REGULAR, 8) <= 100 for line in lines)


def test_lines_never_start_with_a_combining_mark() -> None:
    _, lines = fonts.wrap("ศรีสุวรรณ์เจริญรุ่งเรืองสุขสวัสดิ์วงศ์ษากุลธนพัฒน์ไพบูลย์", REGULAR, 9, 40)
    assert len(lines) > 1
    assert not any(unicodedata.combining(line[0]) or line[0] in "ะาำๅ" for line in lines)


def test_shrinks_only_to_the_minimum_then_takes_more_lines() -> None:
    size, lines = fonts.wrap(COURSE, REGULAR, 8, 100, max_lines=1)
    assert size == fonts.MIN_SIZE and len(lines) > 1
    assert fonts.fit(COURSE, REGULAR, 8, 50) == fonts.MIN_SIZE


def test_a_gloss_that_does_not_fit_is_shrunk_not_dropped() -> None:
    s = Sheet()
    width = s.pair(0, 0, "ผลการเรียนเฉลี่ย", "Grade point average of the term", 9,
                   max_width=90)
    assert len(s.pages[0]) == 2  # the Thai and its gloss
    assert width > fonts.width("ผลการเรียนเฉลี่ย", REGULAR, fonts.MIN_SIZE)
    assert GLOSS_MIN == fonts.MIN_SIZE * 0.8
