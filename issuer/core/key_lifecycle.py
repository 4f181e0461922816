"""The generations of an institution's signing keys and the rules that move them.

Pure rules, no I/O (the files are `issuer.adapters.keystore`). A *generation* is one
PDF-signing key and one credential key made together; the institution signs with its
single **active** generation. `rotate` makes a new one active and retires the others;
`retire` ends a generation's use without a successor (only with ``final``: the
institution then signs nothing, its status lists included, until the next rotation);
`compromise` records from when a generation's keys may be in other hands, which also
retires it (a compromised active generation is replaced in the same step).

No generation is ever forgotten: verifiers need every one to judge what it signed
(DESIGN.md, Trust: "Retired keys stay published forever").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a reported compromise may lie (clocks differ)."""


class KeyLifecycleError(ValueError):
    """A key-lifecycle step the rules refuse; the message says why, in one line."""


class KeyState(StrEnum):
    ACTIVE = "active"  # the generation the institution signs with
    RETIRED = "retired"  # no longer signs; what it signed in its period of use stays valid
    COMPROMISED = "compromised"  # retired, and its keys may be in other hands since a date


@dataclass(frozen=True)
class Generation:
    """One generation of an institution's keys, as the key store's manifest records it."""

    number: int
    """1, 2, ... in the order they were made; also the directory name in the key store."""
    kid: str
    """The credential key's JWKS kid (RFC 7638 thumbprint prefix): how people name it."""
    pdf_sha256: str
    """base64url SHA-256 of the PDF-signing certificate (DER): how verifiers find the
    generation of a PDF's signer."""
    activated: datetime
    """Start of the period of use."""
    retired: datetime | None = None
    """End of the period of use; None while active."""
    compromised: datetime | None = None
    """From when the keys may be in other hands: what they signed from then on is void."""

    @property
    def state(self) -> KeyState:
        if self.compromised is not None:
            return KeyState.COMPROMISED
        return KeyState.ACTIVE if self.retired is None else KeyState.RETIRED

    def to_json(self) -> dict[str, Any]:
        return {"generation": self.number, "kid": self.kid, "pdf_sha256": self.pdf_sha256,
                "activated": _iso(self.activated), "retired": _iso(self.retired),
                "compromised": _iso(self.compromised)}

    @classmethod
    def from_json(cls, data: Any) -> Generation:
        try:
            number = data["generation"]
            if type(number) is not int or number < 1:
                raise ValueError("generation must be a positive integer")
            activated = _parse(data["activated"])
            if activated is None:
                raise ValueError("activated is required")
            return cls(number, str(data["kid"]), str(data["pdf_sha256"]), activated,
                       _parse(data.get("retired")), _parse(data.get("compromised")))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise KeyLifecycleError(f"unreadable key generation: {e}") from None


@dataclass(frozen=True)
class KeyHistory:
    """Every generation of one institution, oldest first."""

    institution: str
    generations: tuple[Generation, ...] = ()

    def active(self) -> Generation | None:
        """The generation to sign with (the newest active one), or None."""
        return next((g for g in reversed(self.generations) if g.state is KeyState.ACTIVE),
                    None)

    def find(self, kid: str) -> Generation:
        found = next((g for g in self.generations if g.kid == kid), None)
        if found is None:
            known = ", ".join(g.kid for g in self.generations) or "none"
            raise KeyLifecycleError(f"{self.institution} has no key {kid!r} (its keys: {known})")
        return found

    @property
    def next_number(self) -> int:
        return max((g.number for g in self.generations), default=0) + 1

    def rotated(self, new: Generation) -> KeyHistory:
        """`new` becomes the active generation; every active one retires as it starts."""
        if new.number != self.next_number:
            raise KeyLifecycleError(f"the next generation of {self.institution} is "
                                    f"{self.next_number}, not {new.number}")
        if new.state is not KeyState.ACTIVE or any(g.kid == new.kid for g in self.generations):
            raise KeyLifecycleError("a new generation must be active and have a new key")
        kept = tuple(replace(g, retired=new.activated) if g.state is KeyState.ACTIVE else g
                     for g in self.generations)
        return KeyHistory(self.institution, (*kept, new))

    def retired(self, kid: str, now: datetime, *, final: bool = False) -> KeyHistory:
        """`kid`'s generation stops signing now. The only active generation retires only
        when `final` (the institution signs nothing more): its status lists are signed
        with it, so normally `rotated` replaces it instead."""
        generation = self.find(kid)
        if generation.state is not KeyState.ACTIVE:
            raise KeyLifecycleError(f"key {kid} of {self.institution} is already "
                                    f"{generation.state.value}")
        others = [g for g in self.generations
                  if g.state is KeyState.ACTIVE and g.number != generation.number]
        if not others and not final:
            raise KeyLifecycleError(
                f"key {kid} is the only active key of {self.institution}, which signs its "
                "transcripts and status lists: rotate it instead (transcripts keys rotate), "
                "or retire it with --final if the institution issues nothing more")
        return self._with(replace(generation, retired=now))

    def compromised(self, kid: str, since: datetime, now: datetime,
                    successor: Generation | None = None) -> KeyHistory:
        """Record that `kid`'s generation may be in other hands since `since`. An active
        generation needs its `successor` (made by the caller), which takes over now.

        A compromise already recorded may only move earlier: a later date would make
        valid again what was judged void."""
        generation = self.check_compromise(kid, since, now)
        history = self
        if generation.state is KeyState.ACTIVE:
            if successor is None:
                raise KeyLifecycleError(f"key {kid} is the active key of {self.institution}: "
                                        "a new generation must replace it")
            history = self.rotated(successor)
            generation = history.find(kid)
        return history._with(replace(generation, compromised=since))

    def check_compromise(self, kid: str, since: datetime, now: datetime) -> Generation:
        """`kid`'s generation, if a compromise since `since` may be recorded for it."""
        _check_aware(since)
        if since > now + CLOCK_SKEW:
            raise KeyLifecycleError("the compromise time is in the future")
        generation = self.find(kid)
        if generation.compromised is not None and since >= generation.compromised:
            raise KeyLifecycleError(
                f"key {kid} of {self.institution} is already recorded compromised since "
                f"{_iso(generation.compromised)}; only an earlier time can be recorded")
        return generation

    def _with(self, changed: Generation) -> KeyHistory:
        return KeyHistory(self.institution, tuple(
            changed if g.number == changed.number else g for g in self.generations))

    def to_json(self) -> dict[str, Any]:
        return {"institution": self.institution,
                "generations": [g.to_json() for g in self.generations]}

    @classmethod
    def from_json(cls, data: Any) -> KeyHistory:
        try:
            institution = str(data["institution"])
            generations = tuple(Generation.from_json(g) for g in data["generations"])
        except (KeyError, TypeError) as e:
            raise KeyLifecycleError(f"unreadable key history: {e}") from None
        numbers = [g.number for g in generations]
        if numbers != sorted(set(numbers)):
            raise KeyLifecycleError("unreadable key history: generations out of order")
        return cls(institution, generations)


def _check_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise KeyLifecycleError("a time needs its time zone (e.g. 2027-03-01T09:00+07:00)")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: Any) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without a time zone: {text}")
    return moment
