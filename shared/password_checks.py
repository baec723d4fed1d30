"""Password checks that cannot crowd out everyone else. An argon2 check is slow on purpose
(here about a quarter of a second of every core), so a web process checks at most
``slots`` passwords at once and turns a login away at once (the caller answers 429 with
Retry-After: 1) rather than letting it wait for a turn while holding a worker thread; and
it checks them in threads of lower CPU priority (argon2's own threads inherit it), so a
logged-in request that needs the CPU gets it first."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress

from shared.auth import verify_password

NICENESS = 19  # the lowest: any request that needs the CPU goes first


def _lower_priority(niceness: int) -> None:
    """Lower this thread's CPU priority (Linux: niceness is per thread; elsewhere the
    checks run at normal priority)."""
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


class PasswordChecks:
    """One process's password checks: at most ``slots`` at once, at lower priority. The
    threads start with the first check (after gunicorn has forked its workers)."""

    def __init__(self, slots: int = 1, niceness: int = NICENESS) -> None:
        self._free = threading.BoundedSemaphore(slots)
        self._slots = slots
        self._niceness = niceness
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[bool]:
        """Whether a check may run now (the turn is held inside the block); never waits."""
        got = self._free.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                self._free.release()

    def verify(self, password_hash: str | None, password: str) -> bool:
        """:func:`shared.auth.verify_password` in a thread of lower priority (call it
        inside a :meth:`turn`)."""
        return self._executor().submit(verify_password, password_hash, password).result()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._slots,
                    thread_name_prefix="password-check",
                    initializer=_lower_priority,
                    initargs=(self._niceness,),
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
