"""Signing time per transcript: stock pyHanko vs TranscriptSigner.

Stock = ``SimpleSigner.load(key, cert, chain, passphrase)`` per document plus
``signers.sign_pdf(IncrementalPdfFileWriter(...), PdfSignatureMetadata(field_name=...))``,
i.e. what a straightforward integration does. Run: ``.venv/bin/python bench/sign_pdf.py``.
Options: ``--n 50`` documents, ``--sample`` to use the synthetic PDF instead of a rendered
ปพ.1, ``--profile`` for a cProfile of our signer.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from issuer.adapters.pdf_signing import TranscriptSigner
from issuer.adapters.pki import load_institution_keys, write_dev_pki

PASSPHRASE = b"bench passphrase"


def unsigned_pdf(sample: bool) -> tuple[bytes, str]:
    """A rendered school transcript with attachments when the renderer is there."""
    if not sample:
        try:
            from issuer.adapters.render import attach_files, render_transcript
            from tests.factories import school_record

            record = school_record()
            pdf = render_transcript(record, "http://127.0.0.1:8001/v#a.b.c", "ABCD-EFGH")
            return attach_files(pdf, b'{"schema":1}', "a.b.c"), "rendered ปพ.1"
        except Exception as exc:  # the renderer is someone else's work in progress
            print(f"renderer unavailable ({exc!r}); using the synthetic sample")
    from tests.pdfcheck import sample_pdf

    return sample_pdf(), "synthetic sample"


def timed(fn: Callable[[], bytes], n: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--sample", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    pdf, kind = unsigned_pdf(args.sample)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write_dev_pki(d, [("1001", "Bench School")], PASSPHRASE, datetime.now(UTC))
        keys = load_institution_keys(d, "1001", PASSPHRASE)

        def load() -> signers.SimpleSigner:
            signer = signers.SimpleSigner.load(
                str(d / "1001" / "pdf.key"),
                str(d / "1001" / "pdf.crt"),
                ca_chain_files=(str(d / "issuing.crt"), str(d / "root.crt")),
                key_passphrase=PASSPHRASE,
            )
            assert signer is not None
            return signer

        def stock(signer: signers.SimpleSigner | None = None) -> bytes:
            signer = signer or load()
            out = signers.sign_pdf(
                IncrementalPdfFileWriter(BytesIO(pdf)),
                signers.PdfSignatureMetadata(field_name="Signature"),
                signer=signer,
            )
            return out.getvalue()

        ours = TranscriptSigner(keys)
        stock_ms = timed(stock, args.n)
        loaded = load()
        preloaded_ms = timed(lambda: stock(loaded), args.n)
        ours_ms = timed(lambda: ours.sign(pdf), args.n)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.n):
                ours.sign(pdf)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)

    s, o = statistics.median(stock_ms), statistics.median(ours_ms)
    print(f"input: {kind}, {len(pdf) / 1024:.0f} KB, n={args.n}")
    print(f"stock pyHanko:    median {s:7.2f} ms  (min {min(stock_ms):.2f})")
    print(f"  same, key loaded once: median {statistics.median(preloaded_ms):7.2f} ms")
    print(f"TranscriptSigner: median {o:7.2f} ms  (min {min(ours_ms):.2f})")
    print(f"ratio: {o / s:.3f}")


if __name__ == "__main__":
    main()
