"""Names as a registrar may import them: what is refused, and what is only questioned.

Pure, no I/O. `name_problem` returns why a name is malformed (Thai and English), or
None; `prefix_sex_conflicts` returns the prefix/sex disagreements a registrar must confirm.

Thai text is checked as a sequence of characters in the spirit of the WTT 2.0 input
sequence check (TIS 1566-2541, the rule Thai keyboards and input methods apply: which
class of character may follow which), made stricter where Thai spelling is certain:

- an upper vowel (ั ิ ี ึ ื), a lower vowel (ุ ู), ็, ฺ or ํ sits on a consonant;
- a tone mark (่ ้ ๊ ๋) sits on a consonant or on its upper or lower vowel, once;
- ์ sits on a consonant, on ิ (ศักดิ์) or on ุ (พันธุ์), once;
- ำ follows a consonant or its tone mark (น้ำ); ะ and า follow a consonant, its tone
  mark, or า (เกาะ); ๅ follows ฤ or ฦ, which take no marks;
- a leading vowel (เ แ โ ใ ไ) is followed by a consonant: เเ is a mistyped แ;
- ๆ follows a Thai letter; ๎ (obsolete) and ฯ (an abbreviation mark) are not in names.

So จักรพันธ์ุ์ (ุ on ์), two tone marks, two upper vowels, ํ + า for ำ, a tone typed after
ำ and a mark with no consonant under it are refused, while ปิ่นปั้น, ญาญ่าน้ำผึ้ง,
ศักดิ์สิทธิ์ and ฤทธิ์ pass. Digits (Arabic and Thai), control and invisible characters
(zero-width space, direction overrides, soft hyphen) are refused in every name.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum

CONSONANTS = frozenset("กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ")
FV3 = frozenset("ฤฦ")  # vowel letters: take ๅ, no marks
LEADING = frozenset("เแโใไ")
UPPER = frozenset("ัิีึื")
LOWER = frozenset("ุู")
TONES = frozenset("่้๊๋")
THANTHAKHAT = "์"
SARA_AM = "ำ"
MAITAIKHU = "็"
PHINTHU = "ฺ"
NIKHAHIT = "ํ"
MAIYAMOK = "ๆ"
THAI_LETTERS = CONSONANTS | FV3 | LEADING | frozenset("ะาๅ") | {SARA_AM}
MARKS = UPPER | LOWER | TONES | frozenset({THANTHAKHAT, MAITAIKHU, PHINTHU, NIKHAHIT})
APOSTROPHES = frozenset("'\u2019")  # Excel turns ' into ’ as you type


class NameKind(Enum):
    """Which characters a name column allows besides letters."""

    THAI = ("thai", " -")  # first and family names: ณ อยุธยา has a space
    THAI_PREFIX = ("thai", " .")  # คำนำหน้า: ด.ช., ว่าที่ ร.ต.
    THAI_FULL = ("thai", " .-")  # a parent's name with its prefix
    LATIN = ("latin", " -.'\u2019")  # O'Brien, Mary-Jane, St. John
    LATIN_PREFIX = ("latin", " .")  # Mr, Mrs., Dr.

    def __init__(self, script: str, others: str) -> None:
        self.script, self.others = script, frozenset(others)


MAX_LENGTH = {  # characters (code points, marks included), see docs/batch-format.md
    NameKind.THAI: 50, NameKind.LATIN: 50, NameKind.THAI_PREFIX: 40,
    NameKind.LATIN_PREFIX: 40, NameKind.THAI_FULL: 120,
}


@dataclass(frozen=True)
class Problem:
    """Why a name is refused, in Thai and English."""

    th: str
    en: str


def _shown(ch: str) -> str:
    """A character as a reader can see it: a mark on a dotted circle, else with its code."""
    if unicodedata.category(ch).startswith("M"):
        return f"◌{ch}"
    return f"{ch} (U+{ord(ch):04X})" if not ch.isprintable() or ch.isspace() else ch


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp") or (
        ch.isspace() and ch != " ")


def name_problem(text: str, kind: NameKind) -> Problem | None:
    """Why `text` is not a well-formed name of `kind`, or None. Blank is not judged here."""
    for i, ch in enumerate(text, start=1):
        if _invisible(ch):
            return Problem(f"มีอักขระควบคุมหรืออักขระที่มองไม่เห็น (U+{ord(ch):04X}) ที่ตัวที่ {i}",
                           f"holds a control or invisible character (U+{ord(ch):04X}) at "
                           f"character {i}")
    for i, ch in enumerate(text, start=1):
        if unicodedata.category(ch) == "Nd":
            return Problem(f"ชื่อต้องไม่มีตัวเลข (พบ {ch} ที่ตัวที่ {i})",
                           f"a name holds no digits (found {ch} at character {i})")
    limit = MAX_LENGTH[kind]
    if len(text) > limit:
        return Problem(f"ยาวเกิน {limit} ตัวอักษร ({len(text)} ตัว)",
                       f"longer than {limit} characters ({len(text)})")
    if "  " in text:
        return Problem("มีช่องว่างติดกันสองช่อง", "holds two spaces in a row")
    if kind.script == "thai":
        return _thai_problem(text, kind.others)
    return _latin_problem(text, kind.others)


def _latin_problem(text: str, others: frozenset[str]) -> Problem | None:
    for i, ch in enumerate(text, start=1):
        latin = ch.isalpha() and "LATIN" in unicodedata.name(ch, "")
        if not latin and ch not in others:
            allowed = "ช่องว่าง - ' ." if "-" in others else "ช่องว่าง ."
            allowed_en = "space, hyphen, apostrophe, period" if "-" in others \
                else "space, period"
            return Problem(f"ใช้ได้เฉพาะอักษรละติน และ {allowed} (พบ {_shown(ch)} ที่ตัวที่ {i})",
                           f"only Latin letters, {allowed_en} (found {_shown(ch)} at "
                           f"character {i})")
    if not text[:1].isalpha():
        return Problem("ต้องขึ้นต้นด้วยตัวอักษร", "must start with a letter")
    return None


def _thai_problem(text: str, others: frozenset[str]) -> Problem | None:
    for i, ch in enumerate(text, start=1):
        if ch not in THAI_LETTERS and ch not in MARKS and ch != MAIYAMOK and ch not in others:
            allowed = " ".join(sorted(others - {" "}))
            extra_th = f"ช่องว่าง {allowed}".strip()
            extra_en = ", ".join(["space", *(
                {"-": "hyphen", ".": "period"}[c] for c in sorted(others - {" "}))])
            return Problem(f"ใช้ได้เฉพาะอักษรไทย และ{extra_th} (พบ {_shown(ch)} ที่ตัวที่ {i})",
                           f"only Thai letters, {extra_en} (found {_shown(ch)} at "
                           f"character {i})")
    for i in range(len(text)):
        problem = _thai_sequence(text, i)
        if problem is not None:
            th, en = problem
            return Problem(f"ลำดับสระ วรรณยุกต์ไม่ถูกต้องที่ตัวที่ {i + 1}: {th}",
                           f"a misspelt Thai sequence at character {i + 1}: {en}")
    return None


def _thai_sequence(text: str, i: int) -> tuple[str, str] | None:
    """What is wrong with character `i` of `text` given what precedes it, or None."""
    ch = text[i]
    before = text[i - 1] if i else ""
    base = text[i - 2] if i > 1 else ""
    nothing = (f"{_shown(ch)} ไม่มีพยัญชนะรองรับ", f"{_shown(ch)} has no consonant under it")
    if ch in LEADING:
        after = text[i + 1] if i + 1 < len(text) else ""
        if after in LEADING:
            return (f"สระ {ch}{after} ซ้อนกัน (ถ้าหมายถึงสระแอ ให้พิมพ์ แ ตัวเดียว)",
                    f"two leading vowels {ch}{after} (for แ type it once, not เเ)")
        if after not in CONSONANTS:
            return f"สระ {ch} ต้องตามด้วยพยัญชนะ", f"the vowel {ch} must be followed by a consonant"
        return None
    if ch in UPPER | LOWER | {MAITAIKHU, PHINTHU, NIKHAHIT}:
        if before in CONSONANTS:
            return None
        if before in UPPER | LOWER | {MAITAIKHU}:
            return (f"สระหรือเครื่องหมายซ้อนกัน ({_shown(before)} แล้ว {_shown(ch)})",
                    f"two vowels or marks on one consonant ({_shown(before)} then {_shown(ch)})")
        if before == THANTHAKHAT or before in TONES:
            return (f"{_shown(ch)} ตามหลัง {_shown(before)} (สระต้องมาก่อนวรรณยุกต์และการันต์)",
                    f"{_shown(ch)} after {_shown(before)} (the vowel comes before a tone "
                    "mark or ์)")
        return nothing
    if ch in TONES:
        if before in CONSONANTS or before in UPPER | LOWER:
            return None
        if before in TONES:
            return "วรรณยุกต์สองตัวบนพยัญชนะเดียวกัน", "two tone marks on one consonant"
        if before == SARA_AM:
            return ("วรรณยุกต์ต้องพิมพ์ก่อนสระอำ (น้ำ ไม่ใช่ นำ้)",
                    "the tone mark comes before ำ (น้ำ, not นำ้)")
        return nothing if before not in MARKS else (
            f"วรรณยุกต์ตามหลัง {_shown(before)}", f"a tone mark after {_shown(before)}")
    if ch == THANTHAKHAT:
        if before in CONSONANTS or before in "ิุ":
            return None
        if before == THANTHAKHAT:
            return "การันต์ซ้ำ", "two ์ in a row"
        return nothing if before not in MARKS else (
            f"การันต์ตามหลัง {_shown(before)}", f"์ after {_shown(before)}")
    if ch == SARA_AM:
        if before in CONSONANTS or (before in TONES and base in CONSONANTS):
            return None
        return "สระอำต้องตามพยัญชนะ (หรือวรรณยุกต์ของพยัญชนะ)", "ำ must follow a consonant " \
            "(or its tone mark)"
    if ch in "ะา":
        if before == NIKHAHIT and ch == "า":
            return ("สระอำพิมพ์เป็นสองตัว (ํ + า) ให้พิมพ์ ำ ตัวเดียว",
                    "ำ typed as two characters (ํ + า): type ำ")
        if before in CONSONANTS or (before in TONES and base in CONSONANTS) or (
                ch == "ะ" and before == "า"):
            return None
        return f"สระ {ch} ไม่มีพยัญชนะนำ", f"the vowel {ch} follows no consonant"
    if ch == "ๅ":
        return None if before in FV3 else ("ๅ ต้องตามหลัง ฤ หรือ ฦ", "ๅ must follow ฤ or ฦ")
    if ch == MAIYAMOK:
        if before and before not in (" ", "-", ".", MAIYAMOK):
            return None
        return "ไม้ยมก (ๆ) ต้องตามหลังคำ", "ๆ must follow a word"
    return None


# --- prefix and sex ------------------------------------------------------------------

MALE, FEMALE = "ชาย", "หญิง"
PREFIX_SEX = {
    "นาย": MALE, "เด็กชาย": MALE, "ด.ช.": MALE,
    "นาง": FEMALE, "นางสาว": FEMALE, "น.ส.": FEMALE, "เด็กหญิง": FEMALE, "ด.ญ.": FEMALE,
    "mr": MALE, "mr.": MALE, "master": MALE, "mstr.": MALE,
    "miss": FEMALE, "mrs": FEMALE, "mrs.": FEMALE, "ms": FEMALE, "ms.": FEMALE,
}
"""Prefixes that state a sex; others (ranks, titles, Dr.) state none."""
_SEX_EN = {MALE: "male", FEMALE: "female"}


def prefix_sex(prefix: str) -> str | None:
    """The sex a prefix states (``ชาย``/``หญิง``), or None."""
    return PREFIX_SEX.get(prefix.strip().lower())


def prefix_sex_conflicts(prefix_th: str, prefix_en: str, sex: str
                         ) -> list[tuple[str, Problem]]:
    """(column, why) for each prefix that disagrees with the sex given (or, without one,
    with the other prefix): a warning the registrar checks and confirms."""
    found: list[tuple[str, Problem]] = []
    th, en = prefix_sex(prefix_th), prefix_sex(prefix_en)
    for column, prefix, stated in (("prefix_th", prefix_th, th), ("prefix_en", prefix_en, en)):
        if sex in (MALE, FEMALE) and stated and stated != sex:
            found.append((column, Problem(
                f"คำนำหน้า {prefix} ไม่ตรงกับเพศ {sex}: ตรวจสอบแล้วยืนยัน",
                f"the prefix {prefix} does not match the sex {sex} ({_SEX_EN[sex]}): check "
                "it, then confirm")))
    if sex not in (MALE, FEMALE) and th and en and th != en:
        found.append(("prefix_en", Problem(
            f"คำนำหน้า {prefix_en} ไม่ตรงกับ {prefix_th}: ตรวจสอบแล้วยืนยัน",
            f"the prefix {prefix_en} does not match {prefix_th}: check it, then confirm")))
    return found
