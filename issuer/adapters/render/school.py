"""The ปพ.1 transcript: front page(s) then the back page (see FORMS.md)."""

from __future__ import annotations

from issuer.adapters.render.layout import Sheet
from issuer.adapters.render.school_back import back
from issuer.adapters.render.school_front import front
from issuer.core.records import TranscriptRecord


def layout(s: Sheet, t: TranscriptRecord) -> None:
    """Lay out a ปพ.1 transcript onto `s`."""
    back(s, t, with_legend=not front(s, t))
