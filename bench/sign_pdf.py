"""Signing time per transcript: stock pyHanko vs TranscriptSigner.

Stock = ``SimpleSigner.load(key, cert, chain, passphrase)`` per document plus
``signers.sign_pdf(IncrementalPdfFileWriter(...), PdfSignatureMetadata(field_name=...,
certify=True))``, i.e. what a straightforward integration does (`bench/stock.py`).
Run: ``.venv/bin/python bench/sign_pdf.py``.
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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stock import load_stock_signer, stock_sign, stock_signing, timed
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

        stock = stock_signing(d, "1001", PASSPHRASE)
        ours = TranscriptSigner(keys)
        stock_ms = timed(lambda: stock(pdf), args.n)
        loaded = load_stock_signer(d, "1001", PASSPHRASE)
        preloaded_ms = timed(lambda: stock_sign(pdf, loaded), args.n)
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
