"""Background jobs: issuing a batch outside the request that asks for it.

- `api`: `enqueue_issue`, `job_status`, `batch_job`, `BatchJobs` (for the web service);
- `tasks`: `run_job`, the task code both runners share, and `RunnerConfig`;
- `local`: `LocalWorker`, the embedded runner (a thread, or `transcripts worker`);
- `celery_app`: the same task on Celery (``BKT_CELERY_BROKER``);
- `issuer.adapters.job_store`: the job table's conditional updates (claim, heartbeat,
  finish).
"""

from issuer.jobs.api import BatchJobs, JobStatus, batch_job, enqueue_issue, job_status
from issuer.jobs.local import LocalWorker
from issuer.jobs.tasks import RunnerConfig, run_job

__all__ = ["BatchJobs", "JobStatus", "LocalWorker", "RunnerConfig", "batch_job",
           "enqueue_issue", "job_status", "run_job"]
