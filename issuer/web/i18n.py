"""Thai (the default) and English: locale choice and the compiled message catalogs.

The catalogs are kept as ``translations/<locale>/LC_MESSAGES/messages.po``; the ``.mo``
files are build products (git-ignored), compiled by ``make install`` and, when missing
or older than their ``.po``, by `create_app` itself::

    .venv/bin/python -m issuer.web.i18n           # compile
    .venv/bin/python -m issuer.web.i18n extract   # new messages into the .po (make messages)

The messages are the web's (``_``, ``_l``, templates) and every refusal the services can
give (`issuer.core.refusal`: ``ServiceError("no batch %(batch)s", batch=7)``), read from the
whole ``issuer`` package.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
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


PACKAGE = Path(__file__).resolve().parent.parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS: dict[str, Any] = {
    "_": None, "gettext": None, "_l": None, "lazy_gettext": None,
    # refusals (`issuer.core.refusal`): their first argument is the catalog message
    "Refusal": None, "ServiceError": None, "LifecycleError": None, "Phrase": None,
    "InvalidReason": None, "Changed": None,
}


def used_messages() -> set[str]:
    """Every message the service can show: the catalog must translate each."""
    return {message for _, _, message, _, _ in extract_from_dir(
        str(PACKAGE), METHODS, keywords=KEYWORDS) if isinstance(message, str)}


def extract(directory: Path = TRANSLATIONS) -> None:
    """Add new messages to every ``.po`` (empty, to translate) and drop gone ones."""
    template = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), METHODS, keywords=KEYWORDS):
        template.add(message, None, [(filename, lineno)], auto_comments=comments,
                     context=context)
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        catalog.update(template, no_fuzzy_matching=True)
        with po.open("wb") as f:
            write_po(f, catalog, width=100, ignore_obsolete=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["extract"]:
        extract()
    for path in compile_catalogs(force="--force" in sys.argv):
        print(f"compiled {path}")
