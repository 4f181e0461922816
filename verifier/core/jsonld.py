"""JSON-LD canonicalisation (RDFC-1.0) with bundled contexts only: never the network.

`load_document` serves the contexts in ``verifier/core/contexts/`` and refuses every
other URL, so signing and verifying work offline and a credential cannot make us fetch
anything. `canonize` refuses a document that JSON-LD expansion would silently shorten:
a term no context defines is dropped by expansion and so never signed (jsonld.js calls
this "safe mode"); here any dropped property, and any ``type`` or ``id`` that is a
relative IRI (a type no context defines), raises `JsonLdError`.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from pathlib import Path
from typing import Any

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
BKT_V1 = "https://transcripts.bangkok.go.th/ns/transcript/v1.jsonld"
"""Our own few terms (the record itself, its digest, the status lists' sequence)."""
CONTEXT_FILES = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-context-3.0.3.json",
    BKT_V1: "bkt-transcript-v1.jsonld",
}


RELATIVE = "https://relative.invalid/"
"""The base that expansion resolves relative IRIs against, to find them: none is allowed."""


class JsonLdError(ValueError):
    """The document cannot be canonicalised safely (unknown context or term)."""


@cache
def context_document(url: str) -> dict[str, Any]:
    """A bundled context by its URL; JsonLdError for any other URL."""
    name = CONTEXT_FILES.get(url)
    if name is None:
        raise JsonLdError(f"context not bundled: {url[:200]}")
    return json.loads((CONTEXTS_DIR / name).read_text("utf-8"))


def load_document(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld's document loader: bundled contexts, nothing else."""
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": context_document(url)}


_PYLD = threading.Lock()
"""pyld keeps module-level LRU caches of contexts (cachetools, not thread-safe): one
canonicalisation at a time in a process (web threads, the publisher)."""


def _refuse_dropped(term: str | None) -> None:
    raise JsonLdError(f"term not defined by any context: {str(term)[:100]}")


def canonize(document: dict[str, Any]) -> str:
    """The document's RDFC-1.0 (URDNA2015) canonical N-Quads; JsonLdError if a term would
    be dropped, an IRI is relative or a context is not bundled (one expansion: it is most
    of the cost)."""
    from pyld import jsonld  # ~0.1 s to import: paid by the first credential, not by
    # every command and process start that only might meet one

    options = {"algorithm": "URDNA2015", "format": "application/n-quads",
               "documentLoader": load_document, "base": RELATIVE}
    try:
        with _PYLD:
            nquads = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped).normalize(
                document, options)
    except JsonLdError:
        raise
    except jsonld.JsonLdError as exc:
        root = _root(exc)
        if isinstance(root, JsonLdError):
            raise root from None
        raise JsonLdError(f"canonicalisation failed: {str(root)[:200]}") from None
    if f"<{RELATIVE}" in nquads:  # a relative IRI, resolved against our marker base
        raise JsonLdError("type or id not defined by any context")
    return nquads


def _root(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc
