"""Authentication shared by the three services: argon2 passwords, API tokens, and the
signed session cookie, all checked without calling booking.

An API token is ``evt_<token id>.<secret>.<signature>``: the signature (HMAC with the shared
secret key) covers the token id, the user's id, email and role, so every service can read who
it belongs to on its own. Booking stores only a SHA-256 of the token and is the one that
revokes it; revocations reach calendar and notify as ``user.*`` events on the bus, which each
keeps in its own database (see ``shared.principals``). A browser session is Flask's signed
cookie, shared by the three services (same secret, same cookie name); it names a session
booking keeps (``shared.sessions``), which logging out ends on every service."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, wraps
from typing import Any, Protocol, runtime_checkable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request, session

from shared.db import utcnow
from shared.events import ROLES, Role
from shared.messages import Msg
from shared.problems import problem
from shared.sessions import SessionClaim, SessionLimits

TOKEN_PREFIX = "evt_"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches. Without a hash (an unknown address, an account that
    has none) a dummy hash is checked all the same, so the answer takes as long as for a
    wrong password and tells nothing about who exists."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request."""

    user_id: str
    email: str
    name: str
    role: str
    token_id: str | None = None
    language: str = ""  # "sv"/"en" where the service knows it (booking), else ""

    @property
    def is_infra(self) -> bool:
        return self.role in ("infra", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret_key: str, message: str) -> str:
    return _b64(hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()[:24])


def issue_token(secret_key: str, principal: Principal, token_id: str) -> str:
    """A new API token for ``principal``; show it once, store only :func:`token_hash`."""
    claims = _b64(
        json.dumps(
            {
                "tid": token_id,
                "uid": principal.user_id,
                "email": principal.email,
                "name": principal.name,
                "role": principal.role,
            },
            separators=(",", ":"),
        ).encode()
    )
    body = f"{TOKEN_PREFIX}{claims}.{secrets.token_urlsafe(24)}"
    return f"{body}.{_sign(secret_key, body)}"


def read_token(secret_key: str, token: str) -> Principal | None:
    """The principal a token names when its signature is good (revocation is checked by the
    caller); ``None`` for anything forged or malformed."""
    if not token.startswith(TOKEN_PREFIX) or token.count(".") != 2:
        return None
    body, _, signature = token.rpartition(".")
    if not hmac.compare_digest(signature, _sign(secret_key, body)):
        return None
    try:
        claims = json.loads(_unb64(body[len(TOKEN_PREFIX) :].split(".")[0]))
        return Principal(
            user_id=claims["uid"],
            email=claims["email"],
            name=claims["name"],
            role=claims["role"],
            token_id=claims["tid"],
        )
    except (ValueError, KeyError, TypeError):
        return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- per request -----------------------------------------------------------------------

SESSION_KEY = "auth"  # the session cookie's entry naming the session (shared.sessions)
LEGACY_KEY = "user"  # what cookies held before sessions were kept (31 days of them)


class Authority(Protocol):
    """What a service knows about credentials: booking its own tables (and it alone starts
    and ends sessions); calendar and notify their replica of ``user.changed``."""

    def check_token(self, claimed: Principal, token: str) -> Principal | None:
        """The principal a signed token stands for now; ``None`` when it no longer holds."""

    def check_session(self, claim: SessionClaim, now: datetime) -> Principal | None:
        """The principal of a live session the cookie names (its own times already checked);
        ``None`` when the session ended or its user may no longer log in."""


@runtime_checkable
class SessionKeeper(Authority, Protocol):
    """Booking: the one that starts and ends sessions."""

    def start_session(self, user_id: str, now: datetime) -> SessionClaim: ...

    def end_session(self, claim: SessionClaim, now: datetime) -> None: ...


@dataclass
class Auth:
    """A service's credential checks, the sessions' limits and the clock they are read by
    (tests move it)."""

    authority: Authority
    limits: SessionLimits
    clock: Callable[[], datetime] = utcnow

    @property
    def keeper(self) -> SessionKeeper:
        """Booking's authority, which starts and ends sessions (not calendar's or notify's)."""
        if not isinstance(self.authority, SessionKeeper):
            raise RuntimeError("only booking starts and ends sessions")
        return self.authority


def init_auth(app, authority: Authority, limits: SessionLimits) -> Auth:
    """Resolve ``g.principal`` before each request from a bearer token or the session."""
    auth = Auth(authority, limits)
    app.extensions["evenemang_auth"] = auth
    app.register_blueprint(whoami_blueprint())

    @app.before_request
    def _load_principal() -> None:
        g.principal = None
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
            claimed = read_token(app.config["SECRET_KEY"], token)
            g.principal = authority.check_token(claimed, token) if claimed else None
            g.auth_failed = g.principal is None
            return
        if LEGACY_KEY in session:
            session.pop(LEGACY_KEY)  # a cookie from before: the user's name and email in clear
        if SESSION_KEY in session:
            _load_session(auth)

    return auth


def _load_session(auth: Auth) -> None:
    """The session's principal, its last seen time written again when it is
    :meth:`SessionLimits.stale`. A session that is over is dropped from the cookie when its
    own times say so or booking refuses it; calendar and notify only refuse it (they may
    not know its user yet, and the cookie is booking's too)."""
    claim = SessionClaim.load(session[SESSION_KEY])
    now = auth.clock()
    over = claim is None or auth.limits.over(claim.started_at, claim.seen_at, now)
    principal = None if over else auth.authority.check_session(claim, now)
    if principal is None:
        if over or isinstance(auth.authority, SessionKeeper):
            session.pop(SESSION_KEY)
            if set(session) <= {"_permanent"}:
                session.clear()  # nothing left to keep: the cookie is deleted
        return
    if auth.limits.stale(claim.seen_at, now):
        claim = claim.seen(now)
        session[SESSION_KEY] = claim.dump()
    g.principal = principal
    g.session_claim = claim


def _auth() -> Auth:
    return current_app.extensions["evenemang_auth"]


def current_principal() -> Principal | None:
    return g.get("principal")


def current_session() -> SessionClaim | None:
    """The session this request came with, when it is live (not a bearer token)."""
    return g.get("session_claim")


def login(principal: Principal) -> SessionClaim:
    """Start a fresh session for ``principal`` (a new cookie: no session fixation); only
    booking keeps sessions."""
    auth = _auth()
    claim = auth.keeper.start_session(principal.user_id, auth.clock())
    session.clear()
    session[SESSION_KEY] = claim.dump()
    session.permanent = True
    g.principal, g.session_claim = principal, claim
    return claim


def logout() -> None:
    """End this request's session (every service learns of it) and clear the cookie."""
    claim = current_session()
    if claim is not None:
        auth = _auth()
        auth.keeper.end_session(claim, auth.clock())
    session.clear()
    g.principal = g.session_claim = None


def require_role(minimum: str = "organiser") -> Callable:
    """401 without credentials; 403 with the reason when the role is too low."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            principal = current_principal()
            if principal is None:
                response = problem(401, detail=Msg("log_in_or_send_token"), code="unauthorized")
                response.headers["WWW-Authenticate"] = 'Bearer realm="evenemang"'
                return response
            if principal.role not in ROLES or not Role(principal.role).at_least(Role(minimum)):
                return problem(
                    403, detail=Msg("needs_role_or_higher", role=minimum), code="forbidden"
                )
            return view(*args, **kwargs)

        return wrapper

    return decorate


def secret_key() -> str:
    return current_app.config["SECRET_KEY"]


def whoami_blueprint():
    """``GET /api/v1/me``: who the request is authenticated as (every service)."""
    from flask import Blueprint, jsonify

    bp = Blueprint("whoami", __name__)

    @bp.get("/api/v1/me")
    @require_role()
    def me():
        principal = current_principal()
        return jsonify(
            user_id=principal.user_id,
            email=principal.email,
            name=principal.name,
            role=principal.role,
        )

    return bp
