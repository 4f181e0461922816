"""Every route's authorization: anonymous visitors are sent to sign in (JSON: 401), other
roles get 403, another institution's batch or transcript is 404 (its existence is not
revealed), and a form without its CSRF token is 400. A route missing from the table
below fails `test_every_route_is_in_the_table`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from issuer import demo_images
from issuer.adapters.orm import BatchRecordRow, TranscriptRow
from issuer.core.lifecycle import AccountRole
from issuer.jobs import run_job
from issuer.services import accounts
from issuer.services.admin import set_emblem
from issuer.services.approval import approve
from issuer.services.context import Actor, Issuer
from issuer.services.importing import import_batch
from issuer.services.issuing import issue_batch
from issuer.services.review import submit_batch
from issuer.services.uploads import receive
from tests.e2e.conftest import EXAMPLES, SYSTEM, make_issuer
from tests.web.conftest import ACCOUNTS, Browser, add_accounts, as_user, web_app

REGISTRAR, APPROVER, ADMIN = "registrar", "approver", "admin"
STAFF = (REGISTRAR, APPROVER)
ANY = (REGISTRAR, APPROVER, ADMIN)
USER_OF = {"registrar": "reg1001", "approver": "dir1001", "admin": "admin"}
OTHER_OF = {"registrar": "reg2001", "approver": "dir2001"}  # the other institution


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    allowed: tuple[str, ...]
    scoped: bool = False  # holds one institution's batch or transcript


ROUTES = [
    Route("/batches", "GET", STAFF),
    Route("/batches/upload", "GET", (REGISTRAR,)),
    Route("/batches/upload", "POST", (REGISTRAR,)),
    Route("/batches/<int:batch_id>", "GET", STAFF, True),
    Route("/batches/<int:batch_id>/progress.json", "GET", STAFF, True),
    Route("/batches/<int:batch_id>/students/<int:record_id>/preview.pdf", "GET", STAFF, True),
    Route("/batches/<int:batch_id>/previews.zip", "GET", STAFF, True),
    Route("/batches/<int:batch_id>/students/<int:record_id>/photo.jpg", "GET", STAFF, True),
    Route("/batches/<int:batch_id>/confirm-warnings", "POST", (REGISTRAR,), True),
    Route("/batches/<int:batch_id>/submit", "POST", (REGISTRAR,), True),
    Route("/batches/<int:batch_id>/withdraw", "POST", (REGISTRAR,), True),
    Route("/batches/<int:batch_id>/approve", "POST", (APPROVER,), True),
    Route("/batches/<int:batch_id>/reject", "POST", (APPROVER,), True),
    Route("/batches/<int:batch_id>/issue", "POST", STAFF, True),
    Route("/batches/<int:batch_id>/transcripts.zip", "GET", STAFF, True),
    Route("/batches/<int:batch_id>/claim-links.csv", "POST", (REGISTRAR,), True),
    Route("/uploads/<int:upload_id>", "GET", STAFF, True),
    Route("/uploads/<int:upload_id>/progress.json", "GET", STAFF, True),
    Route("/uploads/<int:upload_id>/errors.csv", "GET", STAFF, True),
    Route("/transcripts", "GET", STAFF),
    Route("/transcripts/<transcript_id>", "GET", STAFF, True),
    Route("/transcripts/<transcript_id>/v<int:version>.pdf", "GET", STAFF, True),
    Route("/transcripts/<transcript_id>/revoke", "POST", (REGISTRAR,), True),
    Route("/transcripts/<transcript_id>/reissue", "POST", (REGISTRAR,), True),
    Route("/transcripts/<transcript_id>/claim-link", "POST", (REGISTRAR,), True),
    Route("/admin/", "GET", (ADMIN,)),
    Route("/admin/institutions", "GET", (ADMIN,)),
    Route("/admin/institutions", "POST", (ADMIN,)),
    Route("/admin/institutions/<code>/emblem", "POST", (ADMIN,)),
    Route("/admin/institutions/<code>/emblem.png", "GET", (ADMIN,)),
    Route("/admin/accounts", "GET", (ADMIN,)),
    Route("/admin/accounts", "POST", (ADMIN,)),
    Route("/admin/accounts/<int:account_id>", "POST", (ADMIN,)),
    Route("/admin/keys", "GET", (ADMIN,)),
    Route("/admin/audit", "GET", (ADMIN,)),
    Route("/admin/audit.csv", "GET", (ADMIN,)),
    Route("/admin/audit/export.<fmt>", "GET", (ADMIN,)),
    Route("/account", "GET", ANY),
    Route("/account/password", "POST", ANY),
    Route("/account/totp/start", "POST", ANY),
    Route("/account/totp/enable", "POST", ANY),
    Route("/account/totp/disable", "POST", ANY),
]
# No sign-in needed: the sign-in pages, language, what verifiers and auditors read, health,
# assets, and the graduates' and employers' link pages (their tests: test_graduate_web.py).
PUBLIC = {
    ("/", "GET"), ("/login", "GET"), ("/login", "POST"), ("/login/code", "GET"),
    ("/login/code", "POST"), ("/logout", "POST"), ("/lang/<code>", "GET"),
    ("/.well-known/jwks.json", "GET"), ("/status/<code>/<name>", "GET"),
    ("/.well-known/did.json", "GET"), ("/ns/transcript/v1.jsonld", "GET"),
    ("/trust.json", "GET"), ("/healthz", "GET"), ("/static/<path:filename>", "GET"),
    ("/audit/checkpoint.jws", "GET"), ("/audit/checkpoints/<int:seq>.jws", "GET"),
    ("/schema/transcript/<kind>/v<int:version>.json", "GET"),
    ("/c/<token>", "GET"), ("/c/<token>/v<int:version>.pdf", "GET"),
    ("/c/<token>/v<int:version>.vc.json", "GET"), ("/c/<token>/sd", "POST"),
    ("/c/<token>/shares", "POST"), ("/c/<token>/shares/<int:share_id>/revoke", "POST"),
    ("/s/<token>", "GET"), ("/s/<token>", "POST"), ("/s/<token>/transcript.pdf", "GET"),
    ("/s/<token>/transcript.pdf", "POST"),
}


@dataclass
class World:
    app: Flask
    values: dict[str, str]  # rule variable -> a value of institution 1001
    clients: dict[str, Browser]


@pytest.fixture(scope="module")
def world(key_store: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("authz")
    issuer = make_issuer(f"sqlite:///{folder / 'authz.db'}", key_store, folder)
    add_accounts(issuer)
    batches = {code: _issued_batch(issuer, code, name)
               for code, name in (("1001", "school-batch.csv"), ("2001", "vocational-batch.csv"))}
    with issuer.uow() as uow:
        s = uow.session
        record = s.scalars(select(BatchRecordRow.id).where(
            BatchRecordRow.batch_id == batches["1001"])).first()
        transcript = s.scalars(select(TranscriptRow.transcript_id).where(
            TranscriptRow.batch_id == batches["1001"])).first()
    account = next(a.id for a in accounts.list_accounts(issuer) if a.username == "reg1001")
    upload = _rejected_upload(issuer)
    app = web_app(issuer)
    values = {"batch_id": str(batches["1001"]), "record_id": str(record),
              "transcript_id": str(transcript), "version": "1", "account_id": str(account),
              "upload_id": str(upload), "code": "1001",
              "fmt": "jsonl"}
    clients = {name: as_user(app, name) for name in ACCOUNTS}
    return World(app, values, clients)


def _issued_batch(issuer: Issuer, code: str, name: str) -> int:
    registrar = Actor(f"reg{code}", "test", AccountRole.REGISTRAR, code)
    director = Actor(f"dir{code}", "test", AccountRole.APPROVER, code)
    school = code == "1001"  # with a photo (its first student's) and an emblem
    if school:
        set_emblem(issuer, code, demo_images.emblem_png("ว.ด."),
                   actor=Actor("admin", "test", AccountRole.ADMIN))
    batch_id = import_batch(issuer, code, name, (EXAMPLES / name).read_bytes(),
                            actor=registrar,
                            photos=demo_images.photos_zip(["66001"]) if school else None
                            ).batch_id
    submit_batch(issuer, batch_id, actor=registrar)
    approve(issuer, batch_id, actor=director)
    issue_batch(issuer, batch_id, actor=SYSTEM, institution_code=code, workers=0)
    return batch_id


def _rejected_upload(issuer: Issuer) -> int:
    """An upload of institution 1001 read by its job: a file with an error."""
    registrar = Actor("reg1001", "test", AccountRole.REGISTRAR, "1001")
    bad = (EXAMPLES / "school-batch.csv").read_bytes().replace(b",66001,", b",,", 1)
    upload_id, job_id = receive(issuer, "1001", "bad.csv", bad, actor=registrar)
    run_job(issuer, job_id, owner="test")
    return upload_id


def path_of(route: Route, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route.rule)


def call(browser: Browser, route: Route, path: str, *, csrf: bool = True):  # type: ignore[no-untyped-def]
    if route.method == "GET":
        return browser.client.get(path)
    return browser.post(path, {}, csrf=csrf)


def test_every_route_is_in_the_table(world: World) -> None:
    table = {(r.rule, r.method) for r in ROUTES} | PUBLIC
    found = {
        (rule.rule, method) for rule in world.app.url_map.iter_rules()
        for method in rule.methods or () if method not in ("HEAD", "OPTIONS")
    }
    assert found - table == set(), "routes without an authorization test"
    assert table - found == set(), "the table names routes that do not exist"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.rule}")
def test_anonymous_visitors_must_sign_in(world: World, route: Route) -> None:
    browser = Browser(world.app.test_client())
    response = call(browser, route, path_of(route, world.values))
    if route.rule.endswith(".json"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("route", [r for r in ROUTES if set(ANY) - set(r.allowed)],
                         ids=lambda r: f"{r.method} {r.rule}")
def test_other_roles_are_forbidden(world: World, route: Route) -> None:
    for role in set(ANY) - set(route.allowed):
        response = call(world.clients[USER_OF[role]], route, path_of(route, world.values))
        assert response.status_code == 403, role


@pytest.mark.parametrize("route", [r for r in ROUTES if r.scoped],
                         ids=lambda r: f"{r.method} {r.rule}")
def test_another_institutions_records_are_not_found(world: World, route: Route) -> None:
    for role in route.allowed:
        response = call(world.clients[OTHER_OF[role]], route, path_of(route, world.values))
        assert response.status_code == 404, role
    # and a record that does not exist at all answers the same
    missing = dict(world.values, batch_id="999999", transcript_id="1001-2569-999999",
                   upload_id="999999")
    response = call(world.clients[USER_OF[route.allowed[0]]], route, path_of(route, missing))
    assert response.status_code == 404


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "GET"],
                         ids=lambda r: f"{r.method} {r.rule}")
def test_allowed_roles_get_the_page(world: World, route: Route) -> None:
    for role in route.allowed:
        response = call(world.clients[USER_OF[role]], route, path_of(route, world.values))
        assert response.status_code == 200, (role, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "POST"],
                         ids=lambda r: f"{r.method} {r.rule}")
def test_forms_without_a_csrf_token_are_refused(world: World, route: Route) -> None:
    for role in route.allowed:
        browser = world.clients[USER_OF[role]]
        response = call(browser, route, path_of(route, world.values), csrf=False)
        assert response.status_code == 400, role
        wrong = browser.client.post(path_of(route, world.values), data={"csrf_token": "x"})
        assert wrong.status_code == 400, role


def test_public_forms_need_a_csrf_token_too(world: World) -> None:
    client = world.app.test_client()
    for path in ("/login", "/login/code", "/logout"):
        assert client.post(path, data={"username": "reg1001"}).status_code == 400, path
