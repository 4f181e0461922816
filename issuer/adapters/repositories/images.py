"""Normalised images (photos, emblems) stored by their SHA-256 digest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.adapters.orm import ImageRow


class ImageChanged(Exception):
    """An image is missing, or its bytes no longer have the digest it is stored under."""


class Images:
    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, kind: str, data: bytes, *, now: datetime) -> str:
        """Store `data` (a normalised image) unless stored already; its hex SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        if self.session.get(ImageRow, sha) is None:
            self.session.add(ImageRow(sha256=sha, kind=kind, size=len(data), data=data,
                                      created_at=now))
            self.session.flush()
        return sha

    def checked(self, digests: Iterable[str]) -> dict[str, bytes]:
        """The images named by `digests`, each checked against its digest; ImageChanged
        naming the first that is missing or altered."""
        wanted = sorted({d for d in digests if d})
        if not wanted:
            return {}
        rows = {r.sha256: r for r in self.session.scalars(
            select(ImageRow).where(ImageRow.sha256.in_(wanted)))}
        out = {}
        for sha in wanted:
            row = rows.get(sha)
            try:
                data = None if row is None else bytes(row.data)
            except Exception as e:  # a sealed value that no longer opens
                raise ImageChanged(f"image {sha[:12]}… cannot be read ({type(e).__name__})"
                                   ) from None
            if data is None:
                raise ImageChanged(f"image {sha[:12]}… is missing")
            if hashlib.sha256(data).hexdigest() != sha:
                raise ImageChanged(f"image {sha[:12]}… does not match its digest")
            out[sha] = data
        return out
