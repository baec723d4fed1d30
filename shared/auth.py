"""Authentication shared by the three services: argon2 passwords, API tokens, and the
signed session cookie, all checked without calling booking.

An API token is ``evt_<token id>.<secret>.<signature>``: the signature (HMAC with the shared
secret key) covers the token id, the user's id, email and role, so every service can read who
it belongs to on its own. Booking stores only a SHA-256 of the token and is the one that
revokes it; revocations reach calendar and notify as ``user.*`` events on the bus, which each
keeps in its own database (see ``shared.principals``). A browser session is Flask's signed
cookie, shared by the three services (same secret, same cookie name)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import wraps
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request, session

from shared.events import ROLES, Role
from shared.messages import Msg
from shared.problems import problem

TOKEN_PREFIX = "evt_"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request."""

    user_id: str
    email: str
    name: str
    role: str
    token_id: str | None = None

    @property
    def is_infra(self) -> bool:
        return self.role in ("infra", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def as_session(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("token_id")
        return data


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

# A service decides whether a principal read from a token or the session is still valid
# (booking: its users and tokens tables; calendar/notify: their replica of user events).
Validator = Callable[[Principal, str | None], Principal | None]


def init_auth(app, validate: Validator) -> None:
    """Resolve ``g.principal`` before each request from a bearer token or the session."""
    app.extensions["evenemang_auth"] = validate
    app.register_blueprint(whoami_blueprint())

    @app.before_request
    def _load_principal() -> None:
        g.principal = None
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
            claimed = read_token(app.config["SECRET_KEY"], token)
            g.principal = validate(claimed, token) if claimed else None
            g.auth_failed = g.principal is None
            return
        data = session.get("user")
        if isinstance(data, dict):
            try:
                claimed = Principal(**data)
            except TypeError:
                return
            g.principal = validate(claimed, None)


def current_principal() -> Principal | None:
    return g.get("principal")


def login(principal: Principal) -> None:
    """Start a fresh session for ``principal`` (a new cookie: no session fixation)."""
    session.clear()
    session["user"] = principal.as_session()
    session.permanent = True


def logout() -> None:
    session.clear()


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
