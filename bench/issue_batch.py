"""Issue N transcripts end to end and report speed, stages, memory and signing vs stock.

    .venv/bin/python bench/issue_batch.py              # 200 transcripts, 2 workers
    .venv/bin/python bench/issue_batch.py --n 1000     # or --n 10000
    .venv/bin/python bench/issue_batch.py --level B-LTA --levels all
    options: --workers 2, --vocational 0.1 (share of vocational trainees), --sign-runs 10,
    --level (PAdES level of the issuance, default B-B), --levels (signing cost per level),
    --photos (a photo per school student), --hsm (the same run again with the institutions'
    keys in a SoftHSM2 token, PKCS#11: both rates and their ratio printed; the stock signer
    it is compared with is then pyHanko's own PKCS11Signer over the same token key)

Everything lives in a temporary directory: a SQLite database, a development PKI and the
output PDFs. The students are generated with the sample generator's row builders
(`examples/make_examples.py`; names recombined, IDs numbered), written as CSV batch files
in the documented format and imported through the service layer, several files when N
exceeds a file's limits (`MAX_BYTES`, `MAX_ROWS`). Import is timed apart; the headline is
issuance (approve + issue every batch, as `transcripts issue` does) in transcripts/s.

Memory: the parent's RSS and the pool workers' RSS (read from ``/proc``; with the
`forkserver` start method the workers are the parent's grandchildren) are sampled as each
chunk is stored; the table shows them at 25/50/75/100 % of N, and peaks (VmHWM, the
parent's reset after import). Signing: our per-transcript signing time in the pipeline
and alone, against a stock pyHanko certification (`bench/stock.py`) of the same unsigned
PDF, in the same run. PAdES levels (docs/long-term-validity.md): above B-B, the PKI's
services (TSA, OCSP, CRL; `issuer.pki_services`) run on 127.0.0.1 in a thread of this
process, so their work counts too; `--levels` signs the same PDF at each level and
reports the time and the bytes each adds.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import itertools
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stock import stock_sign, stock_signing, timed  # noqa: E402
from examples import make_examples as ex  # noqa: E402
from issuer import demo_images  # noqa: E402
from issuer.adapters import hsm  # noqa: E402
from issuer.adapters.batchfile import MAX_CSV_BYTES as MAX_BYTES  # noqa: E402
from issuer.adapters.pdf_signing import (  # noqa: E402
    PadesLevel,
    TranscriptSigner,
    http_timestamper,
)
from issuer.adapters.pki import write_dev_pki  # noqa: E402
from issuer.config import Settings  # noqa: E402
from issuer.core.batch import MAX_ROWS  # noqa: E402
from issuer.core.lifecycle import AccountRole  # noqa: E402
from issuer.pipeline import Producer  # noqa: E402
from issuer.pki_services import create_app, running  # noqa: E402
from issuer.services.admin import load_institutions, set_emblem  # noqa: E402
from issuer.services.approval import approve  # noqa: E402
from issuer.services.context import Actor, Issuer  # noqa: E402
from issuer.services.importing import import_batch  # noqa: E402
from issuer.services.issuing import issue_batch, transcript_record  # noqa: E402
from issuer.services.review import submit_batch  # noqa: E402

TARGET_RATE = 20.0  # transcripts/s end to end on a 2-core machine
TARGET_10K_MINUTES = 9.0
TARGET_SIGN_RATIO = 0.2  # our signing time / stock pyHanko's
FLAT_SLACK = 0.10  # memory is "flat" if it grows by at most 10 % (+ 16 MB) from 25 % to 100 %
FLAT_SLACK_MB = 16.0
PASSPHRASE = b"bench passphrase"
SCHOOL, CENTRE = "1001", "2001"
SYSTEM = Actor("bench", "bench")


def staff(code: str) -> tuple[Actor, Actor]:
    """The registrar and the director of institution `code`."""
    return (Actor(f"registrar@{code}", "bench", AccountRole.REGISTRAR, code),
            Actor(f"director@{code}", "bench", AccountRole.APPROVER, code))
SIZE_MARGIN = 0.9  # fill a batch file to at most 90 % of the byte limit (names vary)
STAGES = ("credential", "render", "sign", "write", "vc", "store")


# --- the batch files ------------------------------------------------------------------

def _surname(full_name: str, surname: str) -> str:
    return f"{full_name.rsplit(' ', 1)[0]} {surname}" if full_name else ""


def school_students(count: int, start: int) -> list[tuple[Any, ...]]:
    """`count` students shaped as `make_examples.STUDENTS`: the k-th takes the given name,
    grades and exceptions of one sample student and the family name of another."""
    base = ex.STUDENTS
    people = []
    for k in range(start, start + count):
        given, family = base[k % len(base)], base[(k // len(base)) % len(base)]
        lth, len_ = family[2], family[5]
        father, mother = (_surname(p, lth) for p in given[9:11])
        people.append((*given[:2], lth, *given[3:5], len_, *given[6:9], father, mother,
                       *given[11:]))
    return people


def trainees(count: int, start: int) -> list[tuple[str, ...]]:
    """`count` trainees shaped as `make_examples.TRAINEES`, recombined the same way."""
    base = ex.TRAINEES
    people = []
    for k in range(start, start + count):
        given, family = base[k % len(base)], base[(k // len(base)) % len(base)]
        people.append((*given[:2], family[2], *given[3:5], family[5], *given[6:]))
    return people


@dataclass(frozen=True)
class BatchFile:
    code: str
    name: str
    data: bytes
    students: int


def _rows(kind: str, people: Sequence[tuple[Any, ...]], first: int, seed: int) -> list[dict]:
    """The builder's rows, re-seeded until the batch's national IDs are unique."""
    builder = ex.school_rows if kind == SCHOOL else ex.vocational_rows
    for s in itertools.count(seed, 7919):
        rows = builder(people, seed=s, first=first)
        ids = {r["student_id"]: r["national_id"] for r in rows}
        if len(set(ids.values())) == len(ids):
            return rows
    raise AssertionError("unreachable")


def batch_files(n: int, vocational_share: float) -> list[BatchFile]:
    """N students as CSV batch files of at most MAX_BYTES and MAX_ROWS each."""
    n_centre = round(n * vocational_share)
    files = []
    for code, count, people_of, columns in (
        (SCHOOL, n - n_centre, school_students, ex.SCHOOL_COLUMNS),
        (CENTRE, n_centre, trainees, ex.VOCATIONAL_COLUMNS),
    ):
        if not count:
            continue
        probe = _rows(code, people_of(1, 0), 1, 1)
        probe_bytes = len(ex.to_csv(probe, columns))
        per_file = max(1, min(int(MAX_BYTES * SIZE_MARGIN) // probe_bytes,
                              MAX_ROWS // len(probe), count))
        for number, start in enumerate(range(0, count, per_file), 1):
            people = people_of(min(per_file, count - start), start)
            data = ex.to_csv(_rows(code, people, start + 1, number), columns)
            if len(data) > MAX_BYTES:
                raise RuntimeError(f"batch file {number} of {code} is {len(data):,} bytes")
            files.append(BatchFile(code, f"bench-{code}-{number:03d}.csv", data, len(people)))
    return files


# --- memory -----------------------------------------------------------------------

def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (0 without /proc)."""
    try:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (
                int(v) for v in f.readline().split()[1:9])
    except (OSError, ValueError):
        return 0.0
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int | str) -> dict[str, int]:
    """VmRSS and VmHWM (kB) of a process; empty if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f)
                    if k in ("VmRSS", "VmHWM")}
    except (OSError, ValueError):
        return {}


def _descendants(pid: int) -> dict[int, int]:
    """{descendant pid: its parent pid} of `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, int] = {}
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in found:
                found[child] = parent
                frontier.append(child)
    return found


@dataclass
class Sample:
    done: int
    parent_mb: float
    workers_mb: float  # the largest worker's RSS now
    workers: int


@dataclass
class WorkerStats:
    """One worker process as sampled: RSS at its first and last sample, peak, CPU."""

    first_kb: int
    last_kb: int = 0
    peak_kb: int = 0
    cpu_s: float = 0.0

    @property
    def growth_mb(self) -> float:
        return (self.last_kb - self.first_kb) / 1024


@dataclass
class MemoryMonitor:
    """Samples RSS as issuance progresses (the progress callback); Linux /proc only."""

    total: int
    done: int = 0
    samples: list[Sample] = field(default_factory=list)
    workers: dict[int, WorkerStats] = field(default_factory=dict)
    available: bool = os.path.isdir("/proc/self")

    def start(self) -> None:
        """Reset the parent's peak RSS (VmHWM) so it covers issuance only."""
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass

    def progress(self, count: int) -> None:
        self.done += count
        if not self.available or not count:
            return
        me = os.getpid()
        rss = []
        for pid in (p for p, parent in _descendants(me).items() if parent != me):
            status = _status_kb(pid)
            if status:
                rss.append(status["VmRSS"])
                w = self.workers.setdefault(pid, WorkerStats(status["VmRSS"]))
                w.last_kb, w.peak_kb = status["VmRSS"], max(w.peak_kb, status["VmHWM"])
                w.cpu_s = max(w.cpu_s, _cpu_seconds(pid))
        self.samples.append(Sample(self.done, _status_kb(me).get("VmRSS", 0) / 1024,
                                   max(rss, default=0) / 1024, len(rss)))

    def at(self, fraction: float) -> Sample | None:
        """The first sample at or after `fraction` of the total."""
        return next((s for s in self.samples if s.done >= fraction * self.total), None)

    def parent_peak_mb(self) -> float:
        kb = _status_kb(os.getpid()).get("VmHWM")
        if kb is None:  # no /proc: the process's lifetime peak
            kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb / 1024

    def worker_peak_mb(self) -> float:
        return max((w.peak_kb for w in self.workers.values()), default=0) / 1024

    def worker_growth(self) -> WorkerStats | None:
        """The worker whose RSS grew most between its first and last sample."""
        return max(self.workers.values(), key=lambda w: w.growth_mb, default=None)


# --- the run ----------------------------------------------------------------------

@dataclass
class Results:
    n: int
    workers: int
    batches: int
    import_s: float
    issue_s: float
    parent_cpu_s: float
    machine_cpu_s: float  # every process's CPU during issuance, ours included
    timings: dict[str, float]
    memory: MemoryMonitor
    ours_alone_ms: float
    stock_ms: float
    pdf_kb: float
    level: str = "B-B"
    level_ms: dict[str, float] = field(default_factory=dict)
    """Signing the same PDF at each level (`--levels`): median ms."""
    level_kb: dict[str, float] = field(default_factory=dict)
    stock_name: str = "stock pyHanko"
    """What our signing is compared with: pyHanko's stock signer, or its PKCS11Signer."""
    """KB each level's signature and revisions add to the PDF."""

    @property
    def rate(self) -> float:
        return self.n / self.issue_s

    def stage_ms(self, stage: str) -> float:
        return self.timings.get(stage, 0.0) / self.n * 1000

    @property
    def sign_ratio(self) -> float:
        return self.stage_ms("sign") / self.stock_ms

    @property
    def memory_flat(self) -> bool | None:
        """The parent's RSS from 25 % to 100 % of N, and each worker's from its first
        sample to its last (each batch has its own pool), within the slack."""
        first, last = self.memory.at(0.25), self.memory.at(1.0)
        if first is None or last is None or not self.memory.available:
            return None
        pairs = [(first.parent_mb, last.parent_mb)]
        pairs += [(w.first_kb / 1024, w.last_kb / 1024) for w in self.memory.workers.values()]
        return all(b <= a * (1 + FLAT_SLACK) + FLAT_SLACK_MB for a, b in pairs)


def make_issuer(folder: Path, level: str = "B-B", pki_url: str | None = None,
                token: hsm.TokenConfig | None = None) -> Issuer:
    """An issuer signing at `level`; with `pki_url`, certificates naming the PKI's
    services there and its TSA; the institutions' keys files, or in `token` (an HSM)."""
    keys = folder / "keys"
    write_dev_pki(keys, [(SCHOOL, "Bench School"), (CENTRE, "Bench Centre")], PASSPHRASE,
                  datetime.now(UTC), service_url=pki_url, token=token)
    settings = Settings(
        database_url=f"sqlite:///{folder / 'transcripts.db'}", keys_dir=keys,
        key_passphrase=PASSPHRASE, output_dir=folder / "out",
        published_dir=folder / "published", verifier_url="https://verify.bangkok.go.th",
        pki_url=pki_url, tsa_url=f"{pki_url}/tsa" if pki_url else None, pades_level=level,
        hsm_token=token.token if token else None, hsm_pin=token.pin if token else None,
    )
    issuer = Issuer.open(settings)
    load_institutions(issuer, ROOT / "examples" / "institutions.json", actor=SYSTEM)
    return issuer


class _KeepUnsigned:
    """Stands in for the Producer's signer: keeps the PDF it would have signed."""

    pdf = b""

    def sign(self, pdf: bytes) -> bytes:
        self.pdf = pdf
        return pdf


def unsigned_pdf(issuer: Issuer, batch_id: int) -> tuple[str, bytes]:
    """(institution code, the unsigned PDF the pipeline makes for the batch's first
    student); nothing is stored."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert batch is not None
        record = transcript_record(uow.batches.records(batch)[0], status_index=0,
                                   now=issuer.clock())
        code = batch.institution.code
        images = uow.images.checked([record.record.student.photo_sha256,
                                     record.institution.emblem_sha256])
    producer = Producer(issuer.keys(code), issuer.settings.verifier_url)
    keep = producer.signer = _KeepUnsigned()  # type: ignore[assignment]
    producer.produce(record, images)
    return code, keep.pdf


def _photos(data: bytes) -> bytes:
    """A ZIP with a drawn photo for every student of the CSV batch file `data`."""
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return demo_images.photos_zip(sorted({r["student_id"] for r in rows}))


def pkcs11_signing(issuer: Issuer, code: str, token: hsm.TokenConfig
                   ) -> Callable[[bytes], bytes]:
    """pyHanko's own PKCS#11 signer over the institution's token key: one session, the
    key found on first use, each signature on pyHanko's executor thread."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko.sign.pkcs11 import PKCS11Signer

    keys = issuer.keys(code)
    assert isinstance(keys.pdf_key, hsm.TokenRsaKey)
    opened, _ = hsm.session(token.module, keys.pdf_key.token_label, token.pin)
    certs = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER))
             for c in (keys.pdf_cert, *keys.chain)]
    signer = PKCS11Signer(opened, key_id=keys.pdf_key.ref.id, signing_cert=certs[0],
                          ca_chain=certs[1:], embed_roots=False)
    return lambda pdf: stock_sign(pdf, signer)


def run(n: int, workers: int, vocational_share: float, sign_runs: int, folder: Path,
        out: TextIO, photos: bool = False, level: str = "B-B", levels: Sequence[str] = (),
        token: hsm.TokenConfig | None = None) -> Results:
    with contextlib.ExitStack() as stack:
        pki_url = None
        if level != "B-B" or levels:  # the services start before the key store names them
            pki_url = stack.enter_context(running(create_app(folder / "keys", PASSPHRASE)))
        return _run(n, workers, vocational_share, sign_runs, folder, out, photos, level,
                    levels, pki_url, token)


def _run(n: int, workers: int, vocational_share: float, sign_runs: int, folder: Path,
         out: TextIO, photos: bool, level: str, levels: Sequence[str], pki_url: str | None,
         token: hsm.TokenConfig | None) -> Results:
    issuer = make_issuer(folder, level, pki_url, token)
    files = batch_files(n, vocational_share)
    if photos:  # every school student a photo, both institutions an emblem
        for code in (SCHOOL, CENTRE):
            set_emblem(issuer, code, demo_images.emblem_png(code), actor=SYSTEM)
    kinds = {code: [f for f in files if f.code == code] for code in (SCHOOL, CENTRE)}
    print(f"N={n}: {sum(f.students for f in kinds[SCHOOL])} school, "
          f"{sum(f.students for f in kinds[CENTRE])} vocational, in {len(files)} batch "
          f"file(s) (largest {max(len(f.data) for f in files) / 2**20:.1f} MB; limits "
          f"{MAX_BYTES / 2**20:.0f} MB, {MAX_ROWS:,} rows); workers={workers}, "
          f"{os.cpu_count()} CPUs, SQLite, PAdES {level}; load average before: "
          f"{os.getloadavg()[0]:.2f}", file=out)

    zips = [_photos(f.data) if photos and f.code == SCHOOL else None for f in files]
    t0 = time.perf_counter()
    batch_ids = [import_batch(issuer, f.code, f.name, f.data, actor=staff(f.code)[0],
                              photos=z).batch_id
                 for f, z in zip(files, zips, strict=True)]
    import_s = time.perf_counter() - t0
    codes = [f.code for f in files]
    del files, kinds, zips

    memory = MemoryMonitor(n)
    timings: dict[str, float] = {}
    memory.start()
    t0, cpu0, busy0 = time.perf_counter(), time.process_time(), _machine_busy_seconds()
    for batch_id, code in zip(batch_ids, codes, strict=True):
        registrar, director = staff(code)
        submit_batch(issuer, batch_id, actor=registrar)
        approve(issuer, batch_id, actor=director)
        report = issue_batch(issuer, batch_id, actor=SYSTEM, workers=workers,
                             progress=memory.progress)
        for stage, seconds in report.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
    issue_s, parent_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    machine_cpu_s = _machine_busy_seconds() - busy0
    if memory.done != n:
        raise RuntimeError(f"issued {memory.done} transcripts, expected {n}")

    code, pdf = unsigned_pdf(issuer, batch_ids[0])
    ours = TranscriptSigner(issuer.keys(code))
    stock = (pkcs11_signing(issuer, code, token) if token else
             stock_signing(issuer.settings.keys_dir, code, PASSPHRASE))
    ours_ms = statistics.median(timed(lambda: ours.sign(pdf), sign_runs))
    stock_ms = statistics.median(timed(lambda: stock(pdf), sign_runs))
    level_ms, level_kb = {}, {}
    for name in levels:  # one signer per level, as a worker keeps one for its job
        signer = TranscriptSigner(issuer.keys(code), level=PadesLevel(name), timestamper=(
            http_timestamper(f"{pki_url}/tsa") if name != "B-B" else None))
        level_kb[name] = (len(signer.sign(pdf)) - len(pdf)) / 1024  # warm: revocation data
        level_ms[name] = statistics.median(timed(lambda s=signer: s.sign(pdf), sign_runs))
        signer.close()
    return Results(n, workers, len(batch_ids), import_s, issue_s, parent_cpu_s, machine_cpu_s,
                   timings, memory, ours_ms, stock_ms, len(pdf) / 1024, level, level_ms,
                   level_kb, "pyHanko PKCS11Signer" if token else "stock pyHanko")


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else "PASS" if ok else "FAIL"


def print_results(r: Results, out: TextIO) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    minutes_10k = 10_000 / r.rate / 60
    p(f"import:   {r.import_s:8.1f} s  ({r.n / r.import_s:.1f} transcripts/s; validate + "
      f"store, not in the headline)")
    p(f"issuance: {r.issue_s:8.1f} s  -> {r.rate:.1f} transcripts/s "
      f"(target >= {TARGET_RATE:.0f}: {_verdict(r.rate >= TARGET_RATE)})")
    p(f"  10,000 at this rate: {minutes_10k:.1f} min (target < {TARGET_10K_MINUTES:.0f}: "
      f"{_verdict(minutes_10k < TARGET_10K_MINUTES)})")
    p(f"  end to end with import: {r.n / (r.import_s + r.issue_s):.1f} transcripts/s")
    p("stages, ms per transcript (workers: credential, render, sign, write, vc = the VC 2.0 "
      "export; parent: store)")
    stages = [*STAGES, *sorted(set(r.timings) - set(STAGES))]
    for stage in stages:
        p(f"  {stage:<11} {r.stage_ms(stage):8.2f}")
    worker_ms = sum(r.stage_ms(s) for s in stages if s != "store")
    p(f"  {'worker sum':<11} {worker_ms:8.2f}  (bound with this many workers: "
      f"{1000 / worker_ms * max(1, r.workers):.1f}/s)")
    m = r.memory
    worker_cpu = sum(w.cpu_s for w in m.workers.values())
    if worker_cpu:
        total = r.parent_cpu_s + worker_cpu
        p(f"CPU, ms per transcript: parent {r.parent_cpu_s / r.n * 1000:.1f}, workers "
          f"{worker_cpu / r.n * 1000:.1f} (with their start-up); {os.cpu_count()} cores allow "
          f"{(os.cpu_count() or 1) * r.n / total:.1f}/s at most")
        if r.machine_cpu_s:
            others = max(0.0, r.machine_cpu_s - total) / r.issue_s
            p(f"  other processes on the machine used {others:.2f} of its "
              f"{os.cpu_count()} cores during issuance (figures are only comparable near 0)")
    if m.available:
        cols = [m.at(f) for f in (0.25, 0.5, 0.75, 1.0)]
        p("memory, MB        " + "".join(f"{c:>8}" for c in ("25%", "50%", "75%", "100%"))
          + "    peak")
        p("  parent RSS      " + "".join(f"{s.parent_mb:8.1f}" if s else "     n/a"
                                         for s in cols) + f"{m.parent_peak_mb():8.1f}")
        p("  worker RSS, max " + "".join(f"{s.workers_mb:8.1f}" if s else "     n/a"
                                         for s in cols) + f"{m.worker_peak_mb():8.1f}")
        grown = m.worker_growth()
        if grown is not None:
            p(f"  {len(m.workers)} worker processes ({r.batches} pools, one per batch); the "
              f"most grown: {grown.first_kb / 1024:.1f} -> {grown.last_kb / 1024:.1f} MB")
        p(f"  flat (parent 25 % -> 100 %, each worker first -> last sample; within "
          f"{FLAT_SLACK:.0%} + {FLAT_SLACK_MB:.0f} MB): {_verdict(r.memory_flat)}")
    else:
        p(f"memory: parent peak {m.parent_peak_mb():.1f} MB (no /proc: no samples)")
    p(f"signing, same unsigned PDF ({r.pdf_kb:.0f} KB):")
    p(f"  ours in the pipeline {r.stage_ms('sign'):8.2f} ms/transcript")
    p(f"  ours alone           {r.ours_alone_ms:8.2f} ms (median)")
    how = ("same token key, one session" if r.stock_name != "stock pyHanko"
           else "key loaded per document")
    p(f"  {r.stock_name:<20} {r.stock_ms:8.2f} ms (median; {how}, certify=True)")
    target = (f" (target <= {TARGET_SIGN_RATIO}: {_verdict(r.sign_ratio <= TARGET_SIGN_RATIO)})"
              if r.stock_name == "stock pyHanko" else "")  # the target is against stock
    p(f"  ratio pipeline/stock {r.sign_ratio:8.3f}{target}; alone/stock "
      f"{r.ours_alone_ms / r.stock_ms:.3f}")
    if r.level_ms:
        p("signing per PAdES level, same PDF (TSA, OCSP, CRL on 127.0.0.1 in this process; "
          "revocation data fetched once per signer):")
        base = r.level_ms.get("B-B")
        for name, ms in r.level_ms.items():
            extra = f"  (+{ms - base:.1f} ms over B-B)" if base is not None and name != "B-B" \
                else ""
            p(f"  {name:<6} {ms:8.2f} ms/transcript, +{r.level_kb[name]:5.1f} KB{extra}")


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> Results:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=200, help="transcripts (200, 1000, 10000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (0: inline)")
    parser.add_argument("--vocational", type=float, default=0.1,
                        help="share of vocational trainees (default 0.1)")
    parser.add_argument("--sign-runs", type=int, default=10,
                        help="documents signed by each signer for the ratio")
    parser.add_argument("--photos", action="store_true",
                        help="a photo for every school student, an emblem for both "
                             "institutions")
    parser.add_argument("--level", default="B-B", choices=[lv.value for lv in PadesLevel],
                        help="PAdES level of the issuance (default B-B)")
    parser.add_argument("--levels", default="",
                        help="sign the same PDF at these levels too: 'all' or e.g. B-B,B-LTA")
    parser.add_argument("--hsm", action="store_true",
                        help="run again with the keys in a SoftHSM2 token; compare the rates")
    args = parser.parse_args(argv)
    if args.n < 1 or not 0 <= args.vocational <= 1:
        parser.error("--n must be positive and --vocational within 0..1")
    try:
        levels = ([lv.value for lv in PadesLevel] if args.levels == "all" else
                  [PadesLevel.parse(x).value for x in args.levels.split(",") if x.strip()])
    except ValueError as e:
        parser.error(str(e))
    if not args.hsm:
        with tempfile.TemporaryDirectory(prefix="bkt-bench-") as tmp:
            results = run(args.n, args.workers, args.vocational, args.sign_runs, Path(tmp),
                          out, args.photos, args.level, levels)
        print_results(results, out)
        return results
    from tests import softhsm

    softhsm.point_at_private_tokens()  # before the worker pool's fork server starts
    try:
        token = softhsm.make_token("bkt-bench")
        with tempfile.TemporaryDirectory(prefix="bkt-bench-") as tmp:
            results = run(args.n, args.workers, args.vocational, args.sign_runs,
                          Path(tmp) / "files", out, args.photos, args.level, levels)
            print("--- keys in files", file=out)
            print_results(results, out)
            in_token = run(args.n, args.workers, args.vocational, args.sign_runs,
                           Path(tmp) / "hsm", out, args.photos, args.level, levels, token)
            print("--- keys in SoftHSM2 (PKCS#11)", file=out)
            print_results(in_token, out)
    finally:
        softhsm.forget_tokens()
    print(f"transcripts/s: file keys {results.rate:.1f}, SoftHSM2 {in_token.rate:.1f} "
          f"(ratio {in_token.rate / results.rate:.2f}); signing alone {results.ours_alone_ms:.2f}"
          f" vs {in_token.ours_alone_ms:.2f} ms", file=out)
    return in_token


if __name__ == "__main__":
    main()
