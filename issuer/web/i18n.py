"""Thai (the default) and English: locale choice and the compiled message catalogs.

The catalogs are kept as ``translations/<locale>/LC_MESSAGES/messages.po``; the ``.mo``
files are build products (git-ignored), compiled by ``make install`` and, when missing
or older than their ``.po``, by `create_app` itself::

    .venv/bin/python -m issuer.web.i18n           # compile
    .venv/bin/pybabel extract -F issuer/web/babel.cfg -o issuer/web/messages.pot issuer/web
    .venv/bin/pybabel update -i issuer/web/messages.pot -d issuer/web/translations
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import session

LOCALES = ("th", "en")
DEFAULT_LOCALE = "th"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    lang = session.get("lang")
    return lang if lang in LOCALES else DEFAULT_LOCALE


def compile_catalogs(directory: Path = TRANSLATIONS, *, force: bool = False) -> list[Path]:
    """Compile every ``.po`` whose ``.mo`` is missing or stale; return the files written."""
    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        tmp = mo.with_suffix(".mo.tmp")
        try:
            with tmp.open("wb") as f:
                write_mo(f, catalog)
            tmp.replace(mo)
        except OSError:  # a read-only install: the packaged .mo is used as it is
            tmp.unlink(missing_ok=True)
            continue
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_catalogs(force="--force" in sys.argv):
        print(f"compiled {path}")
