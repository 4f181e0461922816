"""Stock pyHanko signing, as a straightforward integration does it; shared by the benchmarks.

Per document: ``SimpleSigner.load(key, cert, chain, passphrase)`` (the key file parsed
and decrypted again) and ``signers.sign_pdf(IncrementalPdfFileWriter(...),
PdfSignatureMetadata(field_name=..., certify=True))``, which signs twice to size the
signature container. Our `TranscriptSigner` is measured against this.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from issuer.adapters import keystore


def load_stock_signer(keys_dir: Path, code: str, passphrase: bytes) -> signers.SimpleSigner:
    """The institution's PDF-signing key and chain, loaded from the key store's files
    (its active generation's)."""
    active = keystore.read_history(keys_dir, code).active()
    if active is None:
        raise RuntimeError(f"{code} has no active keys in {keys_dir}")
    folder = keystore.generation_dir(keys_dir, code, active.number)
    signer = signers.SimpleSigner.load(
        str(folder / "pdf.key"),
        str(folder / "pdf.crt"),
        ca_chain_files=(str(keys_dir / "issuing.crt"), str(keys_dir / "root.crt")),
        key_passphrase=passphrase,
    )
    if signer is None:
        raise RuntimeError(f"pyHanko could not load the keys of {code} from {keys_dir}")
    return signer


def stock_sign(pdf: bytes, signer: signers.Signer) -> bytes:
    """A certification signature over `pdf` with pyHanko's defaults."""
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name="Signature", certify=True),
        signer=signer,
    )
    return out.getvalue()


def stock_signing(keys_dir: Path, code: str, passphrase: bytes) -> Callable[[bytes], bytes]:
    """Sign as a naive pipeline does: load the signer afresh for every document."""

    def sign(pdf: bytes) -> bytes:
        return stock_sign(pdf, load_stock_signer(keys_dir, code, passphrase))

    return sign


def timed(fn: Callable[[], object], n: int) -> list[float]:
    """Milliseconds of `n` calls of `fn`, after one warm-up call."""
    fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times
