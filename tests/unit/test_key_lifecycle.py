"""The rules of key generations (`issuer.core.key_lifecycle`): rotate, retire, compromise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from issuer.core.key_lifecycle import Generation, KeyHistory, KeyLifecycleError, KeyState

T0 = datetime(2026, 6, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=200)
T2 = T1 + timedelta(days=100)


def generation(number: int, at: datetime) -> Generation:
    return Generation(number, f"kid{number}", f"pdf{number}", at)


def history(*generations: Generation) -> KeyHistory:
    return KeyHistory("1001", generations)


def test_rotation_retires_the_active_generation_and_keeps_it() -> None:
    first = history(generation(1, T0))
    rotated = first.rotated(generation(2, T1))
    assert [g.state for g in rotated.generations] == [KeyState.RETIRED, KeyState.ACTIVE]
    assert rotated.generations[0].retired == T1 and rotated.generations[0].activated == T0
    assert rotated.active() == generation(2, T1)
    again = rotated.rotated(generation(3, T2))
    assert [g.retired for g in again.generations] == [T1, T2, None]  # never forgotten
    with pytest.raises(KeyLifecycleError, match="next generation of 1001 is 4"):
        again.rotated(generation(2, T2))
    with pytest.raises(KeyLifecycleError, match="new key"):
        again.rotated(Generation(4, "kid1", "pdf4", T2))


def test_the_only_active_key_retires_only_when_final() -> None:
    keys = history(generation(1, T0)).rotated(generation(2, T1))
    with pytest.raises(KeyLifecycleError, match=r"only active key of 1001.*rotate it instead"):
        keys.retired("kid2", T2)
    with pytest.raises(KeyLifecycleError, match="already retired"):
        keys.retired("kid1", T2)
    with pytest.raises(KeyLifecycleError, match=r"no key 'nope'.*kid1, kid2"):
        keys.retired("nope", T2)
    final = keys.retired("kid2", T2, final=True)
    assert final.active() is None and final.generations[1].retired == T2


def test_compromise_of_a_retired_generation() -> None:
    keys = history(generation(1, T0)).rotated(generation(2, T1))
    since = T0 + timedelta(days=10)
    marked = keys.compromised("kid1", since, T2)
    assert marked.generations[0].state is KeyState.COMPROMISED
    assert marked.generations[0].compromised == since
    assert marked.generations[0].retired == T1  # its period of use is unchanged
    assert marked.active() == keys.active()
    earlier = marked.compromised("kid1", since - timedelta(days=1), T2)
    assert earlier.generations[0].compromised == since - timedelta(days=1)
    for later in (since, since + timedelta(days=1)):  # would make valid what was void
        with pytest.raises(KeyLifecycleError, match="only an earlier time"):
            marked.compromised("kid1", later, T2)


def test_compromise_of_the_active_generation_needs_its_successor() -> None:
    keys = history(generation(1, T0))
    with pytest.raises(KeyLifecycleError, match="active key of 1001: a new generation"):
        keys.compromised("kid1", T1, T1)
    replaced = keys.compromised("kid1", T1 - timedelta(hours=3), T1, generation(2, T1))
    old, new = replaced.generations
    assert old.state is KeyState.COMPROMISED and old.retired == T1
    assert old.compromised == T1 - timedelta(hours=3)
    assert replaced.active() == new


def test_a_compromise_time_must_be_past_and_zoned() -> None:
    keys = history(generation(1, T0)).rotated(generation(2, T1))
    with pytest.raises(KeyLifecycleError, match="future"):
        keys.compromised("kid1", T2 + timedelta(hours=1), T2)
    with pytest.raises(KeyLifecycleError, match="time zone"):
        keys.compromised("kid1", datetime(2026, 7, 1), T2)


def test_the_manifest_round_trips_and_refuses_nonsense() -> None:
    keys = history(generation(1, T0)).rotated(generation(2, T1)).compromised(
        "kid1", T0 + timedelta(days=3), T2)
    assert KeyHistory.from_json(keys.to_json()) == keys
    document = keys.to_json()
    assert document["generations"][0]["compromised"] == "2026-06-04T00:00:00Z"
    document["generations"].reverse()
    with pytest.raises(KeyLifecycleError, match="out of order"):
        KeyHistory.from_json(document)
    with pytest.raises(KeyLifecycleError, match="unreadable"):
        KeyHistory.from_json({"institution": "1001", "generations": [{"generation": 1}]})
