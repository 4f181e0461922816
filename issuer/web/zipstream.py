"""A ZIP archive written as it is sent: memory holds one member at a time.

`zipfile` writes to an unseekable stream with data descriptors; every ZIP reader
handles those (they read the central directory at the end).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator


class _Sink:
    """An unseekable file that keeps what is written until it is drained."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        chunks, self._chunks = self._chunks, []
        if chunks:
            yield b"".join(chunks)


def zip_stream(members: Iterable[tuple[str, Callable[[], bytes]]]) -> Iterator[bytes]:
    """The bytes of a ZIP holding each ``(name, load)`` member, loaded one at a time."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:  # type: ignore[arg-type]
        for name, load in members:
            archive.writestr(name, load())
            yield from sink.drain()
    yield from sink.drain()
