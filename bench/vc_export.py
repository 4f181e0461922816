"""The VC 2.0 export's cost: ms per transcript to build and sign the Open Badges 3.0
credential (``ecdsa-rdfc-2019``: two RDFC-1.0 canonicalisations with pyld, which is
nearly all of it, and one P-256 signature), and its size.

    .venv/bin/python bench/vc_export.py            # 50 of each kind
    .venv/bin/python bench/vc_export.py --n 200

Records come from the test factories: a ม.3 school record (three years of courses), the
same with many courses, and a vocational certificate. Each row: median and p90 ms per
credential (build + sign) and its median CPU time, of which canonicalisation, the
signature alone, the credential's bytes (as written beside the PDF), and the N-Quads it
signs.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from issuer.adapters.pki import generate_authority, issue_institution_keys  # noqa: E402
from issuer.adapters.vc_export import to_bytes, transcript_credential  # noqa: E402
from issuer.core.record_json import record_digest  # noqa: E402
from tests.factories import school_record, vocational_record  # noqa: E402
from verifier.core import jsonld  # noqa: E402

BASE = "https://transcripts.bangkok.go.th"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="credentials of each kind")
    n = parser.parse_args().n
    now = datetime.now(UTC)
    keys = issue_institution_keys(generate_authority(now), "1001", "Bench School", now)
    kinds = {"school (ม.3)": school_record(), "school, many courses":
             school_record(many_courses=True), "vocational": vocational_record()}
    print(f"VC 2.0 export (Open Badges 3.0, ecdsa-rdfc-2019), {n} credentials of each kind")
    print(f"{'record':<22}{'ms median':>10}{'p90':>8}{'CPU ms':>8}{'canon.':>8}{'sign':>7}"
          f"{'bytes':>9}{'N-Quads':>9}")
    for name, record in kinds.items():
        digest = record_digest(record)
        transcript_credential(record, digest, keys, BASE)  # warm: contexts parsed and cached
        total, cpu = [], []
        for _ in range(n):
            t, c = time.perf_counter(), time.process_time()
            credential = transcript_credential(record, digest, keys, BASE)
            total.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        unsigned = {k: v for k, v in credential.items() if k != "proof"}
        t = time.perf_counter()
        nquads = jsonld.canonize(unsigned)
        canon = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        for _ in range(20):
            keys.credential_key.sign(hashlib.sha256(b"x").digest(), ec.ECDSA(hashes.SHA256()))
        sign = (time.perf_counter() - t) * 1000 / 20
        print(f"{name:<22}{statistics.median(total):>10.1f}{percentile(total, 0.9):>8.1f}"
              f"{statistics.median(cpu):>8.1f}{canon:>8.1f}{sign:>7.2f}{len(to_bytes(credential)):>9,}"
              f"{len(nquads.encode()):>9,}")
    print("CPU ms: the process's CPU time (median), steadier than the wall clock on a busy "
          "machine; canon.: one canonicalisation of the credential (a signature makes two: "
          "the proof options' is small)")


if __name__ == "__main__":
    main()
