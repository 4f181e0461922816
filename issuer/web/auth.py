"""Signing in and out, the account page (password, TOTP), and the role guard.

Sessions are Flask's signed cookies (Secure, HttpOnly, SameSite=Lax) holding the
account's session token, which changes with its password: changing it ends every other
session. `roles(...)` guards a view: anonymous visitors go to the sign-in page (JSON
endpoints answer 401), a signed-in account of another role gets 403.
"""

from __future__ import annotations

import time
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
from issuer.services import accounts
from issuer.services.context import Actor, ServiceError
from issuer.web.extensions import issuer, limiter, login_manager
from issuer.web.i18n import LOCALES

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
PENDING_SECONDS = 300  # to type the TOTP code after the password


class WebUser(UserMixin):
    def __init__(self, info: accounts.AccountInfo) -> None:
        self.info = info

    def get_id(self) -> str:
        return self.info.session_token

    @property
    def role(self) -> AccountRole:
        return self.info.role

    @property
    def institution_code(self) -> str | None:
        return self.info.institution_code

    @property
    def username(self) -> str:
        return self.info.username


@login_manager.user_loader
def _load_user(token: str) -> WebUser | None:
    account_id, _sep, _rest = token.partition(":")
    if not account_id.isdigit():
        return None
    info = accounts.load_account(issuer(), int(account_id))
    if info is None or not info.active or info.session_token != token:
        return None
    return WebUser(info)


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


class PasswordOnlyForm(FlaskForm):
    current = PasswordField("current", validators=[DataRequired(), Length(max=1024)])


class PasswordForm(FlaskForm):
    current = PasswordField("current", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField("new", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField("confirm", validators=[DataRequired(), Length(max=1024)])


def _start_session(info: accounts.AccountInfo) -> None:
    lang = session.get("lang")
    session.clear()  # nothing from before the sign-in survives it
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(WebUser(info))


def _login_limit() -> str:
    return current_app.config["BKT_LOGIN_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(home_for(user().role))
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
            session["pending"] = {"id": result.account.id, "at": time.time(),
                                  "next": safe_next(next_url, "")}
            return redirect(url_for("auth.login_code"))
        _start_session(result.account)
        return redirect(safe_next(next_url, home_for(result.account.role)))
    return render_template("issuer/login.html", form=form), 400 if form.errors else 200


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_code() -> Any:
    pending = session.get("pending")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop("pending", None)
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            info = accounts.verify_code(issuer(), int(pending["id"]), form.code.data or "",
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
    secret = session.get("totp_setup")
    setup = None
    if secret and not user().info.totp_enabled:
        uri = accounts.totp_uri(secret, user().username)
        setup = {"secret": secret, "qr": _qr_svg(uri)}
    return render_template("issuer/account.html", password_form=PasswordForm(),
                           code_form=CodeForm(), setup=setup)


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
        flash(str(e), "error")
        return redirect(url_for("auth.account"))
    _start_session(info)  # the old token is void: carry on under the new one
    flash(_("Password changed. Other sessions have been signed out."), "ok")
    return redirect(url_for("auth.account"))


@bp.post("/account/totp/start")
@login_required
def totp_start() -> Any:
    session["totp_setup"] = accounts.new_totp_secret()
    return redirect(url_for("auth.account"))


@bp.post("/account/totp/enable")
@login_required
def totp_enable() -> Any:
    form = CodeForm()
    secret = session.get("totp_setup")
    if not form.validate_on_submit() or not secret:
        abort(400)
    try:
        info = accounts.enable_totp(issuer(), user().info.id, secret, form.code.data or "",
                                    actor=actor())
    except ServiceError as e:
        flash(str(e), "error")
        return redirect(url_for("auth.account"))
    session.pop("totp_setup", None)
    user().info = info
    flash(_("Two-step sign-in is on."), "ok")
    return redirect(url_for("auth.account"))


@bp.post("/account/totp/disable")
@login_required
def totp_disable() -> Any:
    form = PasswordOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.disable_totp(issuer(), user().info.id, actor=actor(),
                              password=form.current.data or "")
    except ServiceError as e:
        flash(str(e), "error")
        return redirect(url_for("auth.account"))
    flash(_("Two-step sign-in is off."), "ok")
    return redirect(url_for("auth.account"))
