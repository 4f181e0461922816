"""A graduate's selective sharing: a presentation of the version's SD-JWT VC holding only
the disclosures the graduate picked (`verifier.core.sd_jwt_vc`).

The SD-JWT VC with every disclosure is written beside the PDF at issuance; only the
current, unrevoked version is offered. The presentation leaves as a link to the
verifier's ``/sd#<presentation>`` (the fragment never reaches a server) or as a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from issuer.services.context import ServiceError
from issuer.services.graduates import TranscriptView, VersionView
from verifier.core import sd_jwt_vc

DEFAULT_CHOSEN = frozenset({"name", "programme", "graduation_date"})


@dataclass(frozen=True)
class Choice:
    key: str  # "name", "gpa", "courses.3"...
    group: str  # "fields", "terms", "courses", "modules"
    value: Any  # the value it discloses, for the label
    checked: bool


def shareable(view: TranscriptView) -> VersionView | None:
    """The version whose fields can be shared: the current one, if issued and it has an
    SD-JWT VC."""
    current = view.current
    if current.status != "issued" or current.sd_jwt_file is None:
        return None
    return current


def choices(version: VersionView, chosen: frozenset[str] = DEFAULT_CHOSEN) -> list[Choice]:
    return [Choice(f.key, f.group, f.value, f.key in chosen)
            for f in sd_jwt_vc.fields(_full(version))]


def present(version: VersionView, chosen: set[str]) -> str:
    """The presentation with only the `chosen` fields' disclosures."""
    full = _full(version)
    known = {f.key for f in sd_jwt_vc.fields(full)}
    chosen = chosen & known
    if not chosen:
        raise ServiceError("Choose at least one field to share.")
    return sd_jwt_vc.presentation(full, chosen)


def link(verifier_url: str, presentation: str) -> str:
    """The employer's link: the verifier page with the presentation in the fragment."""
    return verifier_url.rstrip("/") + "/sd#" + presentation


def _full(version: VersionView) -> str:
    assert version.sd_jwt_file is not None
    return version.sd_jwt_file.read_text("ascii")
