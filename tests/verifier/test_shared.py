"""The store the workers of one verifier share (`verifier.shared`): the newest document
wins, an older one never replaces it, and each kind behaves the same -- in memory, in
files (one machine) and in Redis (every machine; skipped when none listens locally)."""

from __future__ import annotations

import multiprocessing
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from verifier.shared import (
    FileShared,
    MemoryShared,
    RedisShared,
    SharedStatus,
    Stored,
    open_shared,
)

REDIS = "redis://127.0.0.1:6379/0"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "file", pytest.param("redis", marks=pytest.mark.skipif(
    not redis_up(), reason="no Redis on 127.0.0.1:6379"))])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SharedStatus]:
    if request.param == "memory":
        yield MemoryShared()
    elif request.param == "file":
        yield FileShared(tmp_path / "shared")
    else:
        prefix = f"bkt:test:{uuid.uuid4().hex[:12]}"
        shared = RedisShared(REDIS, prefix=prefix)
        yield shared
        shared._redis.delete(*(shared._redis.keys(f"{prefix}:*") or [b"-"]))


def test_the_newest_wins_and_never_goes_back(store: SharedStatus) -> None:
    assert store.get("1001", "revocation") is None and dict(store.sequences("1001")) == {}
    five = Stored(5, "token-5", 100.0)
    assert store.offer("1001", "revocation", five) == five
    assert store.offer("1001", "revocation", Stored(4, "token-4", 200.0)) == five
    assert store.get("1001", "revocation") == five
    same_later = Stored(5, "token-5", 150.0)  # the same document confirmed later
    assert store.offer("1001", "revocation", same_later) == same_later
    assert store.offer("1001", "revocation", Stored(5, "other", 300.0)) == same_later
    six = Stored(6, "token-6", 160.0)
    store.offer("1001", "refresh", six)
    assert dict(store.sequences("1001")) == {"revocation": 5, "refresh": 6}
    assert dict(store.sequences("2001")) == {}
    # a stored document found unusable (e.g. signed under keys since replaced) is replaced
    three = Stored(3, "token-3", 400.0)
    assert store.offer("1001", "refresh", three, replace=True) == three
    assert store.sequences("1001")["refresh"] == 3


def test_names_are_checked(store: SharedStatus) -> None:
    with pytest.raises(ValueError):
        store.offer("../x", "revocation", Stored(1, "t", 0.0))
    with pytest.raises(ValueError):
        store.get("1001", "../../etc")


def _offer_many(directory: str, start: int) -> None:
    shared = FileShared(Path(directory))
    for n in range(start, 200, 4):
        shared.offer("1001", "revocation", Stored(n, f"token-{n}", float(n)))


def test_processes_sharing_files_end_on_the_newest(tmp_path: Path) -> None:
    """Four processes offering interleaved numbers: the highest stays, whatever the order."""
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_offer_many, args=(str(tmp_path), i)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    shared = FileShared(tmp_path)
    assert shared.get("1001", "revocation") == Stored(199, "token-199", 199.0)
    assert shared.sequences("1001") == {"revocation": 199}


def test_redis_down_leaves_each_process_on_its_own() -> None:
    shared = RedisShared("redis://127.0.0.1:1/0", timeout=0.2)
    five = Stored(5, "token-5", 1.0)
    assert shared.offer("1001", "revocation", five) == five
    assert shared.offer("1001", "revocation", Stored(4, "token-4", 2.0)) == five
    assert shared.get("1001", "revocation") == five
    assert shared.sequences("1001") == {"revocation": 5}


def test_open_shared(tmp_path: Path) -> None:
    assert isinstance(open_shared(None), MemoryShared)
    assert isinstance(open_shared("none"), MemoryShared)
    assert isinstance(open_shared(str(tmp_path)), FileShared)
    assert isinstance(open_shared("redis://127.0.0.1:6379/0"), RedisShared)


def test_settings_from_the_environment(tmp_path: Path) -> None:
    from verifier.app.config import VerifierConfig

    default = VerifierConfig.from_env({"BKT_VAR_DIR": str(tmp_path)})
    assert default.shared == str(tmp_path / "verifier")
    assert (default.status_ttl, default.status_max_age, default.clock_skew) == (
        30.0, 12 * 3600.0, 300.0)
    config = VerifierConfig.from_env({
        "BKT_VERIFIER_SHARED": REDIS, "BKT_VERIFIER_STATUS_TTL": "10",
        "BKT_VERIFIER_STATUS_MAX_AGE": "86400", "BKT_VERIFIER_CLOCK_SKEW": "60"})
    assert (config.shared, config.status_ttl, config.status_max_age, config.clock_skew) == (
        REDIS, 10.0, 86400.0, 60.0)
    assert VerifierConfig.from_env({"BKT_VERIFIER_SHARED": "none"}).shared is None


def test_an_unwritable_directory_leaves_each_process_on_its_own(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    shared = FileShared(blocked / "shared")
    five = Stored(5, "token-5", 1.0)
    assert shared.offer("1001", "revocation", five) == five
    assert shared.offer("1001", "revocation", Stored(4, "token-4", 2.0)) == five
