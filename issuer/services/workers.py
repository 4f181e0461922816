"""Worker processes that turn transcript records into signed PDF files.

Each worker loads its institution's keys once (initializer), renders, signs and writes
the PDF atomically, and sends back only what the database needs: no PDF bytes cross
the process boundary. `workers=0` runs the same code in the calling process.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.util
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from issuer.adapters import hsm, keystore, vc_export
from issuer.adapters.credential_signing import sd_jwt_path_for
from issuer.adapters.pki import InstitutionKeys, load_institution_keys
from issuer.adapters.render import Images, warm_up
from issuer.config import DEFAULT_PUBLIC_BASE_URL
from issuer.core.records import TranscriptRecord
from issuer.pipeline import Producer


@dataclass(frozen=True)
class Job:
    """Everything a worker needs besides the record; picklable."""

    keys_dir: Path
    institution: str
    passphrase: bytes
    verifier_url: str
    output_dir: Path
    warm_up: bool = True
    """Load the Thai word list when a worker starts (~0.5 s): vocational layouts wrap
    Thai text with it, school layouts never do."""
    pades_level: str = "B-B"
    """The PAdES level to sign at (`issuer.config.Settings.signing_level`)."""
    tsa_url: str | None = None
    """The time-stamping authority, for B-T and above."""
    token: hsm.TokenConfig | None = None
    """The HSM, for keys in a token: each worker process opens its own session."""
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    """The issuer's public address (`issuer.config.Settings.public_base_url`): the
    SD-JWT VC's Token Status List is served under it; the VC 2.0 export's did:web."""
    vc_export: bool = True
    """Write each version's W3C VC 2.0 export beside its PDF (`issuer.adapters.vc_export`)."""


@dataclass(frozen=True)
class Produced:
    transcript_id: str
    version: int
    record_digest: str
    credential: str
    signing_kid: str
    pdf_path: str  # relative to the output directory
    pdf_sha256: str
    timings: dict[str, float]


class Worker:
    def __init__(self, job: Job, keys: InstitutionKeys | None = None) -> None:
        """`keys`: the institution's keys if the caller has them loaded already."""
        self.job = job
        self.stamp = keystore.stamp(job.keys_dir, job.institution)
        self.keys = keys or load_institution_keys(job.keys_dir, job.institution, job.passphrase,
                                                  job.token)
        self.producer = _producer(self.keys, job)

    def _current(self) -> None:
        """Sign with the active generation: after a rotation (or a compromise) in the
        middle of a job, the next record is signed with the new keys."""
        stamp = keystore.stamp(self.job.keys_dir, self.job.institution)
        if stamp != self.stamp:
            self.keys = load_institution_keys(self.job.keys_dir, self.job.institution,
                                               self.job.passphrase, self.job.token)
            self.producer.close()
            self.producer = _producer(self.keys, self.job)
            self.stamp = stamp

    def produce(self, record: TranscriptRecord, images: Images | None = None) -> Produced:
        self._current()
        doc = self.producer.produce(record, images)
        t0 = time.perf_counter()
        relative = pdf_path_for(record)
        write_atomically(self.job.output_dir / relative, doc.pdf)
        write_atomically(self.job.output_dir / sd_jwt_path_for(relative), doc.sd_jwt.encode())
        timings = doc.timings | {"write": time.perf_counter() - t0}
        if self.job.vc_export:
            t0 = time.perf_counter()
            vc = vc_export.transcript_credential(record, doc.record_digest, self.keys,
                                                 self.job.public_base_url)
            write_atomically(self.job.output_dir / vc_export.vc_path_for(relative),
                             vc_export.to_bytes(vc))
            timings["vc"] = time.perf_counter() - t0
        return Produced(
            record.transcript_id, record.version, doc.record_digest, doc.credential,
            self.keys.kid, relative, hashlib.sha256(doc.pdf).hexdigest(), timings,
        )


def _producer(keys: InstitutionKeys, job: Job) -> Producer:
    """One signer per worker and key generation: at B-LT and above it fetches the OCSP
    responses and CRLs once and reuses them for the whole job (`issuer.adapters.
    pdf_signing.REVOCATION_REUSE`)."""
    return Producer(keys, job.verifier_url, level=job.pades_level, tsa_url=job.tsa_url,
                    public_base_url=job.public_base_url)


def pdf_path_for(record: TranscriptRecord) -> str:
    """Where a version's PDF lives under the output directory. The status index (unique
    per institution) keeps a losing concurrent run from overwriting the winner's file."""
    code, tid = record.institution.code, record.transcript_id
    return f"{code}/{tid}-v{record.version}-{record.status_index}.pdf"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` so that `path` is either absent, old or complete, never partial."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


_worker: Worker | None = None


def _init(job: Job) -> None:
    global _worker
    _worker = Worker(job)
    # a pool's process ends through multiprocessing's finalizers, not atexit
    multiprocessing.util.Finalize(_worker, _worker.producer.close, exitpriority=10)
    if job.warm_up:
        warm_up()


def _produce(record: TranscriptRecord, images: Images | None = None) -> Produced:
    assert _worker is not None, "worker process not initialised"
    return _worker.produce(record, images)


Submit = Callable[[TranscriptRecord, "Images | None"], "Future[Produced]"]
"""Submit a record and the images it names (by digest) for production."""


@contextmanager
def producer_pool(job: Job, workers: int) -> Iterator[Submit]:
    """A function submitting one record for production, returning its future.

    Worker processes start with `forkserver`, so a threaded parent (a web server) is
    never forked while another thread holds a lock. The fork server imports this module
    (renderer, signer, fonts' code) once, so workers start without ~0.5 s of imports
    each; Python 3.11's own preloading of ``__main__`` never takes effect.
    """
    if workers <= 0:
        worker = Worker(job)

        def submit(record: TranscriptRecord, images: Images | None = None
                   ) -> Future[Produced]:
            future: Future[Produced] = Future()
            try:
                future.set_result(worker.produce(record, images))
            except Exception as e:  # handed to the caller through the future
                future.set_exception(e)
            return future

        try:
            yield submit
        finally:
            worker.producer.close()
        return
    context = multiprocessing.get_context("forkserver")
    # no effect once the server is running; pyld (the VC export's, imported on first use)
    context.set_forkserver_preload([__name__, "pyld.jsonld"])
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init, initargs=(job,)
    ) as pool:
        yield partial(pool.submit, _produce)
