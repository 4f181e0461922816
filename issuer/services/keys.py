"""Signing-key lifecycle: rotate, retire, report a compromise (administrators only).

Each step changes the key store (`issuer.adapters.keystore`, under its lock), records
an audit event in the same go, and republishes the JWKS and the institution's status
lists: verifiers learn every generation with its period of use, and retired and
compromised keys stay published forever (`issuer.adapters.publish`). The rules are
`issuer.core.key_lifecycle`.

The key store changes only once the audit event is appended; should the commit fail,
the previous manifest is put back, so no change goes unrecorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.adapters import keystore
from issuer.adapters.hsm import TokenConfig
from issuer.adapters.pki import PkiError
from issuer.core.key_lifecycle import Generation, KeyHistory, KeyLifecycleError
from issuer.core.refusal import Phrase
from issuer.services.accounts import require_admin
from issuer.services.context import Actor, Issuer, ServiceError, refused


@dataclass(frozen=True)
class KeyChange:
    """What a step did: the institution's generations after it, and the new one, if any."""

    history: KeyHistory
    created: Generation | None = None


def rotate_keys(issuer: Issuer, code: str, *, actor: Actor, hsm: bool = False) -> KeyChange:
    """New PDF-signing and credential keys and certificates for `code` only; its active
    generation retires now, and everything it signed stays valid. The new keys are made
    in the HSM with `hsm`, or when the active ones are there (`token_for`)."""

    def step(history: KeyHistory, make: Callable[[], Generation], now: datetime
             ) -> tuple[KeyHistory, Generation | None]:
        if not history.generations:
            raise ServiceError("%(code)s has no keys yet: transcripts keys create", code=code)
        new = make()
        return history.rotated(new), new

    return _change(issuer, code, actor, "key.rotate", Phrase("rotate signing keys"), step,
                   hsm=hsm)


def retire_key(issuer: Issuer, code: str, kid: str, *, actor: Actor,
               final: bool = False) -> KeyChange:
    """`kid` stops signing now, without a successor. Refused for the institution's only
    active key unless `final` (it then issues nothing, and its status lists cannot be
    re-signed, until `rotate_keys`)."""

    def step(history: KeyHistory, make: Callable[[], Generation], now: datetime
             ) -> tuple[KeyHistory, Generation | None]:
        return history.retired(kid, now, final=final), None

    return _change(issuer, code, actor, "key.retire", Phrase("retire signing keys"), step,
                   detail={"kid": kid, "final": final})


def compromise_key(issuer: Issuer, code: str, kid: str, since: datetime, *,
                   actor: Actor) -> KeyChange:
    """Record that `kid`'s generation (its credential and PDF-signing keys) may be in
    other hands since `since`: what it signed from then on is INVALID, and before then
    not plainly VALID (only a trusted timestamp proves the time). An active generation
    is replaced by a new one at once."""

    def step(history: KeyHistory, make: Callable[[], Generation], now: datetime
             ) -> tuple[KeyHistory, Generation | None]:
        generation = history.check_compromise(kid, since, now)
        new = make() if generation.retired is None else None
        return history.compromised(kid, since, now, new), new

    return _change(issuer, code, actor, "key.compromise", Phrase("report compromised keys"), step,
                   detail={"kid": kid, "since": since.isoformat()})


def key_history(issuer: Issuer, code: str) -> KeyHistory:
    """`code`'s generations as the key store records them."""
    try:
        return keystore.read_history(issuer.settings.keys_dir, code)
    except PkiError as e:
        raise refused(e) from None


Step = Callable[[KeyHistory, Callable[[], Generation], datetime],
                tuple[KeyHistory, Generation | None]]


def token_for(issuer: Issuer, history: KeyHistory, hsm: bool) -> TokenConfig | None:
    """Where an institution's next keys are made: in the HSM when asked (`hsm`) or when
    its active keys are there (a rotation never takes keys out of the HSM), else files."""
    active = history.active()
    if not hsm and not (active is not None and keystore.in_token(
            issuer.settings.keys_dir, history.institution, active.number)):
        return None
    try:
        token = issuer.token()
    except PkiError as e:
        raise refused(e) from None
    if token is None:
        raise ServiceError("the keys of %(code)s go into an HSM, and none is configured: set "
                           "BKT_HSM_TOKEN (docs/hsm.md)", code=history.institution)
    return token


def _change(issuer: Issuer, code: str, actor: Actor, action: str, doing: Phrase, step: Step,
            detail: dict[str, Any] | None = None, hsm: bool = False) -> KeyChange:
    keys_dir = issuer.settings.keys_dir
    with issuer.uow() as uow:
        require_admin(uow, actor, doing)
        institution = uow.institutions.get(code)
        if institution is None:
            raise ServiceError("no institution with code %(code)r", code=code)
        with keystore.lock(keys_dir):
            now = issuer.clock()
            try:
                before = keystore.read_history(keys_dir, code)

                def make() -> Generation:
                    return keystore.new_generation(keys_dir, code, institution.name_en,
                                                   issuer.passphrase(), now,
                                                   token_for(issuer, before, hsm))

                after, created = step(before, make, now)
            except (KeyLifecycleError, PkiError) as e:
                raise refused(e) from None
            uow.audit.append(
                actor=actor.name, action=action, source=actor.source, now=now,
                institution=institution, subject=f"keys:{code}",
                detail={**(detail or {}), **_summary(before, after, created)})
            keystore.write_history(keys_dir, code, after)
            try:
                uow.commit()
            except BaseException:
                keystore.write_history(keys_dir, code, before)
                raise
    # the JWKS always; the lists too, re-signed with the active key (none after a final
    # retirement: the last lists stay until they expire)
    issuer.publish([code] if after.active() is not None else [])
    return KeyChange(after, created)


def _summary(before: KeyHistory, after: KeyHistory, created: Generation | None
             ) -> dict[str, Any]:
    """The generations a step changed, as the audit event records them."""
    old = {g.number: g for g in before.generations}
    changed = [g.to_json() for g in after.generations if old.get(g.number) != g]
    return {"generations": changed, "active": (a.kid if (a := after.active()) else None),
            "created": created.kid if created else None}
