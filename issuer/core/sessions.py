"""When a web session ends by itself: after `idle` without a request, and `absolute`
after its sign-in however busy it was (no sliding renewal past that)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SessionPolicy:
    """How long a signed-in session lasts."""

    idle: timedelta = timedelta(minutes=30)
    """Ended after this long without a request."""
    absolute: timedelta = timedelta(hours=8)
    """Ended this long after the sign-in, whatever happened since."""
    touch_every: timedelta = timedelta(minutes=1)
    """Record the last request at most this often (one write a minute, not one a request)."""

    def alive(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        """Whether a session signed in at `created_at`, last used at `last_seen_at`, may
        still be used at `now`."""
        return now < created_at + self.absolute and now < last_seen_at + self.idle

    def needs_touch(self, last_seen_at: datetime, now: datetime) -> bool:
        return now - last_seen_at >= self.touch_every
