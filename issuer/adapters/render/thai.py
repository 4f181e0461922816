"""Thai text helpers: Buddhist Era dates, national ID formatting, word wrapping."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from functools import lru_cache

BE_OFFSET = 543
MONTHS_TH = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
# Thai signs that attach to the preceding character: never start a line with one.
_ATTACHED = frozenset("\u0e31\u0e33\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a"
                      "\u0e45\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e")


def date_th(d: date, era: bool = False) -> str:
    """``date(2026, 3, 31)`` -> ``"31 มีนาคม 2569"`` (``"31 มีนาคม พ.ศ. 2569"`` with `era`)."""
    year = f"พ.ศ. {d.year + BE_OFFSET}" if era else str(d.year + BE_OFFSET)
    return f"{d.day} {MONTHS_TH[d.month - 1]} {year}"


def date_en(d: date) -> str:
    """``date(2026, 3, 31)`` -> ``"31 March 2026"`` (Common Era)."""
    return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"


def national_id(value: str) -> str:
    """Thai national ID in its printed grouping: ``1234567890123`` -> ``1-2345-67890-12-3``.

    Anything that is not 13 digits is returned unchanged (foreign learners' IDs vary).
    """
    digits = value.replace("-", "").replace(" ", "")
    if len(digits) != 13 or not digits.isdigit():
        return value
    return f"{digits[0]}-{digits[1:5]}-{digits[5:10]}-{digits[10:12]}-{digits[12]}"


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """Split `text` into words (PyThaiNLP newmm dictionary), keeping the spaces as tokens.

    The first call loads the dictionary (~0.3 s); results are cached.
    """
    if text.isascii():
        return tuple(_ascii_words(text))
    from pythainlp.tokenize import word_tokenize

    return tuple(word_tokenize(text, engine="newmm", keep_whitespace=True))


def _ascii_words(text: str) -> list[str]:
    out: list[str] = []
    for i, part in enumerate(text.split(" ")):
        if i:
            out.append(" ")
        if part:
            out.append(part)
    return out


def clusters(text: str) -> list[str]:
    """Grapheme-like clusters: a base character with the marks and vowels attached to it."""
    out: list[str] = []
    for ch in text:
        if out and (ch in _ATTACHED or unicodedata.combining(ch)):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap(text: str, max_width: float, measure: Callable[[str], float]) -> list[str]:
    """Break `text` into lines no wider than `max_width`, only between words.

    `measure` gives a string's drawn width. A single word wider than a line is broken
    between clusters, never between a consonant and its vowel or tone mark.
    """
    lines: list[str] = []
    line = ""
    for token in words(text):
        if token.isspace():
            if line:
                line += token
            continue
        candidate = line + token
        if measure(candidate.rstrip()) <= max_width:
            line = candidate
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        if measure(token) <= max_width:
            line = token
            continue
        for cluster in clusters(token):
            if line and measure(line + cluster) > max_width:
                lines.append(line)
                line = ""
            line += cluster
    if line.strip():
        lines.append(line.rstrip())
    return lines
