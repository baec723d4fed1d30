"""Password checks that cannot crowd out everyone else. An argon2 check is slow on purpose
(here about a fifth of a second of CPU, and 64 MiB swept through the caches), so the web
processes that share a data directory check one password at a time (a lock file there;
each process alone when the directory cannot be written) and turn a login away at once
when the turn is taken (the caller answers 429 with Retry-After: 1) rather than letting it
wait for a turn while holding a worker thread; and the check runs in a thread of the
lowest CPU priority (argon2's own threads inherit it), so a logged-in request that needs
the CPU gets it first."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

from shared.auth import verify_password

LOCK_FILE = "password-check.lock"
NICENESS = 19  # the lowest: any request that needs the CPU goes first


def _lower_priority(niceness: int) -> None:
    """Lower this thread's CPU priority (Linux: niceness is per thread; elsewhere the
    checks run at normal priority)."""
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


class PasswordChecks:
    """Password checks at most ``slots`` at once in this process, and one at a time among
    the processes that share ``lock_dir`` (when given), at the lowest priority. The file
    and the threads are opened with the first check (after gunicorn forked its workers)."""

    def __init__(
        self, slots: int = 1, lock_dir: Path | None = None, niceness: int = NICENESS
    ) -> None:
        self._free = threading.BoundedSemaphore(slots)
        self._slots = slots
        self._niceness = niceness
        self._lock_path = Path(lock_dir) / LOCK_FILE if lock_dir is not None else None
        self._lock_fd: int | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[bool]:
        """Whether a check may run now (the turn is held inside the block); never waits."""
        got = self._free.acquire(blocking=False)
        shared = got and self._take_shared_turn()
        try:
            yield shared
        finally:
            if shared and self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            if got:
                self._free.release()

    def _take_shared_turn(self) -> bool:
        """The other processes' consent: the lock file, unless it cannot be had at all."""
        fd = self._lock_file()
        if fd is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock_file(self) -> int | None:
        with self._lock:
            if self._lock_fd is None and self._lock_path is not None:
                try:
                    self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                except OSError:
                    self._lock_path = None  # a read-only directory: this process alone
            return self._lock_fd

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
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
