"""The SD-JWT core (`verifier.core.sd_jwt`, RFC 9901) and the transcript's SD-JWT VC
(`verifier.core.sd_jwt_vc`): what is disclosable, what a presentation shows, and every
way a presentation is refused -- checked against `@sd-jwt/sd-jwt-vc` too where it has a
say (tests/sdjwt)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.core.record_json import to_dict
from tests.factories import school_record, vocational_record
from tests.sdjwt_node import node_verify, require_node
from verifier.core import sd_jwt, sd_jwt_vc, token_status_list
from verifier.core.canonical import b64url, b64url_decode

KEY = ec.derive_private_key(0x5D17, ec.SECP256R1())  # a fixed test key: deterministic
HOLDER = ec.derive_private_key(0xB01D, ec.SECP256R1())
KID = "test-kid"
SCHOOL = to_dict(school_record())
VOCATIONAL = to_dict(vocational_record())
URI = sd_jwt_vc.status_uri("https://issuer.bkt.example", "1001")
LONG = timedelta(days=3650)


def status_list(values: dict[int, int] | None = None) -> str:
    """The Token Status List the presentations name, as the issuer publishes it."""
    return token_status_list.sign(URI, values or {}, KEY, KID, datetime(2026, 4, 1, tzinfo=UTC),
                                  ttl=timedelta(seconds=30), validity=LONG)


STATUS = status_list()


def counting_salt() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: b64url(next(counter).to_bytes(16, "big"))


def issue(record: dict[str, Any] = SCHOOL, key: ec.EllipticCurvePrivateKey = KEY) -> str:
    return sd_jwt_vc.sign(record, key, KID, status_uri=URI, salt=counting_salt())


FULL = issue()


def check(text: str, key: ec.EllipticCurvePrivateKey = KEY, **options: Any) -> sd_jwt.Verified:
    return sd_jwt.verify(text, lambda kid: key.public_key() if kid == KID else None,
                         types=sd_jwt_vc.TYPES, visible=sd_jwt_vc.VISIBLE, **options)


def payload_of(text: str) -> dict[str, Any]:
    return json.loads(b64url_decode(text.split("~")[0].split(".")[1]))


def resign(text: str, change: Callable[[dict[str, Any]], None], *, extra: list[str] = ()
           ) -> str:
    """`text` with its payload changed and signed again by the institution's key: what a
    careless (or hostile) issuer could make; the verifier's rules must still hold."""
    parts = sd_jwt.split(text)
    payload = payload_of(text)
    change(payload)
    return sd_jwt.sign(payload, [*parts.disclosures, *extra], KEY, KID, sd_jwt_vc.TYP)


# --- issuing ----------------------------------------------------------------------------


def test_every_field_term_and_course_is_its_own_disclosure() -> None:
    payload = payload_of(FULL)
    terms, courses = SCHOOL["summary"]["terms"], SCHOOL["courses"]
    assert len(sd_jwt.split(FULL).disclosures) == 4 + len(terms) + len(courses)
    assert len(payload["_sd"]) == 4 and payload["_sd"] == sorted(payload["_sd"])
    assert all(set(e) == {"..."} for e in payload["terms"] + payload["courses"])
    visible = {"iss", "iat", "vct", "transcript_id", "version", "institution", "status",
               "_sd", "_sd_alg", "terms", "courses"}
    assert set(payload) == visible  # no name, GPA or course in clear
    assert payload["iss"] == "urn:bkt:institution:1001" and payload["_sd_alg"] == "sha-256"
    assert payload["status"] == {"status_list": {"idx": SCHOOL["status_index"], "uri": URI}}
    header = sd_jwt.header(FULL)
    assert header == {"alg": "ES256", "kid": KID, "typ": "dc+sd-jwt"}
    assert [f.key for f in sd_jwt_vc.fields(FULL)][:5] == [
        "name", "programme", "graduation_date", "gpa", "terms.0"]


def test_salts_are_128_bits_from_secrets() -> None:
    salts = {sd_jwt.decode_disclosure(d).salt for d in sd_jwt.split(
        sd_jwt_vc.sign(SCHOOL, KEY, KID, status_uri=URI)).disclosures}
    assert len(salts) == 4 + len(SCHOOL["summary"]["terms"]) + len(SCHOOL["courses"])
    assert {len(b64url_decode(s)) for s in salts} == {16}


def test_the_full_sd_jwt_discloses_the_record() -> None:
    verified = check(FULL)
    presented = sd_jwt_vc.read(verified)
    assert presented.disclosed["gpa"] == SCHOOL["summary"]["gpa"]
    assert presented.disclosed["courses"] == SCHOOL["courses"]
    assert presented.disclosed["name"]["en"].endswith(SCHOOL["student"]["last_name_en"])
    assert presented.withheld_fields == () and presented.withheld == {"terms": 0, "courses": 0}


def test_a_vocational_certificate_has_modules_and_no_gpa() -> None:
    full = issue(VOCATIONAL)
    presented = sd_jwt_vc.read(check(sd_jwt_vc.presentation(full, {"name", "modules.0"})))
    assert presented.kind == "vocational" and "gpa" not in payload_of(full)
    assert presented.disclosed["modules"] == VOCATIONAL["modules"][:1]
    assert presented.withheld_fields == ("programme", "graduation_date")
    assert presented.withheld == {"modules": len(VOCATIONAL["modules"]) - 1}


# --- presenting -------------------------------------------------------------------------

CHOSEN = {"name", "gpa", "courses.2"}


def test_a_presentation_shows_exactly_what_was_chosen() -> None:
    presentation = sd_jwt_vc.presentation(FULL, CHOSEN)
    assert len(sd_jwt.split(presentation).disclosures) == 3
    presented = sd_jwt_vc.read(check(presentation))
    assert set(presented.disclosed) == {"name", "gpa", "courses"}
    assert presented.disclosed["courses"] == [SCHOOL["courses"][2]]
    assert presented.withheld_fields == ("programme", "graduation_date")
    assert presented.withheld == {"terms": len(SCHOOL["summary"]["terms"]),
                                  "courses": len(SCHOOL["courses"]) - 1}
    # the always-visible claims
    assert (presented.transcript_id, presented.version, presented.institution,
            presented.status_index) == (SCHOOL["transcript_id"], 1, "1001",
                                        SCHOOL["status_index"])


def test_nothing_disclosed_still_verifies_and_withholds_everything() -> None:
    presented = sd_jwt_vc.read(check(sd_jwt_vc.presentation(FULL, set())))
    assert presented.disclosed == {} and len(presented.withheld_fields) == 4


def test_the_order_of_disclosures_does_not_matter() -> None:
    """RFC 9901: disclosures are found by digest, so their order is not significant."""
    parts = sd_jwt.split(sd_jwt_vc.presentation(FULL, CHOSEN))
    reordered = "~".join([parts.jwt, *reversed(parts.disclosures), ""])
    assert check(reordered).claims == check(sd_jwt_vc.presentation(FULL, CHOSEN)).claims


# --- refused --------------------------------------------------------------------------------


def _tampered_value(presentation: str) -> str:
    """The GPA disclosure re-encoded with a better GPA (same salt and name)."""
    parts = sd_jwt.split(presentation)
    out = []
    for d in parts.disclosures:
        item = json.loads(b64url_decode(d))
        if item[1:2] == ["gpa"]:
            d = sd_jwt.encode_disclosure([item[0], "gpa", "3.99"])
        out.append(d)
    return "~".join([parts.jwt, *out, ""])


def _forged_extra(presentation: str) -> str:
    return presentation + sd_jwt.encode_disclosure(["c2FsdHNhbHRzYWx0c2FsdA", "gpa", "4.00"]) + "~"


def _forged_course(presentation: str) -> str:
    course = {**SCHOOL["courses"][0], "grade": "4"}
    return presentation + sd_jwt.encode_disclosure(["c2FsdHNhbHRzYWx0c2FsdA", course]) + "~"


def _duplicated(presentation: str) -> str:
    parts = sd_jwt.split(presentation)
    return "~".join([parts.jwt, *parts.disclosures, parts.disclosures[0], ""])


def _jwt_not_first(presentation: str) -> str:
    parts = sd_jwt.split(presentation)
    return "~".join([parts.disclosures[0], parts.jwt, *parts.disclosures[1:], ""])


def _payload_changed(presentation: str) -> str:
    head, body, _ = presentation.split("~")[0].split(".")
    payload = json.loads(b64url_decode(body)) | {"version": 9}
    changed = b64url(json.dumps(payload, separators=(",", ":")).encode())
    return presentation.replace(f"{head}.{body}.", f"{head}.{changed}.", 1)


TAMPERED: dict[str, tuple[Callable[[str], str], str]] = {
    "changed disclosure": (_tampered_value, "not referenced"),
    "extra forged property": (_forged_extra, "not referenced"),
    "extra forged course": (_forged_course, "not referenced"),
    "disclosure presented twice": (_duplicated, "presented twice"),
    "jwt moved after a disclosure": (_jwt_not_first, "."),
    "payload changed": (_payload_changed, "signature"),
}


@pytest.mark.parametrize("name", list(TAMPERED))
def test_tampered_presentations_are_refused(name: str) -> None:
    tamper, message = TAMPERED[name]
    with pytest.raises(sd_jwt.SdJwtError, match=message):
        check(tamper(sd_jwt_vc.presentation(FULL, CHOSEN)))


@pytest.mark.parametrize("name", list(TAMPERED))
def test_the_npm_library_never_shows_a_tampered_value(name: str, tmp_path: Path) -> None:
    """`@sd-jwt/sd-jwt-vc` 0.17 rejects a broken signature or structure; a disclosure no
    digest references it ignores (reported here as ``unused``) rather than rejecting the
    presentation: either way the forged value never appears among its claims."""
    require_node()
    tamper, _ = TAMPERED[name]
    answer = node_verify(tamper(sd_jwt_vc.presentation(FULL, CHOSEN)), KEY.public_key(),
                         tmp_path, STATUS)
    if answer["verified"]:
        claims = answer["claims"]
        assert claims.get("gpa") in (None, SCHOOL["summary"]["gpa"])  # never 3.99 or 4.00
        assert claims["version"] == 1
        assert claims["courses"] == [SCHOOL["courses"][2]]
        assert name == "disclosure presented twice" or answer["unused"]
    else:
        assert name in ("jwt moved after a disclosure", "payload changed"), answer


def test_the_npm_library_shows_what_we_show(tmp_path: Path) -> None:
    require_node()
    for chosen in (CHOSEN, {"programme", "terms.0", "terms.3", "courses.0"}, set()):
        presentation = sd_jwt_vc.presentation(FULL, chosen)
        answer = node_verify(presentation, KEY.public_key(), tmp_path, STATUS)
        assert answer["verified"] and answer["unused"] == [], answer
        ours = check(presentation).claims
        assert answer["claims"] == ours
    full = node_verify(FULL, KEY.public_key(), tmp_path, STATUS)
    assert full["claims"] == check(FULL).claims and full["header"]["typ"] == "dc+sd-jwt"


def test_reordered_or_dropped_disclosures_read_the_same_in_both(tmp_path: Path) -> None:
    """Disclosures in another order: the same claims (their order is not significant);
    a course's disclosure dropped: that course withheld, in both."""
    require_node()
    parts = sd_jwt.split(sd_jwt_vc.presentation(FULL, {"name", "courses.0", "courses.1"}))
    reordered = "~".join([parts.jwt, *reversed(parts.disclosures), ""])
    ours = check(reordered)
    theirs = node_verify(reordered, KEY.public_key(), tmp_path, STATUS)
    assert theirs["claims"] == ours.claims and len(ours.claims["courses"]) == 2
    first = sd_jwt_vc.fields(FULL)[4 + len(SCHOOL["summary"]["terms"])]
    assert first.key == "courses.0"
    dropped = "~".join([parts.jwt, *(d for d in parts.disclosures if d != first.disclosure),
                        ""])
    ours = check(dropped)
    theirs = node_verify(dropped, KEY.public_key(), tmp_path, STATUS)
    assert ours.claims["courses"] == theirs["claims"]["courses"] == [SCHOOL["courses"][1]]
    assert ours.withheld["courses"] == len(SCHOOL["courses"]) - 1


def test_another_key_is_refused_by_both(tmp_path: Path) -> None:
    other = ec.derive_private_key(0x0BAD, ec.SECP256R1())
    forged = issue(key=other)
    with pytest.raises(sd_jwt.SdJwtError, match="signature"):
        check(forged)
    require_node()
    assert not node_verify(forged, KEY.public_key(), tmp_path, STATUS)["verified"]


def _malformed_issuer(change: Callable[[dict[str, Any]], None], extra: list[str] = ()
                      ) -> str:
    return resign(FULL, change, extra=list(extra))


ELEMENT = sd_jwt.encode_disclosure(["c2FsdHNhbHRzYWx0c2FsdA", {"code": "x"}])
PROPERTY = sd_jwt.encode_disclosure(["c2FsdHNhbHRzYWx0c2FsdA", "programme", "x"])
ISS = sd_jwt.encode_disclosure(["c2FsdHNhbHRzYWx0c2FsdA", "iss", "urn:bkt:institution:9999"])


@pytest.mark.parametrize(("change", "extra", "message"), [
    # a digest that appears twice
    (lambda p: p["courses"].append(dict(p["courses"][0])), [], "appears twice"),
    # an element's disclosure referenced from `_sd`
    (lambda p: p["_sd"].append(sd_jwt.disclosure_digest(ELEMENT)), [ELEMENT],
     "array element's disclosure"),
    # a property's disclosure used as an array element
    (lambda p: p["courses"].append({"...": sd_jwt.disclosure_digest(PROPERTY)}), [PROPERTY],
     "property's disclosure"),
    # "..." with other members
    (lambda p: p["courses"][0].update(x=1), [], "other members"),
    # a disclosure that would set an always-visible claim
    (lambda p: p["_sd"].append(sd_jwt.disclosure_digest(ISS)), [ISS], "overwrites"),
    # another digest algorithm
    (lambda p: p.update(_sd_alg="sha-1"), [], "digest algorithm"),
], ids=["digest twice", "element as property", "property as element", "dots with members",
        "visible claim disclosed", "sha-1"])
def test_misused_digests_are_refused(change: Callable[[dict[str, Any]], None],
                                     extra: list[str], message: str) -> None:
    with pytest.raises(sd_jwt.SdJwtError, match=message):
        check(_malformed_issuer(change, extra))


@pytest.mark.parametrize("header", [
    {"alg": "none", "kid": KID, "typ": "dc+sd-jwt"},
    {"alg": "ES256", "kid": KID, "typ": "JWT"},
    {"alg": "ES256", "kid": KID, "typ": "dc+sd-jwt", "jwk": {}},
])
def test_only_es256_with_an_sd_jwt_type_and_no_embedded_key(header: dict[str, Any]) -> None:
    head = b64url(json.dumps(header).encode())
    with pytest.raises(sd_jwt.SdJwtError):
        check(FULL.replace(FULL.split(".")[0], head, 1))


def test_an_older_draft_type_is_accepted() -> None:
    payload, disclosures = sd_jwt_vc.issue_claims(SCHOOL, status_uri=URI, salt=counting_salt())
    older = sd_jwt.sign(payload, disclosures, KEY, KID, "vc+sd-jwt")
    assert check(older).typ == "vc+sd-jwt"


def test_an_sd_jwt_that_is_not_a_transcript() -> None:
    other = resign(FULL, lambda p: p.update(vct="https://example.org/pid"))
    with pytest.raises(sd_jwt_vc.NotATranscript):
        sd_jwt_vc.read(check(other))
    wrong_iss = resign(FULL, lambda p: p.update(iss="urn:bkt:institution:9999"))
    with pytest.raises(sd_jwt_vc.NotATranscript):
        sd_jwt_vc.read(check(wrong_iss))


# --- key binding (optional) -----------------------------------------------------------------


def _bound_full() -> str:
    from joserfc.jwk import ECKey

    jwk = ECKey.import_key(HOLDER.public_key()).as_dict()
    return resign(FULL, lambda p: p.update(cnf={"jwk": jwk}))


def test_key_binding_verifies_the_holder_and_this_presentation() -> None:
    presentation = sd_jwt_vc.presentation(_bound_full(), CHOSEN)
    bound = sd_jwt.bind(presentation, HOLDER, aud="https://employer.example", nonce="n-1",
                        iat=1_775_100_000)
    kb = check(bound, nonce="n-1").key_binding
    assert kb is not None and kb["aud"] == "https://employer.example"
    with pytest.raises(sd_jwt.SdJwtError, match="nonce"):
        check(bound, nonce="n-2")
    with pytest.raises(sd_jwt.SdJwtError, match="no key binding"):
        check(presentation, nonce="n-1")
    parts = sd_jwt.split(bound)  # a disclosure dropped after the holder signed
    dropped = "~".join([parts.jwt, *parts.disclosures[1:], parts.kb_jwt or ""])
    with pytest.raises(sd_jwt.SdJwtError, match="does not bind"):
        check(dropped)
    stranger = ec.derive_private_key(0x57, ec.SECP256R1())
    with pytest.raises(sd_jwt.SdJwtError, match="signature"):
        check(sd_jwt.bind(presentation, stranger, aud="a", nonce="n", iat=1))


def test_key_binding_without_a_holder_key_is_refused() -> None:
    presentation = sd_jwt_vc.presentation(FULL, CHOSEN)
    with pytest.raises(sd_jwt.SdJwtError, match="names no holder key"):
        check(sd_jwt.bind(presentation, HOLDER, aud="a", nonce="n", iat=1))


# --- robustness -----------------------------------------------------------------------------


def _mutations(text: str, count: int) -> list[str]:
    """`count` deterministic damages of `text`: a character changed, cut, doubled, or the
    parts shuffled."""
    import random

    rng = random.Random(9901)
    out = []
    alphabet = "A_-~.=#{}[]\"0"
    for _ in range(count):
        i = rng.randrange(len(text))
        kind = rng.randrange(4)
        if kind == 0:
            out.append(text[:i] + rng.choice(alphabet) + text[i + 1:])
        elif kind == 1:
            out.append(text[:i] + text[i + rng.randrange(1, 40):])
        elif kind == 2:
            out.append(text[:i] + text[i:i + 30] + text[i:])
        else:
            parts = text.split("~")
            rng.shuffle(parts)
            out.append("~".join(parts))
    return out


def test_damaged_presentations_raise_only_sd_jwt_errors() -> None:
    presentation = sd_jwt_vc.presentation(FULL, CHOSEN)
    for damaged in _mutations(presentation, 400):
        try:
            sd_jwt_vc.read(check(damaged))
        except sd_jwt.SdJwtError:
            continue
        # verified: then nothing signed or disclosed was changed
        assert check(damaged).claims == check(presentation).claims


def test_hostile_disclosures_raise_only_sd_jwt_errors() -> None:
    presentation = sd_jwt_vc.presentation(FULL, set())
    hostile = [b64url(b"[" * 100_000), b64url(b'"x"'), b64url(b"[1, 2]"), b64url(b"{}"),
               b64url(b'["s", "_sd", 1]'), b64url(b'["s", "...", 1]'), b64url(b"\xff\xfe"),
               b64url(b'["s", 1, 2, 3]'), "***"]
    for d in hostile:
        with pytest.raises(sd_jwt.SdJwtError):
            check(presentation + d + "~")


# --- the Token Status List ------------------------------------------------------------------


def test_the_token_status_list_packs_as_the_draft_says() -> None:
    """draft-ietf-oauth-status-list's example: 1 bit a status, 16 statuses."""
    example = dict.fromkeys((0, 3, 4, 5, 7, 8, 9, 13, 15), 1)
    assert token_status_list.encode(example, size=16, bits=1) == "eNrbuRgAAhcBXQ"
    lst = token_status_list.encode(token_status_list.statuses([10, 11], [11, 12]))
    assert [token_status_list.status_at(lst, i) for i in (9, 10, 11, 12)] == [0, 1, 1, 3]
    payload = token_status_list.payload_of(status_list())
    assert payload["sub"] == URI and payload["status_list"]["bits"] == 2
    with pytest.raises(ValueError):
        token_status_list.status_at(lst, token_status_list.SIZE)


@pytest.mark.parametrize(("value", "valid"), [(token_status_list.VALID, True),
                                              (token_status_list.INVALID, False),
                                              (token_status_list.SUPERSEDED, False)])
def test_the_npm_library_reads_our_token_status_list(value: int, valid: bool,
                                                     tmp_path: Path) -> None:
    """A revoked (1) or superseded (3) version fails in the library; a valid one passes;
    the other indexes' statuses do not matter."""
    require_node()
    listed = status_list({SCHOOL["status_index"]: value, 7: token_status_list.INVALID})
    answer = node_verify(sd_jwt_vc.presentation(FULL, CHOSEN), KEY.public_key(), tmp_path,
                         listed)
    assert answer["verified"] is valid, answer
    if not valid:
        assert "Status is not valid" in answer["error"]
