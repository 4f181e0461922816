"""The web service on the real job engine (`issuer.jobs`): approval queues a job that the
embedded worker runs while the page polls its progress; a job queued while no worker ran
(the service was down) is picked up when the service starts again."""

from __future__ import annotations

import io
import re
import time

from flask import Flask

from issuer.core.lifecycle import AccountRole
from issuer.services.context import Actor, Issuer
from issuer.services.importing import import_batch
from issuer.services.review import submit_batch
from issuer.web import create_app
from issuer.web.config import WebConfig
from tests.e2e.conftest import EXAMPLES
from tests.web.conftest import Browser, as_user


def engine_app(issuer: Issuer, *, embedded_worker: bool) -> Flask:
    app = create_app(issuer=issuer, config=WebConfig(
        secret_key="job test", secure_cookies=False, issue_workers=0,
        embedded_worker=embedded_worker))
    app.testing = True
    return app


def submitted_batch(app: Flask) -> tuple[int, Browser]:
    registrar = as_user(app, "reg1001")
    registrar.get("/batches/upload")
    data = (EXAMPLES / "school-batch.csv").read_bytes()
    response = registrar.post("/batches/upload", {"file": (io.BytesIO(data), "s.csv")},
                              content_type="multipart/form-data")
    upload = response.headers["Location"]  # read by the job engine too
    deadline = time.monotonic() + 120
    while not registrar.client.get(f"{upload}/progress.json").get_json()["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    response = registrar.client.get(upload)
    batch_id = int(re.search(r"/batches/(\d+)$", response.headers["Location"]).group(1))  # type: ignore[union-attr]
    registrar.post(f"/batches/{batch_id}/submit")
    return batch_id, registrar


def wait_until_finished(browser: Browser, batch_id: int, seconds: float = 120) -> list[dict]:
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        progress = browser.client.get(f"/batches/{batch_id}/progress.json").get_json()
        seen.append(progress)
        if progress["finished"]:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"not finished: {seen[-1]}")


def _stop(app: Flask) -> None:
    worker = getattr(app.extensions["bkt_jobs"], "worker", None)
    if worker is not None:
        worker.stop(30)


def test_approval_queues_a_job_the_embedded_worker_runs(web_issuer: Issuer) -> None:
    app = engine_app(web_issuer, embedded_worker=True)
    try:
        batch_id, registrar = submitted_batch(app)
        director = as_user(app, "dir1001")
        assert director.post(f"/batches/{batch_id}/approve").status_code == 302
        seen = wait_until_finished(registrar, batch_id)
        last = seen[-1]
        assert last["done"] == last["total"] == last["issued"] == 6 and last["error"] is None
        assert not last["running"]
        page = registrar.get(f"/batches/{batch_id}").get_data(as_text=True)
        assert "transcripts.zip" in page and f"/batches/{batch_id}/issue" not in page
    finally:
        _stop(app)


def test_a_job_queued_before_a_restart_runs_after_it(web_issuer: Issuer) -> None:
    down = engine_app(web_issuer, embedded_worker=False)  # no worker: the job waits
    registrar_1001 = Actor("reg1001", "test", AccountRole.REGISTRAR, "1001")
    batch_id = import_batch(web_issuer, "1001", "s.csv",
                            (EXAMPLES / "school-batch.csv").read_bytes(),
                            actor=registrar_1001).batch_id
    submit_batch(web_issuer, batch_id, actor=registrar_1001)
    as_user(down, "dir1001").post(f"/batches/{batch_id}/approve")
    registrar = as_user(down, "reg1001")
    progress = registrar.client.get(f"/batches/{batch_id}/progress.json").get_json()
    assert progress["running"] and progress["issued"] == 0  # queued
    page = registrar.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert f"/batches/{batch_id}/issue" not in page  # no second start while it is queued

    up = engine_app(web_issuer, embedded_worker=True)  # the service starts again
    try:
        last = wait_until_finished(as_user(up, "reg1001"), batch_id)[-1]
        assert last["issued"] == 6
    finally:
        _stop(up)
