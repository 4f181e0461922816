"""The session timeouts and the password rules, on the pure core (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from issuer.core.passwords import password_problem
from issuer.core.sessions import SessionPolicy

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
POLICY = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=8))


@pytest.mark.parametrize(("last_seen", "now", "alive"), [
    (T0, T0 + timedelta(minutes=29), True),
    (T0, T0 + timedelta(minutes=30), False),  # idle
    (T0 + timedelta(hours=7, minutes=50), T0 + timedelta(hours=7, minutes=59), True),
    (T0 + timedelta(hours=7, minutes=59), T0 + timedelta(hours=8), False),  # absolute
])
def test_idle_and_absolute_limits(last_seen: datetime, now: datetime, alive: bool) -> None:
    assert POLICY.alive(T0, last_seen, now) is alive


def test_the_last_request_is_recorded_at_most_once_a_minute() -> None:
    assert not POLICY.needs_touch(T0, T0 + timedelta(seconds=59))
    assert POLICY.needs_touch(T0, T0 + timedelta(minutes=1))


@pytest.mark.parametrize(("password", "problem"), [
    ("short", "12 characters"),
    ("reg1001-and-more-words", "username"),
    ("aaaaaaaaaaaa", "too common"),
    ("password1234", "too common"),
    ("Password1234", "too common"),
    ("P@SSW0RD1234", "too common"),
    ("1234567890123", "too common"),
    ("correct horse battery staple", None),
    ("long walks by the klong at dusk " * 2, None),  # 64 characters allowed (ASVS 2.1.2)
    ("x" * 129, "at most 128"),
])
def test_password_rules(password: str, problem: str | None) -> None:
    found = password_problem(password, "reg1001")
    assert (found is None) if problem is None else (problem in str(found))
