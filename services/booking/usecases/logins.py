"""Logging in with a password, throttled per account and per client address (the domain's
``LoginPolicy``). The failures are counted in booking's database, so every instance of
booking shares them; each attempt is counted as a failure before its password is checked
(forgiven when it was right), so requests in parallel cannot slip past the count. The
check itself takes a turn of the process's :class:`PasswordChecks` (a login that finds
none free is told to try again in a second), so guessers cannot crowd out other requests.

A refused login is answered only after a hold (the wait, at most ``login_hold_seconds``),
so a client that sends its next guess as soon as it hears back guesses about once a second
instead of hundreds of times: the increasing delay, then the 429. A hold keeps a worker
thread (asleep, not on the CPU), so a process holds at most ``HOLD_SLOTS`` refusals at
once and answers the rest at once; its other threads stay free for everyone else."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from services.booking.domain import LoginPolicy, LoginThrottled, address_group
from services.booking.persistence.models import LoginThrottle
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases.users import credentials
from shared.auth import Principal
from shared.config import Config
from shared.db import Database
from shared.inbox import insert_for
from shared.password_checks import PasswordChecks

BUSY = timedelta(seconds=1)  # when every turn to check a password is taken
KNOWN_WAITS = 10_000  # keys a process remembers a wait for, at most
HOLD_SLOTS = 3  # refusals a process holds at once (of gunicorn's 4 threads per worker)


@dataclass
class LoginGate:
    """What one booking process keeps between logins: its turns to check passwords, and
    the waits it has learnt, so that a guesser who was told to wait is told again without
    a database read. A wait only ever grows in the database, except when a right password
    starts an account afresh: a remembered wait is at worst one Retry-After too long."""

    checks: PasswordChecks = field(default_factory=PasswordChecks)
    hold: timedelta = timedelta(seconds=1)  # a refusal is answered after the wait, at most this
    waits: dict[str, datetime] = field(default_factory=dict)  # key → may try again at
    holding: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(HOLD_SLOTS)
    )

    def held(self, refusal: LoginThrottled) -> LoginThrottled:
        """``refusal``, after holding it for its wait (at most :attr:`hold`) when a hold is
        free; at once when every hold is taken."""
        seconds = min(refusal.wait.total_seconds(), self.hold.total_seconds())
        if seconds > 0 and self.holding.acquire(blocking=False):
            try:
                time.sleep(seconds)
            finally:
                self.holding.release()
        return refusal

    def known_wait(self, keys: tuple[str, ...], now: datetime) -> timedelta:
        until = max((self.waits.get(k, now) for k in keys), default=now)
        return max(until - now, timedelta(0))

    def remember(self, key: str, until: datetime, now: datetime) -> None:
        if len(self.waits) >= KNOWN_WAITS:
            for old in [k for k, t in list(self.waits.items()) if t <= now]:
                self.waits.pop(old, None)
            if len(self.waits) >= KNOWN_WAITS:
                self.waits.clear()
        self.waits[key] = until


def login_policy(config: Config) -> LoginPolicy:
    return LoginPolicy(
        max_failures=config.login_max_failures,
        window=timedelta(minutes=config.login_window_minutes),
    )


def log_in(
    ctx: Context, gate: LoginGate, email: str, password: str, address: str | None
) -> Principal | None:
    """The user with this email and password; ``None`` for a wrong login (the same answer,
    as slow, whether or not the address has an account). Raises :class:`LoginThrottled`,
    without checking the password, while the account or the address must wait, or when
    this process is checking as many passwords as it may at once (after a hold: see the
    module's note)."""
    try:
        return _log_in(ctx, gate, email, password, address)
    except LoginThrottled as refusal:
        raise gate.held(refusal) from None


def _log_in(
    ctx: Context, gate: LoginGate, email: str, password: str, address: str | None
) -> Principal | None:
    _refuse_if_known(ctx, gate, email, address)
    policy = login_policy(ctx.config)
    keys = throttle_keys(ctx.config.secret_key, email, address)
    now = ctx.clock()
    _must_not_wait(gate, _waits(ctx.db, keys, policy, now), now)
    with gate.checks.turn() as mine:
        if not mine:
            raise LoginThrottled(BUSY)
        _count_attempt(ctx.db, gate, keys, policy, now)
        password_hash, principal = credentials(ctx.db, email)
        right = gate.checks.verify(password_hash, password)
    if not right or principal is None:
        return None
    _forgive(ctx.db, keys)
    return principal


def refuse_if_told(ctx: Context, gate: LoginGate, email: str, address: str | None) -> None:
    """:class:`LoginThrottled` at once when this process told the account or the address to
    wait and the wait is not over (after a hold): a guesser costs next to nothing (no
    database, no check)."""
    try:
        _refuse_if_known(ctx, gate, email, address)
    except LoginThrottled as refusal:
        raise gate.held(refusal) from None


def _refuse_if_known(ctx: Context, gate: LoginGate, email: str, address: str | None) -> None:
    now = ctx.clock()
    known = gate.known_wait(throttle_keys(ctx.config.secret_key, email, address), now)
    if known:
        raise LoginThrottled(known)


def _must_not_wait(gate: LoginGate, waits: dict[str, timedelta], now: datetime) -> None:
    """:class:`LoginThrottled` for the longest of ``waits``, remembered by ``gate``."""
    longest = max(waits.values(), default=timedelta(0))
    if longest:
        for key, wait in waits.items():
            if wait:
                gate.remember(key, now + wait, now)
        raise LoginThrottled(longest)


def throttle_keys(secret_key: str, email: str, address: str | None) -> tuple[str, str]:
    """The account's and the address's keys: keyed hashes, so the table keeps neither."""

    def key(kind: str, value: str) -> str:
        return hmac.new(
            secret_key.encode(), f"{kind}\0{value}".encode(), hashlib.sha256
        ).hexdigest()

    return key("account", email.strip().lower()), key("address", address_group(address))


def _waits(
    db: Database, keys: tuple[str, ...], policy: LoginPolicy, now: datetime
) -> dict[str, timedelta]:
    with db.transaction(readonly=True) as session:
        rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys))).all()
        return {r.key: policy.wait(r.failures, r.last_failure_at, now) for r in rows}


def _count_attempt(
    db: Database, gate: LoginGate, keys: tuple[str, ...], policy: LoginPolicy, now: datetime
) -> None:
    """Count this attempt as a failure of both keys, unless one must wait after all (another
    attempt counted first): then :class:`LoginThrottled`."""
    with db.transaction() as session:
        session.execute(
            delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - policy.window)
        )
        session.execute(
            insert_for(session)(LoginThrottle)
            .values([{"key": k, "failures": 0, "last_failure_at": now} for k in keys])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = session.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.key.in_(keys))
            .order_by(LoginThrottle.key)
            .with_for_update()
        ).all()
        _must_not_wait(
            gate, {r.key: policy.wait(r.failures, r.last_failure_at, now) for r in rows}, now
        )
        for row in rows:
            row.failures = policy.counted(row.failures, row.last_failure_at, now) + 1
            row.last_failure_at = now


def _forgive(db: Database, keys: tuple[str, str]) -> None:
    """The password was right: the account starts afresh; the address gets back the failure
    this attempt was counted as (others' failures from it still count)."""
    account, address = keys
    with db.transaction() as session:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == account))
        row = session.get(LoginThrottle, address, with_for_update=True)
        if row is not None:
            row.failures = max(row.failures - 1, 0)
