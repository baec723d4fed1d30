"""Notify's settings: the shared configuration plus a few of its own, read from the
environment with documented defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from services.notify.domain import Retry
from services.notify.mail.addresses import address_list, domain_of, sender_parts
from shared.config import Config, ConfigError

# name: (default, meaning) — the README's configuration table lists them
ENV = {
    "EVENEMANG_REMINDER_HOURS": (24.0, "hours before each occurrence a reminder goes out"),
    "EVENEMANG_MAIL_MAX_ATTEMPTS": (8, "attempts before a mail is dead"),
    "EVENEMANG_MAIL_RETRY_SECONDS": (60.0, "first retry delay; doubles after each attempt"),
    "EVENEMANG_MAIL_LEASE_SECONDS": (60.0, "a sender silent this long loses its claimed mail"),
}


def _number(env: Mapping[str, str], name: str, kind: type) -> float | int:
    default = ENV[name][0]
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from exc
    if value < 0 or (kind is int and value < 1):
        raise ConfigError(f"{name} must be positive")
    return value


@dataclass(frozen=True)
class MailSettings:
    """What planning and composing mail needs to know."""

    mail_from: str = "evenemang@localhost"
    infra_team: tuple[str, ...] = ()
    base_url: str = "http://127.0.0.1:8000"
    reminder_lead: timedelta = timedelta(hours=24)
    secret_key: str = ""  # signs the decision links in deciders' mail (none without it)
    timezone: str = "Europe/Stockholm"  # where the daily digest's 07:00 is

    @classmethod
    def from_config(cls, config: Config, env: Mapping[str, str] | None = None) -> MailSettings:
        env = os.environ if env is None else env
        hours = _number(env, "EVENEMANG_REMINDER_HOURS", float)
        return cls(
            mail_from=config.mail_from,
            infra_team=address_list(config.infra_team_email),
            base_url=config.base_url.rstrip("/"),
            reminder_lead=timedelta(hours=hours),
            secret_key=config.secret_key,
            timezone=config.timezone,
        )

    # parsed once per settings object: every mail's headers and Message-ID use them
    @cached_property
    def sender_address(self) -> str:
        return sender_parts(self.mail_from)[1]

    @cached_property
    def sender_name(self) -> str:
        return sender_parts(self.mail_from)[0]

    @cached_property
    def domain(self) -> str:
        return domain_of(self.sender_address)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class SenderSettings:
    """How the sender loop delivers: SMTP or the sink, and how hard it retries."""

    smtp_url: str
    sink_dir: Path
    envelope_from: str
    max_attempts: int = 8
    retry_seconds: float = 60.0
    lease_seconds: float = 60.0
    batch_size: int = 50
    interval: float = 0.2

    @property
    def retry(self) -> Retry:
        return Retry(self.max_attempts, self.retry_seconds)

    @classmethod
    def from_config(cls, config: Config, env: Mapping[str, str] | None = None) -> SenderSettings:
        env = os.environ if env is None else env
        return cls(
            smtp_url=config.smtp_url,
            sink_dir=sink_directory(config),
            envelope_from=MailSettings.from_config(config, env).sender_address,
            max_attempts=int(_number(env, "EVENEMANG_MAIL_MAX_ATTEMPTS", int)),
            retry_seconds=float(_number(env, "EVENEMANG_MAIL_RETRY_SECONDS", float)),
            lease_seconds=float(_number(env, "EVENEMANG_MAIL_LEASE_SECONDS", float)),
        )


def sink_directory(config: Config) -> Path:
    return Path(config.data_dir) / "mail"
