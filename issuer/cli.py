"""The `transcripts` command: database, institutions, keys, import, issue, verify, revoke."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from issuer import demo_images
from issuer.adapters import queries
from issuer.adapters.at_rest import AtRestError
from issuer.adapters.ceremony import ceremony, install_authority, move_root_key
from issuer.adapters.orm import InstitutionRow, JobState
from issuer.adapters.pki import PkiError, write_dev_pki
from issuer.config import BANGKOK, ROOT, Settings
from issuer.core.key_lifecycle import Generation, KeyHistory
from issuer.core.lifecycle import AccountRole, BatchStatus
from issuer.services import accounts as account_service
from issuer.services import keys as key_service
from issuer.services.admin import load_institutions, set_emblem
from issuer.services.approval import approve
from issuer.services.checking import verify_pdf, verify_vc
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.importing import (
    MATCHED,
    SEALED,
    AlreadyImported,
    BatchRejected,
    import_batch,
)
from issuer.services.lifecycle import request_new_version, revoke
from issuer.services.publishing import publish
from issuer.services.review import confirm_warnings, reject_batch, submit_batch, withdraw_batch
from verifier.core.did_web import did_for
from verifier.core.status_details import REASONS, UNSPECIFIED
from verifier.core.verdict import Result, Verdict
from verifier.vc_export import is_json

EXAMPLES = ROOT / "examples"
DEMO_BATCHES = (("1001", "school-batch.csv"), ("2001", "vocational-batch.xlsx"))
DEMO_INITIALS = {"1001": "ว.ด.", "2001": "ฝ.อ."}
"""The demo's drawn emblems: a seal with the institution's initials."""
DEMO_PHOTOS = {"1001": ("66001", "66002", "66003", "66004")}
"""Students of the demo's school batch given a drawn placeholder photo (the rest, none)."""
DEV_CEREMONY = "ceremony"
"""Development only: the key ceremony's "offline" folder, under var/."""


class Group(click.Group):
    """Turns every failure into one line on stderr and a non-zero exit (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BatchRejected as e:
            for error in e.errors:
                click.echo(f"  {error}", err=True)
            raise click.ClickException(str(e)) from None
        except (ServiceError, PkiError, AtRestError) as e:
            raise click.ClickException(str(e)) from None
        except SQLAlchemyError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise click.ClickException(f"database error: {e.__class__.__name__}: "
                                       f"{str(e).splitlines()[0]}") from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise click.ClickException(
                f"unexpected error ({e.__class__.__name__}: {e}); rerun with --debug for details"
            ) from None


def _issuer(ctx: click.Context) -> Issuer:
    if "issuer" not in ctx.obj:
        ctx.obj["issuer"] = Issuer.open(Settings.from_env())
    return ctx.obj["issuer"]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _actor(ctx: click.Context) -> Actor:
    """The account given with ``--as``, signed in once per command (password from
    BKT_PASSWORD or a prompt, TOTP code from BKT_TOTP or a prompt); without ``--as``, the
    operator acting as the system, who may do only what needs no person."""
    if "actor" in ctx.obj:
        return ctx.obj["actor"]
    username = ctx.obj.get("as")
    source = f"cli {_os_user()}"
    if not username:
        actor = Actor(f"cli:{_os_user()}", "cli")
    else:
        issuer = _issuer(ctx)
        password = os.environ.get("BKT_PASSWORD") or click.prompt(
            f"password of {username}", hide_input=True, err=True)
        signed = account_service.sign_in(issuer, username, password, source=source)
        account = signed.account
        if signed.needs_code:
            code = os.environ.get("BKT_TOTP") or click.prompt("authenticator code", err=True)
            account = account_service.verify_code(issuer, signed.challenge or "", code,
                                                  source=source)
        if account_service.second_factor_missing(issuer, account):
            raise click.ClickException(
                f"{account.username} ({account.role.value}) acts only with two-step sign-in: "
                "turn it on in the web service's account page first")
        actor = Actor(account.username, source, account.role, account.institution_code)
    ctx.obj["actor"] = actor
    return actor


@click.group(cls=Group)
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.option("--as", "as_user", metavar="USERNAME",
              help="Act as this account (password from BKT_PASSWORD or a prompt; TOTP code "
                   "from BKT_TOTP or a prompt). Importing, approving, revoking and requests "
                   "need one, and obey the same rules as on the web.")
@click.pass_context
def main(ctx: click.Context, debug: bool, as_user: str | None) -> None:
    """Bangkok Transcripts: issue and verify signed transcripts."""
    os.umask(0o077)  # what this command writes (database, PDFs, keys) is the service's own
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["as"] = as_user


@main.command("init-db")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    """Create or upgrade the database schema; encrypt what is still stored in clear."""
    sealed = _issuer(ctx).seal_cleartext()
    if sealed:
        click.echo(f"encrypted {sealed} value(s) stored in clear")
    click.echo(f"database ready: {Settings.from_env().database_url}")


@main.group()
def institutions() -> None:
    """Institutions (schools and vocational centres)."""


@institutions.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def institutions_load(ctx: click.Context, path: Path) -> None:
    """Create the institutions listed in a JSON file."""
    created = load_institutions(_issuer(ctx), path, actor=_actor(ctx))
    click.echo(f"created {len(created)} institution(s): {' '.join(created) or '-'}")


@institutions.command("emblem")
@click.argument("code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def institutions_emblem(ctx: click.Context, code: str, path: Path) -> None:
    """Give an institution its emblem (a JPEG or PNG), printed on documents of batches
    imported from now on. As an administrator (--as)."""
    sha = set_emblem(_issuer(ctx), code, path.read_bytes(), actor=_actor(ctx))
    click.echo(f"institution {code}: emblem {sha}")


@main.group()
def keys() -> None:
    """Signing keys: the development PKI, and each institution's key generations
    (rotate, retire, report a compromise)."""


@keys.command("create")
@click.option("--institution", "codes", multiple=True, help="Default: every institution.")
@click.option("--hsm", is_flag=True,
              help="Make the institutions' keys inside the HSM (BKT_HSM_TOKEN, docs/hsm.md): "
                   "never on disk, never extractable; their certificates go to the keys "
                   "directory and the token.")
@click.pass_context
def keys_create(ctx: click.Context, codes: tuple[str, ...], hsm: bool) -> None:
    """Create the development PKI in the keys directory (existing keys are kept). Without
    a CA there, the key ceremony runs into var/ceremony/ (development only: in
    production, `keys ceremony` on an offline machine, then `keys install`)."""
    issuer = _issuer(ctx)
    token = issuer.token() if hsm else None
    if hsm and token is None:
        raise ServiceError("--hsm needs BKT_HSM_TOKEN, the label of the token (docs/hsm.md)")
    with issuer.uow() as uow:
        stmt = select(InstitutionRow.code, InstitutionRow.name_en)
        if codes:
            stmt = stmt.where(InstitutionRow.code.in_(codes))
        known = [(code, name) for code, name in uow.session.execute(stmt)]
    missing = set(codes) - {code for code, _ in known}
    if missing or not known:
        if missing:
            raise ServiceError("unknown institution(s): %(codes)s",
                               codes=" ".join(sorted(missing)))
        raise ServiceError("no institutions: run `transcripts institutions load` first")
    offline = issuer.settings.var_dir / DEV_CEREMONY
    had_ca = (issuer.settings.keys_dir / "issuing.crt").exists()
    write_dev_pki(issuer.settings.keys_dir, known, issuer.passphrase(), datetime.now(UTC),
                  offline=offline, service_url=issuer.settings.pki_url, token=token)
    publish(issuer)
    if not had_ca:
        click.echo(f"development root CA made in {offline} (its key stays there, never in "
                   f"{issuer.settings.keys_dir}); in production: transcripts keys ceremony")
    where = f" (private keys in HSM token {token.token!r})" if token else ""
    click.echo(f"keys ready in {issuer.settings.keys_dir}{where} for "
               f"{' '.join(c for c, _ in known)}")


def _secret(variable: str, prompt: str) -> bytes:
    value = os.environ.get(variable) or click.prompt(prompt, hide_input=True,
                                                     confirmation_prompt=True, err=True)
    if not value:
        raise ServiceError("an empty passphrase would leave the key unencrypted (%(variable)s)",
                           variable=variable)
    return value.encode()


@keys.command("ceremony")
@click.option("--offline", "offline", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The offline folder (removable media) that keeps the root CA's key.")
def keys_ceremony(offline: Path) -> None:
    """On an offline machine: make the root CA (or reuse the one in --offline) and a new
    issuing CA; writes OFFLINE/export/ with only what the issuer host needs (root.crt,
    issuing.crt, issuing.key). The root's key is encrypted with BKT_ROOT_PASSPHRASE (or
    a prompt), the issuing CA's with the issuer host's BKT_KEY_PASSPHRASE (or a prompt).
    Opens no database."""
    root = _secret("BKT_ROOT_PASSPHRASE", "passphrase of the root CA's key")
    host = _secret("BKT_KEY_PASSPHRASE", "the issuer host's key passphrase")
    export = ceremony(offline, root, host, datetime.now(UTC))
    click.echo(f"root CA in {offline} (keep it offline); copy {export} to the issuer host "
               "and run: transcripts keys install EXPORT_DIR")


@keys.command("install")
@click.argument("export", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def keys_install(ctx: click.Context, export: Path) -> None:
    """Install a ceremony's export (root.crt, issuing.crt, issuing.key) into the keys
    directory; refused if it holds the root's key or the issuing key does not open with
    this host's passphrase."""
    issuer = _issuer(ctx)
    install_authority(export, issuer.settings.keys_dir, issuer.passphrase())
    click.echo(f"issuing CA installed in {issuer.settings.keys_dir}; now: transcripts keys "
               "create (institutions' keys) and transcripts publish")


@keys.command("move-root")
@click.option("--to", "offline", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Offline media to move the root CA's key to.")
def keys_move_root(offline: Path) -> None:
    """Upgrade a key store made before the key ceremony: move keys/root.key (and a copy
    of root.crt) to offline media; the issuer then refuses any root key beside it."""
    target = move_root_key(Settings.from_env().keys_dir, offline)
    click.echo(f"moved the root CA's key to {target}: keep that media off this machine")


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("an ISO 8601 time, e.g. 2027-03-01T09:00+07:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BANGKOK)


def _generation_line(g: Generation) -> str:
    def at(moment: datetime | None) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"

    line = f"  {g.number:>3}  {g.kid}  {g.state.value:<11} from {at(g.activated)}"
    if g.retired:
        line += f" to {at(g.retired)}"
    if g.compromised:
        line += f", compromised since {at(g.compromised)}"
    return line


def _show_history(history: KeyHistory) -> None:
    click.echo(f"{history.institution}: {len(history.generations)} generation(s)")
    for generation in history.generations:
        click.echo(_generation_line(generation))


@keys.command("list")
@click.option("--institution", "code", required=True)
@click.pass_context
def keys_list(ctx: click.Context, code: str) -> None:
    """An institution's key generations: kid, state, period of use."""
    _show_history(key_service.key_history(_issuer(ctx), code))


@keys.command("rotate")
@click.option("--institution", "code", required=True)
@click.option("--hsm", is_flag=True,
              help="Make the new keys inside the HSM (BKT_HSM_TOKEN); keys already there "
                   "are always replaced there.")
@click.pass_context
def keys_rotate(ctx: click.Context, code: str, hsm: bool) -> None:
    """New PDF-signing and credential keys for one institution; its current keys retire
    and stay published, so what they signed stays valid. As an administrator (--as)."""
    change = key_service.rotate_keys(_issuer(ctx), code, actor=_actor(ctx), hsm=hsm)
    _show_history(change.history)


@keys.command("retire")
@click.option("--institution", "code", required=True)
@click.option("--kid", required=True, help="The key's id (transcripts keys list).")
@click.option("--final", is_flag=True,
              help="Retire the only active key: the institution then signs nothing, not "
                   "even its status lists, until `keys rotate`.")
@click.pass_context
def keys_retire(ctx: click.Context, code: str, kid: str, final: bool) -> None:
    """Stop signing with a key without a new one; it stays published. As an
    administrator (--as)."""
    change = key_service.retire_key(_issuer(ctx), code, kid, actor=_actor(ctx), final=final)
    _show_history(change.history)


@keys.command("compromise")
@click.option("--institution", "code", required=True)
@click.option("--kid", required=True, help="The key's id (transcripts keys list).")
@click.option("--since", required=True, metavar="DATETIME",
              help="From when the keys may be in other hands (ISO 8601; without a zone, "
                   "Bangkok time).")
@click.pass_context
def keys_compromise(ctx: click.Context, code: str, kid: str, since: str) -> None:
    """Report a key generation (credential and PDF keys) compromised: what it signed from
    --since on is INVALID, and before then no longer plainly VALID. An active one is
    replaced at once. As an administrator (--as)."""
    change = key_service.compromise_key(_issuer(ctx), code, kid, _since(since),
                                        actor=_actor(ctx))
    _show_history(change.history)


STUDENT_STAGES = {SEALED: "students validated and sealed",
                  MATCHED: "students matched with earlier issues"}


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--institution", required=True, help="Code of the importing institution.")
@click.option("--photos", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A ZIP of the students' photos, each named <student_id>.jpg or .png "
                   "(ปพ.1 only); a bad photo rejects the import.")
@click.pass_context
def import_(ctx: click.Context, path: Path, institution: str, photos: Path | None) -> None:
    """Validate and store a batch file (CSV or XLSX); any error rejects it whole.

    Students issued before whose data changed (a new or changed photo too) become
    corrections; unchanged ones are left as they are. As a registrar (--as).
    """
    rows = 0
    bars: dict[str, _LazyBar] = {}

    def progress(n: int) -> None:
        nonlocal rows
        rows += n
        click.echo(f"\rrows read and checked: {rows:,}", err=True, nl=False)

    def students(stage: str, done: int, total: int) -> None:
        if not bars:
            click.echo(err=True)  # the rows' line stays as it is
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = _LazyBar(total, STUDENT_STAGES[stage])
        bars[stage].to(done)

    try:
        imported = import_batch(_issuer(ctx), institution, path.name, path, actor=_actor(ctx),
                                progress=progress, students=students,
                                photos=photos.read_bytes() if photos else None)
    finally:
        for bar in bars.values():
            bar.close()
        if rows and not bars:
            click.echo(err=True)
    click.echo(f"imported batch {imported.batch_id}: {imported.new} new, "
               f"{imported.corrections} correction(s), {imported.unchanged} unchanged")
    if imported.warnings:
        click.echo(f"{len(imported.warnings)} warning(s) to check before submitting:")
        for warning in imported.warnings:
            click.echo(f"  {warning}")
        click.echo(f"once checked: transcripts submit {imported.batch_id} --confirm-warnings "
                   "(or withdraw the batch and import a corrected file)")


@main.command("submit")
@click.argument("batch_id", type=int)
@click.option("--confirm-warnings", "confirm", is_flag=True,
              help="Confirm the import's warnings (checked against the students' "
                   "documents) first; audited. Required when the batch has any.")
@click.pass_context
def submit(ctx: click.Context, batch_id: int, confirm: bool) -> None:
    """Ask the director to approve a batch (as its registrar, --as)."""
    issuer, actor = _issuer(ctx), _actor(ctx)
    if confirm:
        count = confirm_warnings(issuer, batch_id, actor=actor)
        click.echo(f"batch {batch_id}: {count} warning(s) confirmed")
    submit_batch(issuer, batch_id, actor=actor)
    click.echo(f"batch {batch_id} submitted for approval")


@main.command("withdraw")
@click.argument("batch_id", type=int)
@click.option("--reason", required=True)
@click.pass_context
def withdraw(ctx: click.Context, batch_id: int, reason: str) -> None:
    """Take back a batch not yet approved (as a registrar, --as)."""
    withdraw_batch(_issuer(ctx), batch_id, reason=reason, actor=_actor(ctx))
    click.echo(f"batch {batch_id} withdrawn")


@main.command("approve")
@click.argument("batch_id", type=int)
@click.pass_context
def approve_(ctx: click.Context, batch_id: int) -> None:
    """Approve a submitted batch you did not request, as the director (--as); its
    issuance is queued (run it with `transcripts issue BATCH_ID` or a worker)."""
    job_id = approve(_issuer(ctx), batch_id, actor=_actor(ctx))
    click.echo(f"batch {batch_id} approved; issuance queued as job {job_id}")


@main.command("reject")
@click.argument("batch_id", type=int)
@click.option("--reason", required=True)
@click.pass_context
def reject(ctx: click.Context, batch_id: int, reason: str) -> None:
    """Send a submitted batch back to the registrar (as the director, --as)."""
    reject_batch(_issuer(ctx), batch_id, reason=reason, actor=_actor(ctx))
    click.echo(f"batch {batch_id} sent back")


class _LazyBar:
    """A progress bar that appears with the first progress report (not before errors)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label = total, label
        self.bar: Any = None

    def __call__(self, more: int) -> None:
        """`more` steps done since the last call."""
        if self.bar is None:
            self.bar = click.progressbar(length=self.total, label=self.label, show_pos=True,
                                         file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(more)

    def to(self, done: int) -> None:
        """`done` steps done in all."""
        self(done - (self.bar.pos if self.bar is not None else 0))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _pdfs(issuer: Issuer, batch_id: int) -> list[Path]:
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        pdfs = queries.batch_pdfs(uow.session, batch) if batch is not None else []
    return [issuer.settings.output_dir / path for _, _, path in pdfs]


def _issue(issuer: Issuer, batch_id: int, actor: Actor, workers: int) -> list[Path]:
    """Run the batch's issuance job here, with a progress bar; the batch's PDFs."""
    from issuer.jobs import RunnerConfig, enqueue_issue, job_status, run_job
    from issuer.jobs.tasks import runner_name

    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        issued = batch is not None and batch.status is BatchStatus.ISSUED
    if issued:
        click.echo(f"batch {batch_id} is issued")
        return _pdfs(issuer, batch_id)
    job_id = enqueue_issue(issuer, batch_id, actor)
    bar = _LazyBar(job_status(issuer, job_id).total or 0, f"batch {batch_id}")
    try:
        state = run_job(issuer, job_id, owner=runner_name("cli"),
                        config=RunnerConfig(workers=workers), on_progress=bar)
    finally:
        bar.close()
    status = job_status(issuer, job_id)
    if state is None:
        raise ServiceError("job %(job)s is running elsewhere: follow it with "
                           "`transcripts jobs show %(job)s`", job=job_id)
    if state is not JobState.DONE:
        raise ServiceError("batch %(batch)s: %(problem)s", batch=batch_id,
                           problem=status.error or state.value)
    click.echo(f"batch {batch_id} issued: {status.done} of {status.total} transcript(s)")
    return _pdfs(issuer, batch_id)


@main.command("issue")
@click.argument("batch_id", type=int)
@click.option("--workers", default=2, show_default=True, help="Worker processes (0: in-process).")
@click.pass_context
def issue(ctx: click.Context, batch_id: int, workers: int) -> None:
    """Render, sign and store every transcript of an approved batch (resumable): runs its
    issuance job here, with a progress bar."""
    for path in _issue(_issuer(ctx), batch_id, _actor(ctx), workers):
        click.echo(path)


def _print_verdict(verdict: Verdict) -> None:
    marks = {"pass": "ok  ", "fail": "FAIL", "warn": "warn", "indeterminate": "??  ",
             "skipped": "skip"}
    for check in verdict.checks:
        click.echo(f"  {marks[check.status.value]} {check.id}: {check.message_en}")
    click.echo(verdict.result.value)


@main.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--at", "at", metavar="DATETIME",
              help="Judge the signature's long-term validity as of this time (ISO 8601; "
                   "without a zone, Bangkok time), e.g. 2040-01-01: what a verifier then "
                   "would say of this very file.")
@click.pass_context
def verify(ctx: click.Context, path: Path, at: str | None) -> None:
    """Verify a transcript PDF, or its W3C VC 2.0 export (.vc.json), offline; exit status
    0 only if it is VALID."""
    data = path.read_bytes()
    if is_json(data):  # a VC 2.0 export, not a PDF
        verdict = verify_vc(_issuer(ctx), data)
    else:
        verdict = verify_pdf(_issuer(ctx), data, moment=_since(at) if at is not None else None)
    _print_verdict(verdict)
    if verdict.result is not Result.VALID:
        ctx.exit(1)


@main.command("revoke")
@click.argument("transcript_id")
@click.option("--reason", required=True, help="Why, in your words (kept, never published).")
@click.option("--reason-code", type=click.Choice(list(REASONS)), default=UNSPECIFIED,
              show_default=True, help="What verifiers are told, with the date.")
@click.pass_context
def revoke_(ctx: click.Context, transcript_id: str, reason: str, reason_code: str) -> None:
    """Revoke the current version of a transcript (as a registrar, --as); final."""
    version = revoke(_issuer(ctx), transcript_id, reason=reason, actor=_actor(ctx),
                     reason_code=reason_code)
    click.echo(f"revoked {transcript_id} v{version}")


@main.command("reissue")
@click.argument("transcript_id")
@click.option("--reason", required=True)
@click.option("--from-file", "from_file",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A batch file holding the student's corrected rows.")
@click.option("--confirm-warnings", is_flag=True,
              help="The corrected prefix disagrees with the sex and you have checked it.")
@click.pass_context
def reissue_(ctx: click.Context, transcript_id: str, reason: str, from_file: Path | None,
             confirm_warnings: bool) -> None:
    """Request a new version (corrected from a file, or the same data with the current
    signatories), as a registrar (--as); another person approves it before it is signed."""
    corrected = (from_file.name, from_file.read_bytes()) if from_file else None
    batch_id = request_new_version(_issuer(ctx), transcript_id, reason=reason,
                                   actor=_actor(ctx), corrected=corrected,
                                   confirm_warnings=confirm_warnings)
    click.echo(f"request for a new version of {transcript_id}: batch {batch_id}, "
               "waiting for approval")


@main.command("publish")
@click.pass_context
def publish_(ctx: click.Context) -> None:
    """Rewrite the documents verifiers read (JWKS, status lists)."""
    path = publish(_issuer(ctx))
    click.echo(f"published {path}")


@main.group()
def accounts() -> None:
    """Web accounts (registrars, approvers, administrators)."""


@accounts.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["registrar", "approver", "admin"]))
@click.option("--institution", help="Institution code (not for administrators).")
@click.option("--email", default="")
@click.option("--name", "display_name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin "
              "instead of generating one.")
@click.pass_context
def accounts_create(ctx: click.Context, username: str, role: str, institution: str | None,
                    email: str, display_name: str, password_stdin: bool) -> None:
    """Create an account; prints the generated password once. As an administrator
    (--as), or without one only to create the first account of a new installation."""
    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else account_service.generate_password())
    account_service.create_account(
        _issuer(ctx), username=username, password=password, role=role,
        institution_code=institution, email=email, display_name=display_name,
        actor=_actor(ctx),
    )
    click.echo(f"created {role} {username}" + (f" at {institution}" if institution else ""))
    if not password_stdin:
        click.echo(f"password: {password}")


DEMO_ACCOUNTS = (("registrar", "registrar1001", "1001"), ("approver", "director1001", "1001"),
                 ("registrar", "registrar2001", "2001"), ("approver", "director2001", "2001"),
                 ("admin", "bma-admin", None))


def _demo_accounts(issuer: Issuer, actor: Actor) -> list[tuple[str, str, str]]:
    """One web account per role and demo institution; (role, username, password) of those
    created now (existing ones keep their password)."""
    known = {a.username for a in account_service.list_accounts(issuer)}
    created = []
    for role, username, code in DEMO_ACCOUNTS:
        if username in known:
            continue
        password = account_service.generate_password()
        account_service.create_account(issuer, username=username, password=password,
                                       role=role, institution_code=code, actor=actor)
        created.append((role, username, password))
    return created


def _check_demo_database(issuer: Issuer) -> None:
    """The demo acts as its own accounts: never where anyone else has one."""
    known = {a.username for a in account_service.list_accounts(issuer)}
    if not known <= {name for _, name, _ in DEMO_ACCOUNTS}:
        raise ServiceError("`transcripts demo` runs only on a database of its own: this one "
                           "has other accounts (set BKT_VAR_DIR or BKT_DATABASE_URL)")


def _demo_actor(username: str) -> Actor:
    role, _, code = next(a for a in DEMO_ACCOUNTS if a[1] == username)
    return Actor(username, "cli demo", AccountRole(role), code)


@main.command("demo")
@click.option("--workers", default=2, show_default=True)
@click.pass_context
def demo(ctx: click.Context, workers: int) -> None:
    """On a database of its own: keys, sample institutions, demo accounts, and one batch
    each for a school and a centre, imported and submitted by the registrar, approved by
    the director, issued."""
    issuer = _issuer(ctx)
    system, admin = _actor(ctx), _demo_actor("bma-admin")
    _check_demo_database(issuer)
    for code in load_institutions(issuer, EXAMPLES / "institutions.json", actor=admin):
        set_emblem(issuer, code, demo_images.emblem_png(DEMO_INITIALS.get(code, code)),
                   actor=admin)
    created = _demo_accounts(issuer, admin)
    ctx.invoke(keys_create)
    from issuer.pki_services import serving_while

    s = issuer.settings
    with serving_while(s.pki_url, s.tsa_url, s.keys_dir, issuer.passphrase()):
        _demo_batches(issuer, system, workers)
    click.echo(f"\nSigned transcripts (PAdES {s.signing_level}) are under {s.output_dir}/")
    click.echo(f"Beside each PDF its W3C VC 2.0 (Open Badges 3.0) as .vc.json, issued by "
               f"{did_for(s.public_base_url)}; the DID document and status lists are under "
               f"{s.published_dir}/ (docs/interop.md)")
    if created:
        click.echo("Web accounts (shown once; `transcripts accounts create` makes more):")
        for role, username, password in created:
            click.echo(f"  {role:<9} {username:<14} {password}")
    click.echo("Check one offline:  .venv/bin/transcripts verify <file.pdf>  "
               "(--at 2040-01-01: as a verifier would then)")


def _demo_batches(issuer: Issuer, system: Actor, workers: int) -> None:
    for code, name in DEMO_BATCHES:
        registrar, director = _demo_actor(f"registrar{code}"), _demo_actor(f"director{code}")
        photos = demo_images.photos_zip(DEMO_PHOTOS[code]) if code in DEMO_PHOTOS else None
        try:
            batch_id = import_batch(issuer, code, name, (EXAMPLES / name).read_bytes(),
                                    actor=registrar, photos=photos).batch_id
            submit_batch(issuer, batch_id, actor=registrar)
            approve(issuer, batch_id, actor=director)
        except AlreadyImported as e:
            batch_id = e.batch_id
        for p in _issue(issuer, batch_id, system, workers):
            click.echo(f"  {p}")


@main.command("worker")
@click.option("--workers", default=2, show_default=True,
              help="Signing processes per job (0: in the worker's own process).")
@click.option("--stale-after", default=60.0, show_default=True,
              help="Seconds without a heartbeat after which a running job is resumed here.")
@click.option("--heartbeat", default=10.0, show_default=True, help="Seconds between heartbeats.")
@click.option("--once", is_flag=True, help="Run the jobs waiting now, then exit.")
@click.pass_context
def worker(ctx: click.Context, workers: int, stale_after: float, heartbeat: float,
           once: bool) -> None:
    """Run queued jobs (the embedded job runner) in the foreground until stopped.

    On start it also resumes jobs whose runner died (stale heartbeat). SIGTERM or
    Ctrl-C hands a running job back to the queue at its next progress report.
    """
    import logging
    import signal

    from issuer.jobs import LocalWorker, RunnerConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = RunnerConfig(workers=workers, stale_after=stale_after, heartbeat_every=heartbeat)
    runner = LocalWorker(_issuer(ctx), config)
    if once:
        ran = runner.run_until_idle()
        click.echo(f"ran {len(ran)} job(s)")
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: runner.stop())
    click.echo(f"worker {runner.name} running; stop with Ctrl-C", err=True)
    runner.run_forever()


@main.group()
def jobs() -> None:
    """Background jobs (run by `transcripts worker` or Celery workers)."""


@jobs.command("issue")
@click.argument("batch_id", type=int)
@click.pass_context
def jobs_issue(ctx: click.Context, batch_id: int) -> None:
    """Queue the issuance of an approved batch; prints the job's id."""
    from issuer.jobs import enqueue_issue

    job_id = enqueue_issue(_issuer(ctx), batch_id, _actor(ctx))
    click.echo(f"job {job_id} queued for batch {batch_id}")


@jobs.command("show")
@click.argument("job_id", type=int)
@click.pass_context
def jobs_show(ctx: click.Context, job_id: int) -> None:
    """A job's state and progress."""
    from issuer.jobs import job_status

    status = job_status(_issuer(ctx), job_id)
    total = status.total if status.total is not None else "?"
    click.echo(f"job {status.id} {status.kind} batch {status.batch_id}: {status.state} "
               f"{status.done}/{total}, attempts {status.attempts}"
               + (f", error: {status.error}" if status.error else ""))


@main.group()
def audit() -> None:
    """The audit log: check its keyed chain against a signed checkpoint, checkpoint it,
    export it."""


@audit.command("verify")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Check an export instead of the database. Its MACs need the integrity "
                   "key (BKT_INTEGRITY_KEY or keys/integrity.key, on the issuer host); "
                   "without it only links, ids and the checkpoint are checked.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="The export's format (default: from the file name).")
@click.option("--checkpoint", "checkpoint", metavar="PATH_OR_URL", default=None,
              help="The checkpoint to compare with, e.g. a copy fetched earlier; for "
                   "--file, one made before the export (default: the latest published).")
@click.option("--root", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Pinned root certificate(s), PEM (default: keys/root.crt).")
@click.pass_context
def audit_verify(ctx: click.Context, path: Path | None, fmt: str | None,
                 checkpoint: str | None, root: Path | None) -> None:
    """Check every event's MAC and link, that no id is missing, and that the log still
    holds the checkpoint's head; exit status 1 on any failure."""
    from issuer.services import audit as audit_service

    if path is not None:
        settings = Settings.from_env()
        fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
        found, problem = audit_service.load_checkpoint(settings, checkpoint, root)
        with open(path, encoding="utf-8", newline="") as f:
            check = audit_service.check_export(f, fmt, key=audit_service.export_key(settings),
                                               checkpoint=found, checkpoint_problem=problem)
    else:
        check = audit_service.check_audit_chain(_issuer(ctx), checkpoint, root)
    problems = check.problems()
    if problems:
        click.echo("; ".join(problems), err=True)
        ctx.exit(1)
    click.echo(check.summary() + (f" ({path})" if path else ""))


@audit.command("checkpoint")
@click.pass_context
def audit_checkpoint(ctx: click.Context) -> None:
    """Sign the log's head and publish it (audit/checkpoint.jws); publishing and the
    worker do this too."""
    from issuer.services import audit as audit_service

    issuer = _issuer(ctx)
    made, new = audit_service.write_checkpoint(issuer)
    state = "written" if new else "unchanged"
    click.echo(f"checkpoint {made.seq} {state}: head {made.head_id} {made.head_hash}, "
               f"{made.events} event(s) ({issuer.settings.published_dir}/audit/checkpoint.jws)")


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Default: standard output.")
@click.pass_context
def audit_export(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Write the whole audit log with its hashes (verifiable with `audit verify --file`)."""
    from issuer.services import audit as audit_service

    issuer = _issuer(ctx)
    if output is None:
        audit_service.export_audit(issuer, sys.stdout, fmt)
        return
    with open(output, "w", encoding="utf-8", newline="") as f:
        count = audit_service.export_audit(issuer, f, fmt)
    click.echo(f"exported {count} event(s) to {output}", err=True)


@main.group()
def archive() -> None:
    """Stored transcripts' long-term upkeep (docs/long-term-validity.md)."""


@archive.command("refresh")
@click.option("--within-days", default=365, show_default=True,
              help="Refresh a B-LTA transcript whose last timestamp's certificate ends "
                   "within this many days.")
@click.pass_context
def archive_refresh(ctx: click.Context, within_days: int) -> None:
    """Add current validation data and a new document timestamp (BKT_TSA_URL) to every
    stored B-LTA transcript whose last timestamp is due; resumable, idempotent, each one
    in the audit log. Exit status 1 if any failed (they wait for the next run)."""
    from issuer.services.archive import refresh_archive

    bar: _LazyBar | None = None

    def progress(more: int, total: int) -> None:
        nonlocal bar
        bar = bar or _LazyBar(total, "transcripts looked at")
        bar(more)

    try:
        report = refresh_archive(_issuer(ctx), actor=_actor(ctx),
                                 within=timedelta(days=within_days), progress=progress)
    finally:
        if bar is not None:
            bar.close()
    for name in report.refreshed:
        click.echo(f"refreshed {name}")
    for name, why in report.failed:
        click.echo(f"FAILED {name}: {why}", err=True)
    click.echo(f"{len(report.refreshed)} refreshed, {report.current} not due, "
               f"{report.not_lta} below B-LTA, {len(report.failed)} failed")
    if report.failed:
        ctx.exit(1)


@main.command("serve")
@click.option("--issuer-port", default=8000, show_default=True)
@click.option("--verifier-port", default=8001, show_default=True)
def serve_(issuer_port: int, verifier_port: int) -> None:
    """Run the issuer and verifier web services, and the PKI's online services (CRL,
    OCSP, TSA) when BKT_PKI_URL is on this machine, until Ctrl-C."""
    from issuer.pki_services import local_address
    from issuer.serve import serve

    settings = Settings.from_env()
    click.echo(f"issuer:   http://127.0.0.1:{issuer_port}/   (sign in with a demo account)")
    click.echo(f"verifier: http://127.0.0.1:{verifier_port}/v  (or scan a transcript's QR)")
    if local_address(settings.pki_url):
        click.echo(f"PKI:      {settings.pki_url}/  (CRL, OCSP, TSA; transcripts signed "
                   f"{settings.signing_level})")
    click.echo("Ctrl-C stops them all.")
    sys.exit(serve(settings, issuer_port, verifier_port))


@main.command("pki-services")
@click.option("--port", type=int, help="Default: the port of BKT_PKI_URL.")
def pki_services(port: int | None) -> None:
    """Run only the PKI's online services (CRL distribution point, OCSP responder, RFC
    3161 TSA) on 127.0.0.1 until Ctrl-C; `transcripts serve` runs them beside the web
    services."""
    from issuer.pki_services import local_address
    from issuer.serve import run_until_stopped, service_command

    settings = Settings.from_env()
    address = local_address(settings.pki_url)
    if port is None and address is None:
        raise ServiceError("BKT_PKI_URL %(url)r is not on this machine: give --port",
                           url=settings.pki_url)
    port = port or (address[1] if address else 0)
    click.echo(f"PKI services on http://127.0.0.1:{port}/ (Ctrl-C stops them)")
    sys.exit(run_until_stopped([service_command(port, os.environ)]))


if __name__ == "__main__":
    main()
