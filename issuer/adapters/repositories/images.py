"""Normalised images (photos, emblems) stored by their SHA-256 digest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.adapters import at_rest
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

    def verify(self, digests: Iterable[str], slice_size: int = 200) -> None:
        """Check that every image named is there and unaltered (ImageChanged if not),
        a slice at a time: a large batch's photos are never all held at once."""
        wanted = sorted({d for d in digests if d})
        for start in range(0, len(wanted), slice_size):
            self._read(wanted[start:start + slice_size], keep=False)

    def checked(self, digests: Iterable[str]) -> dict[str, bytes]:
        """The images named by `digests`, each checked against its digest; ImageChanged
        naming the first that is missing or altered."""
        return self._read(sorted({d for d in digests if d}), keep=True)

    def _read(self, wanted: list[str], *, keep: bool) -> dict[str, bytes]:
        if not wanted:
            return {}
        rows = {r.sha256: r for r in self.session.scalars(
            select(ImageRow).where(ImageRow.sha256.in_(wanted)))}
        try:
            return self._check(wanted, rows, keep)
        finally:
            if not keep:  # let the slice's rows go
                for row in rows.values():
                    self.session.expunge(row)

    @staticmethod
    def _check(wanted: list[str], rows: dict[str, ImageRow], keep: bool) -> dict[str, bytes]:
        out = {}
        for sha in wanted:
            row = rows.get(sha)
            try:
                data = None if row is None else bytes(row.data)
            except at_rest.AtRestError:  # a sealed value that no longer opens here
                raise ImageChanged(f"image {sha[:12]}… cannot be decrypted: altered or "
                                   "moved") from None
            if data is None:
                raise ImageChanged(f"image {sha[:12]}… is missing")
            if hashlib.sha256(data).hexdigest() != sha:
                raise ImageChanged(f"image {sha[:12]}… does not match its digest")
            if keep:
                out[sha] = data
        return out
