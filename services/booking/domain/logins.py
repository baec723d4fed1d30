"""How long a login must wait after failures: per account and per client address alike.

Failures count until ``window`` passes without one. Up to ``max_failures`` they cost
nothing; from then on each further attempt must wait, ``first_wait`` after the
``max_failures``-th failure and twice as long after each one more, at most ``window``. An
attempt that comes sooner is refused (429 with Retry-After, after a hold of at most a
second: see usecases.logins) without a password being checked, so guessing costs the
guesser time and the server next to nothing."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.domain.model import DomainError
from shared.messages import Msg

NO_WAIT = timedelta(0)
MAX_DOUBLINGS = 20  # 2**20 seconds is far beyond any window: the cap applies long before


@dataclass(frozen=True)
class LoginPolicy:
    """The throttle's numbers (``EVENEMANG_LOGIN_MAX_FAILURES``, ``..._WINDOW_MINUTES``)."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    first_wait: timedelta = timedelta(seconds=1)

    def counted(self, failures: int, last_failure_at: datetime | None, now: datetime) -> int:
        """The failures that still count: none once ``window`` has passed since the last."""
        if last_failure_at is None or now - last_failure_at >= self.window:
            return 0
        return failures

    def wait(self, failures: int, last_failure_at: datetime | None, now: datetime) -> timedelta:
        """How long from ``now`` until the next attempt may be checked (zero: at once)."""
        counted = self.counted(failures, last_failure_at, now)
        if counted < self.max_failures or last_failure_at is None:
            return NO_WAIT
        doublings = min(counted - self.max_failures, MAX_DOUBLINGS)
        step = min(self.first_wait * 2**doublings, self.window)
        return max(last_failure_at + step - now, NO_WAIT)


class LoginThrottled(DomainError):
    """Too many failed logins for this account or from this address: try again later."""

    def __init__(self, wait: timedelta) -> None:
        self.wait = wait
        self.retry_after = max(1, math.ceil(wait.total_seconds()))
        if self.retry_after < 120:
            message = Msg("login_wait_seconds", seconds=self.retry_after)
        else:
            message = Msg("login_wait_minutes", minutes=math.ceil(self.retry_after / 60))
        super().__init__(message)


def address_group(address: str | None) -> str:
    """The part of a client address the throttle counts by: an IPv4 address whole, an IPv6
    address by its /64 (what one subscriber is usually given)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
