"""Who holds a claim, so a claim whose holder died comes back at once instead of when its
lease ends, and a live holder's claim is never taken.

A claim token (32 hex characters, as wide as the outbox's ``claim_token``) names its
holder: ``place`` (8: a hash of the host's boot id, its name and the pid namespace, so a
reboot or another container is another place), the holder's pid (6) and the process's
start time in clock ticks since boot (10), then a counter of the process's claims (8). A
worker on the same place can tell for sure that such a holder is gone: no process with
that pid, or one started at another time (the pid reused), or a zombie. A holder in
another place, or a token of another shape (an older worker's uuid), is never judged:
its claim ends with its lease, as before."""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
from collections.abc import Iterable
from functools import cache

_PLACE, _PID, _START, _SERIAL = 8, 6, 10, 8
TOKEN_LENGTH = _PLACE + _PID + _START + _SERIAL
_serial = itertools.count(1)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, int] | None:
    """``(state, start time in ticks)`` of process ``pid`` or None when there is none."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (command) "
    return fields[0], int(fields[19])


@cache
def place() -> str:
    """This host's boot, name and pid namespace as 8 hex characters; "" where processes
    cannot be looked at (no /proc): claims then end with their lease only."""
    boot = _read("/proc/sys/kernel/random/boot_id").strip()
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    if not boot or not namespace:
        return ""
    seed = f"{boot}|{socket.gethostname()}|{namespace}".encode()
    return hashlib.sha256(seed).hexdigest()[:_PLACE]


@cache
def _holder(pid: int) -> str | None:
    """What a token of process ``pid`` (this one; a fork is another) starts with."""
    here = place()
    found = _stat(pid) if here else None
    if found is None:
        return None
    return f"{here}{pid:0{_PID}x}{found[1] % 16**_START:0{_START}x}"


def token() -> str:
    """A new claim token naming this process as its holder."""
    holder = _holder(os.getpid())
    serial = next(_serial) % 16**_SERIAL
    if holder is None:  # nowhere to be judged from: a token no one reads as a holder
        return os.urandom(TOKEN_LENGTH // 2).hex()[: TOKEN_LENGTH - _SERIAL] + f"{serial:08x}"
    return f"{holder}{serial:0{_SERIAL}x}"


def prefix() -> str | None:
    """What every token of this place starts with (for a ``LIKE 'prefix%'``), or None."""
    return place() or None


def gone(claim: str | None) -> bool:
    """True only when ``claim``'s holder is a process of this place that no longer runs."""
    here = place()
    if not here or not claim or len(claim) != TOKEN_LENGTH or not claim.startswith(here):
        return False
    try:
        pid = int(claim[_PLACE : _PLACE + _PID], 16)
        start = int(claim[_PLACE + _PID : _PLACE + _PID + _START], 16)
    except ValueError:
        return False
    found = _stat(pid)
    return found is None or found[0] in ("Z", "X") or found[1] % 16**_START != start


def dead(claims: Iterable[str | None]) -> list[str]:
    """The claims among ``claims`` whose holders are gone."""
    return sorted({claim for claim in claims if claim and gone(claim)})
