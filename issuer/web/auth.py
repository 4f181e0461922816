"""Signing in and out, the account page (password, TOTP), and the role guard.

A sign-in starts a server-side session (`issuer.services.sessions`): a random id, new
each time, carried in Flask's signed cookie (``__Host-bkt_session``: Secure, HttpOnly,
SameSite=Lax) and found in the database by its MAC. Signing out, the idle and absolute
timeouts, disabling the account, a password change or reset and any change of the
second factor end it; a change made by the holder starts them a fresh one.
Sign-in attempts are limited per client address across every worker
(`issuer.web.shared_limits`). `roles(...)` guards a view: anonymous visitors go to the
sign-in page (JSON endpoints answer 401), a signed-in account of another role gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from io import BytesIO
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from issuer.core.lifecycle import AccountRole
from issuer.core.sessions import SessionPolicy
from issuer.services import accounts, sessions
from issuer.services.context import Actor, ServiceError
from issuer.web.config import WebConfig
from issuer.web.extensions import issuer, login_manager
from issuer.web.i18n import LOCALES
from issuer.web.labels import said
from issuer.web.shared_limits import SharedLimits

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


class WebUser(UserMixin):
    """The signed-in account of this request, with its session."""

    def __init__(self, info: accounts.AccountInfo, session_id: str,
                 totp_setup: str | None = None) -> None:
        self.info = info
        self.session_id = session_id
        self.totp_setup = totp_setup

    def get_id(self) -> str:
        return self.session_id

    @property
    def role(self) -> AccountRole:
        return self.info.role

    @property
    def institution_code(self) -> str | None:
        return self.info.institution_code

    @property
    def username(self) -> str:
        return self.info.username


def _config() -> WebConfig:
    return current_app.config["BKT_WEB"]


def _policy() -> SessionPolicy:
    return _config().session_policy


@login_manager.user_loader
def _load_user(session_id: str) -> WebUser | None:
    resumed = sessions.resume(issuer(), session_id, _policy())
    if resumed is None:
        return None
    return WebUser(resumed.account, session_id, resumed.totp_setup)


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if wants_json():
        return jsonify({"error": "unauthorized"}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def wants_json() -> bool:
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


def user() -> WebUser:
    return cast(WebUser, current_user._get_current_object())  # type: ignore[attr-defined]


def actor() -> Actor:
    """Who acts: the signed-in account (name, role, institution) and the client address."""
    u = user()
    return Actor(u.username, f"web {request.remote_addr or '-'}", u.role, u.institution_code)


def roles(*allowed: AccountRole) -> Callable[[F], F]:
    """Only signed-in accounts of one of `allowed` roles may call the view."""
    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if user().role not in allowed:
                abort(403)
            if accounts.second_factor_missing(issuer(), user().info):
                if wants_json():
                    abort(403)
                flash(_("Your role needs two-step sign-in: turn it on to continue."), "error")
                return redirect(url_for("auth.account"))
            return view(*args, **kwargs)
        return cast(F, guarded)
    return decorator



def institution_code() -> str:
    """The signed-in staff member's institution (every staff route is scoped to it)."""
    code = user().institution_code
    if code is None:
        abort(403)
    return code


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return default


def home_for(role: AccountRole) -> str:
    return {
        AccountRole.ADMIN: url_for("admin.index"),
        AccountRole.APPROVER: url_for("batches.index"),
        AccountRole.REGISTRAR: url_for("batches.index"),
    }[role]


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=1024)])


class CodeForm(FlaskForm):
    code = StringField("code", validators=[DataRequired(), Length(max=10)])


class EnableCodeForm(CodeForm):
    current = PasswordField("current", validators=[DataRequired(), Length(max=1024)])


class PasswordOnlyForm(FlaskForm):
    current = PasswordField("current", validators=[DataRequired(), Length(max=1024)])


class PasswordForm(FlaskForm):
    current = PasswordField("current", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField("new", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField("confirm", validators=[DataRequired(), Length(max=1024)])


def _client() -> str:
    agent = request.user_agent.string[:150]
    return f"{request.remote_addr or '-'} {agent}"


def _start_session(info: accounts.AccountInfo) -> None:
    """A new session (a new id) for this browser; nothing from before survives it."""
    session_id = sessions.start(issuer(), info.id, client=_client(), policy=_policy())
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(WebUser(info, session_id))


def sign_in_limits() -> SharedLimits:
    return current_app.extensions["bkt_sign_in_limits"]


def _too_many() -> bool:
    """Count this sign-in attempt; whether it is over the limit for its address."""
    return not sign_in_limits().hit(request.remote_addr or "-")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(home_for(user().role))
    if request.method == "POST" and _too_many():
        abort(429)
    form = LoginForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        source = f"web {request.remote_addr or '-'}"
        try:
            result = accounts.sign_in(issuer(), form.username.data or "", form.password.data or "",
                                      source=source)
        except accounts.LoginFailed:
            flash(_("Incorrect username, password or code."), "error")
            return render_template("issuer/login.html", form=form), 401
        if result.needs_code:
            session["pending"] = {"challenge": result.challenge,
                                  "next": safe_next(next_url, "")}
            return redirect(url_for("auth.login_code"))
        _start_session(result.account)
        return redirect(safe_next(next_url, home_for(result.account.role)))
    return render_template("issuer/login.html", form=form), 400 if form.errors else 200


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> Any:
    pending = session.get("pending")
    if not isinstance(pending, dict) or not pending.get("challenge"):
        session.pop("pending", None)
        return redirect(url_for("auth.login"))
    if request.method == "POST" and _too_many():
        abort(429)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            info = accounts.verify_code(issuer(), str(pending["challenge"]),
                                        form.code.data or "",
                                        source=f"web {request.remote_addr or '-'}")
        except accounts.LoginFailed:
            flash(_("Incorrect username, password or code."), "error")
            return render_template("issuer/login_code.html", form=form), 401
        _start_session(info)
        return redirect(safe_next(pending.get("next"), home_for(info.role)))
    return render_template("issuer/login_code.html", form=form)


@bp.post("/logout")
def logout() -> Any:
    lang = session.get("lang")
    if current_user.is_authenticated:
        sessions.end(issuer(), user().session_id)
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str) -> Any:
    if code in LOCALES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("index")))


def _qr_svg(content: str) -> Markup:
    image = qrcode.make(content, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return Markup(svg[svg.index("<svg"):])  # our own SVG, no user input in it


@bp.get("/account")
@login_required
def account() -> Any:
    secret = user().totp_setup
    setup = None
    if secret and not user().info.totp_enabled:
        uri = accounts.totp_uri(secret, user().username)
        setup = {"secret": secret, "qr": _qr_svg(uri)}
    return render_template("issuer/account.html", password_form=PasswordForm(),
                           code_form=EnableCodeForm(), setup=setup)


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    form = PasswordForm()
    if not form.validate_on_submit():
        abort(400)
    if form.new.data != form.confirm.data:
        flash(_("The new passwords do not match."), "error")
        return redirect(url_for("auth.account"))
    try:
        info = accounts.change_password(issuer(), user().info.id, form.current.data or "",
                                        form.new.data or "", actor=actor())
    except ServiceError as e:
        flash(said(e), "error")
        return redirect(url_for("auth.account"))
    _start_session(info)  # every session ended: carry on under a new one
    flash(_("Password changed. Other sessions have been signed out."), "ok")
    return redirect(url_for("auth.account"))


@bp.post("/account/totp/start")
@login_required
def totp_start() -> Any:
    sessions.begin_totp_setup(issuer(), user().session_id)  # kept with the session
    return redirect(url_for("auth.account"))


@bp.post("/account/totp/enable")
@login_required
def totp_enable() -> Any:
    form = EnableCodeForm()
    secret = user().totp_setup
    if not form.validate_on_submit() or not secret:
        abort(400)
    try:
        info = accounts.enable_totp(issuer(), user().info.id, secret, form.code.data or "",
                                    password=form.current.data or "", actor=actor())
    except ServiceError as e:
        flash(said(e), "error")
        return redirect(url_for("auth.account"))
    _start_session(info)  # every session ended: carry on under a new one
    flash(_("Two-step sign-in is on. Other sessions have been signed out."), "ok")
    return redirect(url_for("auth.account"))


@bp.post("/account/totp/disable")
@login_required
def totp_disable() -> Any:
    form = PasswordOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        info = accounts.disable_totp(issuer(), user().info.id, actor=actor(),
                                     password=form.current.data or "")
    except ServiceError as e:
        flash(said(e), "error")
        return redirect(url_for("auth.account"))
    _start_session(info)
    flash(_("Two-step sign-in is off. Other sessions have been signed out."), "ok")
    return redirect(url_for("auth.account"))
