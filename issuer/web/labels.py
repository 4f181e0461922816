"""What statuses and roles are called on the pages, in Thai and English; Jinja filters."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from flask import Flask
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from issuer.config import BANGKOK
from issuer.core.refusal import Both, Phrase, Refusal

LABELS: dict[str, Any] = {
    # batch statuses
    "imported": _l("Uploaded, not yet submitted"),
    "submitted": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "issuing": _l("Issuing"),
    "issued": _l("Issued"),
    "rejected": _l("Sent back"),
    "withdrawn": _l("Withdrawn"),
    # batch kinds and what each record does
    "import": _l("New students"),
    "correction": _l("Correction"),
    "reissue": _l("Reissue"),
    "new": _l("New"),
    # uploads being read
    "queued": _l("Waiting to be read"),
    "reading": _l("Being read"),
    "duplicate": _l("Already uploaded"),
    "failed": _l("Could not be read"),
    # transcript statuses
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
    # share links and their access log
    "live": _l("Live"),
    "locked": _l("Locked"),
    "expired": _l("Expired"),
    "viewed": _l("Viewed"),
    "wrong_pin": _l("Wrong PIN"),
    # roles
    "registrar": _l("Registrar"),
    "approver": _l("Approver (director)"),
    "admin": _l("BMA administrator"),
}


def label(value: Any) -> str:
    key = getattr(value, "value", value)
    return str(LABELS.get(str(key), key))


def said(refusal: Refusal) -> str:
    """A refusal (a `ServiceError`) in the page's language: its message through the
    catalog, a `Phrase` value too, an enum value as its label, a `Both` in the language."""
    thai = str(get_locale()) == "th"

    def word(value: object) -> object:
        if isinstance(value, Phrase):
            return gettext(value)
        if isinstance(value, Both):
            return value.th if thai else value.en
        return label(value) if isinstance(value, Enum) else value

    return gettext(refusal.message) % {k: word(v) for k, v in refusal.values.items()}


def when(value: datetime | None) -> str:
    """A timestamp in Bangkok time; the year in the Buddhist Era when the page is Thai."""
    if value is None:
        return "-"
    local = value.astimezone(BANGKOK)
    if str(get_locale()) == "th":
        return f"{local.day}/{local.month}/{local.year + 543} {local:%H:%M}"
    return local.strftime("%Y-%m-%d %H:%M")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["when"] = when
    app.jinja_env.globals["get_locale"] = get_locale
