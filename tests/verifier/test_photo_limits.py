"""Bounded photo decoding (issue 9, part 6).

A 4 MB noise JPEG cost about 7 s of a web worker's CPU, and four in flight delayed an
ordinary QR check by 18 s. Now the worker only reads the picture's header; decoding
runs in a child process with CPU, memory and wall-time limits, a few at a time per
machine, and a request finding every slot taken is answered 503 at once.
(bench/verify.py measures QR checks under a flood of noise photos.)
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from tests.verifier.conftest import BASE_URL, Documents
from verifier import qr_image, sandbox, zbar
from verifier.qr_image import PhotoLimits, QrImageError, decode_qr

pytestmark = pytest.mark.skipif(not zbar.available(), reason="libzbar0 not installed")


def noise_jpeg(side: int = 4000, quality: int = 20) -> bytes:
    """About 4 MB of grey noise: the picture that stalled the service."""
    out = io.BytesIO()
    Image.frombytes("L", (side, side), os.urandom(side * side)).save(out, "JPEG",
                                                                      quality=quality)
    return out.getvalue()


def qr_png(text: str) -> bytes:
    import qrcode

    out = io.BytesIO()
    qrcode.make(text, box_size=4, border=4).save(out, format="PNG")
    return out.getvalue()


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def test_a_noise_photo_costs_the_worker_almost_nothing(tmp_path: Path) -> None:
    data = noise_jpeg()
    assert 3_500_000 < len(data) <= qr_image.MAX_BYTES
    limits = PhotoLimits(lock_dir=tmp_path)
    self_before, children_before = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with pytest.raises(QrImageError) as caught:
        decode_qr(data, limits)
    assert caught.value.code in ("no_qr", "image_too_complex")
    assert cpu(resource.RUSAGE_SELF) - self_before < 0.5  # the web worker: headers only
    child = cpu(resource.RUSAGE_CHILDREN) - children_before
    assert child <= limits.process.cpu_seconds + 0.5
    assert time.monotonic() - started < limits.process.wall_seconds + 1


def test_a_decoding_over_its_time_is_stopped(tmp_path: Path) -> None:
    tight = PhotoLimits(lock_dir=tmp_path, process=sandbox.Limits(cpu_seconds=1,
                                                                  wall_seconds=0.05))
    started = time.monotonic()
    with pytest.raises(QrImageError) as caught:
        decode_qr(noise_jpeg(), tight)
    assert caught.value.code == "image_too_complex"
    assert time.monotonic() - started < 2


def test_cpu_and_wall_limits_of_the_child() -> None:
    burn = [sys.executable, "-c", "while True: pass"]
    started = time.monotonic()
    with pytest.raises(sandbox.Overrun):
        sandbox.run(burn, b"", sandbox.Limits(cpu_seconds=1, wall_seconds=20))
    assert time.monotonic() - started < 5  # stopped by RLIMIT_CPU, not the wall clock
    started = time.monotonic()
    with pytest.raises(sandbox.Overrun):
        sandbox.run(["sleep", "30"], b"", sandbox.Limits(cpu_seconds=5, wall_seconds=0.3))
    assert time.monotonic() - started < 3


def test_memory_limit_of_the_child() -> None:
    hog = [sys.executable, "-c", "x = bytearray(2 * 1024 ** 3); print('allocated')"]
    done = sandbox.run(hog, b"", sandbox.Limits(memory=512 * 1024 * 1024))
    assert done.returncode != 0 and b"allocated" not in done.stdout


def test_too_many_bytes_are_refused_before_any_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "run", lambda *a, **k: pytest.fail("decoded"))
    with pytest.raises(QrImageError) as caught:
        decode_qr(b"\xff\xd8\xff" + bytes(qr_image.MAX_BYTES), PhotoLimits(lock_dir=tmp_path))
    assert caught.value.code == "image_too_large"
    with pytest.raises(QrImageError) as caught:
        decode_qr(b"not a picture at all", PhotoLimits(lock_dir=tmp_path))
    assert caught.value.code == "not_image"


def test_slots_are_shared_between_processes(tmp_path: Path) -> None:
    """Another worker process holds the only slot: no slot here until it lets go."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from verifier.sandbox import Slots\n"
         f"with Slots(1, Path({str(tmp_path)!r})).take() as got:\n"
         "    print(got, flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        with sandbox.Slots(1, tmp_path).take(wait=0.2) as free:
            assert not free
        with sandbox.Slots(2, tmp_path).take() as free:  # a second slot is free
            assert free
    finally:
        holder.kill()
        holder.wait()
    with sandbox.Slots(1, tmp_path).take() as free:  # the kernel freed the dead one's lock
        assert free


def test_busy_answers_503_at_once(app: Flask, tmp_path: Path, documents: Documents) -> None:
    app.extensions["bkt_photo_limits"] = PhotoLimits(lock_dir=tmp_path)
    client = app.test_client()
    picture = qr_png(f"{BASE_URL}/v#{documents.school.credential}")
    with sandbox.Slots(1, tmp_path).take() as free:
        assert free
        started = time.monotonic()
        response = client.post("/api/v1/verify", data={"image": (io.BytesIO(picture), "q.png")},
                               content_type="multipart/form-data")
        assert time.monotonic() - started < 1
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "busy" and "try again" in body["message_en"]
    assert int(response.headers["Retry-After"]) > 0
    again = client.post("/api/v1/verify", data={"image": (io.BytesIO(picture), "q.png")},
                        content_type="multipart/form-data")
    assert again.status_code == 200 and again.get_json()["result"] == "VALID"
