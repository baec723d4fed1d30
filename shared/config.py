"""Configuration from ``EVENEMANG_*`` environment variables: one definition for every process."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.files import private_dir

SERVICES = ("booking", "calendar", "notify")
MAX_PARTICIPANTS = 500  # what any booking's input may list; EVENEMANG_MAX_PARTICIPANTS below
PREFIX = "EVENEMANG_"


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Config:
    """Settings shared by all three services, built by :meth:`from_env`."""

    data_dir: Path = Path("./var")
    broker_url: str = ""
    booking_database_url: str = ""
    calendar_database_url: str = ""
    notify_database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    timezone: str = "Europe/Stockholm"
    smtp_url: str = ""
    mail_from: str = "evenemang@localhost"
    infra_team_email: str = ""
    queue_type: str = "classic"
    bus_max_retries: int = 3
    bus_retry_backoff: float = 0.2
    bus_prefetch: int = 100
    # A consumer whose database or broker is away pauses, doubling up to this many seconds.
    bus_max_pause: float = 60.0
    relay_batch_size: int = 500
    relay_interval: float = 0.2
    relay_lease_seconds: float = 60.0
    # AMQP heartbeat asked of the broker, seconds (0: none); a silent connection ends in two.
    broker_heartbeat: int = 10
    # /readyz says not ready when work (outbox, queue, mail) waits longer than this.
    ready_max_wait_seconds: float = 120.0
    # Log lines as "text" (for people) or "json" (one object a line, for collectors).
    log_format: str = "text"
    # A worker process serves its metrics on this port (0: only through the web's /metrics).
    metrics_port: int = 0
    proxy_hops: int = 0
    # Seconds a database statement may run (PostgreSQL's statement_timeout) or wait for
    # SQLite's write lock (its busy timeout) before it fails: the last line behind the
    # bounds of each request, so one stuck statement is ended and the others go on.
    db_statement_timeout: float = 30.0
    # Sessions end after this long without a request, and this long after logging in.
    session_idle_hours: float = 8.0
    session_max_days: float = 30.0
    # Logins that fail this often per account or per address wait longer each time.
    login_max_failures: int = 5
    login_window_minutes: float = 15.0
    # A refused login is answered after its wait, at most this long (0: at once).
    login_hold_seconds: float = 1.0
    # What one person may ask of booking (0: no limit), and the address domains a booking
    # approved without a decider may invite (empty: any); see the README's security section.
    max_bookings_per_hour: int = 60
    max_pending_bookings: int = 50
    max_participants: int = 200
    max_changes_per_hour: int = 20
    internal_domains: str = ""
    feed_ttl_minutes: int = 15
    feed_past_days: int = 90
    feed_cancelled_days: int = 30
    # Where calendar writes the rendered feeds for the proxy to serve ("": <data_dir>/feeds).
    feed_dir: str = ""
    # Single sign-on (OpenID Connect): on when issuer, client id and secret are all set.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_groups_claim: str = "groups"
    oidc_infra_groups: str = ""
    oidc_admin_groups: str = ""
    oidc_team_groups: str = ""
    oidc_trust_email: bool = False
    oidc_timeout: float = 10.0
    password_login: bool = True
    testing: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, data_dir: str | Path | None = None
    ) -> Config:
        """Read the environment, fill embedded defaults under the data directory."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None or raw == "" or f.name == "extra":
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        if data_dir is not None:
            values["data_dir"] = Path(data_dir)
        return cls(**values).with_defaults()

    def with_defaults(self) -> Config:
        """Fill what was left empty with the embedded defaults (SQLite files, the SQLite bus)."""
        data_dir = Path(self.data_dir).expanduser().resolve()
        changes: dict[str, Any] = {"data_dir": data_dir}
        for service in SERVICES:
            name = f"{service}_database_url"
            if not getattr(self, name):
                changes[name] = f"sqlite:///{data_dir / (service + '.db')}"
        if not self.feed_dir:
            changes["feed_dir"] = str(data_dir / "feeds")
        if not self.broker_url:
            from shared.bus.sqlite_transport import broker_url_for

            changes["broker_url"] = broker_url_for(data_dir / "bus.db")
        cfg = replace(self, **changes)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"EVENEMANG_TIMEZONE={self.timezone!r} is not a known time zone; "
                "use an IANA name such as Europe/Stockholm"
            ) from exc
        if self.queue_type not in ("classic", "quorum"):
            raise ConfigError("EVENEMANG_QUEUE_TYPE must be 'classic' or 'quorum'")
        if self.log_format not in ("text", "json"):
            raise ConfigError("EVENEMANG_LOG_FORMAT must be 'text' or 'json'")
        if self.broker_heartbeat < 0 or self.ready_max_wait_seconds <= 0:
            raise ConfigError(
                "EVENEMANG_BROKER_HEARTBEAT must be 0 or more, "
                "EVENEMANG_READY_MAX_WAIT_SECONDS more than 0"
            )
        for name in (
            "db_statement_timeout",
            "session_idle_hours",
            "session_max_days",
            "login_max_failures",
            "login_window_minutes",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{PREFIX}{name.upper()} must be a positive number")
        if self.login_hold_seconds < 0:
            raise ConfigError(f"{PREFIX}LOGIN_HOLD_SECONDS must not be negative")
        for name in (
            "max_bookings_per_hour",
            "max_pending_bookings",
            "max_participants",
            "max_changes_per_hour",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{PREFIX}{name.upper()} must be 0 (no limit) or more")
        if not 0 < self.max_participants <= MAX_PARTICIPANTS:
            raise ConfigError(
                f"EVENEMANG_MAX_PARTICIPANTS must be between 1 and {MAX_PARTICIPANTS}"
            )
        if self.session_idle_hours > self.session_max_days * 24:
            raise ConfigError(
                "EVENEMANG_SESSION_IDLE_HOURS must not exceed EVENEMANG_SESSION_MAX_DAYS"
            )
        self._validate_single_sign_on()

    def _validate_single_sign_on(self) -> None:
        parts = {
            "EVENEMANG_OIDC_ISSUER": self.oidc_issuer,
            "EVENEMANG_OIDC_CLIENT_ID": self.oidc_client_id,
            "EVENEMANG_OIDC_CLIENT_SECRET": self.oidc_client_secret,
        }
        missing = [name for name, value in parts.items() if not value]
        if 0 < len(missing) < len(parts):
            raise ConfigError(
                f"single sign-on needs {', '.join(missing)} as well "
                f"(or unset all of {', '.join(parts)})"
            )
        if self.oidc_enabled and not _secure_or_loopback(self.oidc_issuer):
            raise ConfigError(
                f"EVENEMANG_OIDC_ISSUER={self.oidc_issuer!r} must be an https:// address "
                "(http:// only on loopback, for tests)"
            )
        if not self.password_login and not self.oidc_enabled:
            raise ConfigError(
                "EVENEMANG_PASSWORD_LOGIN=0 leaves no way to log in: set EVENEMANG_OIDC_ISSUER, "
                "EVENEMANG_OIDC_CLIENT_ID and EVENEMANG_OIDC_CLIENT_SECRET too"
            )
        comma_pairs(self.oidc_team_groups, "EVENEMANG_OIDC_TEAM_GROUPS")
        if self.oidc_timeout <= 0:
            raise ConfigError("EVENEMANG_OIDC_TIMEOUT must be a positive number of seconds")

    @property
    def oidc_enabled(self) -> bool:
        """Whether "Log in with your university account" is offered."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    def database_url(self, service: str) -> str:
        if service not in SERVICES:
            raise ConfigError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
        return getattr(self, f"{service}_database_url")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ensure_secret_key(self) -> Config:
        """Return a config with a secret key: the configured one, or one kept in the data dir."""
        if self.secret_key:
            return self
        return replace(self, secret_key=load_or_create_secret(self.data_dir))

    def replace(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """The ``EVENEMANG_*`` variables that reproduce this config in a child process."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value in ("", None):
                continue
            if isinstance(value, bool):
                value = "1" if value else "0"
            env[PREFIX + f.name.upper()] = str(value)
        return env


def comma_list(value: str) -> tuple[str, ...]:
    """``"a, b,,c"`` → ``("a", "b", "c")``: a variable that lists names."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def comma_pairs(value: str, name: str = "") -> tuple[tuple[str, str], ...]:
    """``"a=x, b=y"`` → ``(("a", "x"), ("b", "y"))``: a variable that pairs names."""
    pairs = []
    for part in comma_list(value):
        key, sep, item = (p.strip() for p in part.partition("="))
        if not (sep and key and item):
            raise ConfigError(f"{name or 'the value'}: {part!r} is not NAME=VALUE")
        pairs.append((key, item))
    return tuple(pairs)


def _secure_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def load_or_create_secret(data_dir: Path) -> str:
    """Read the data directory's secret key, creating it (mode 0600) exactly once."""
    path = Path(data_dir) / "secret_key"
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _coerce(name: str, annotation: Any, raw: str) -> Any:
    kind = str(annotation)
    try:
        if kind == "Path":
            return Path(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return raw.strip().lower() in ("1", "true", "yes", "on")
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name.upper()}={raw!r} is not a valid {kind}") from exc
    return raw
