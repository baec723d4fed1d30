"""Files of the data directory kept to their owner: the databases, the embedded bus, the
secret key and the mail sink hold people's bookings, addresses and mail, so what Evenemang
creates there is 0600 (directories 0700), whoever else may log in to the machine."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_UMASK = 0o077  # files 0600, directories 0700, whatever creates them


def private_dir(path: Path | str) -> Path:
    """The directory, created 0700 when missing (with its missing parents); an existing one
    keeps its mode: it is the operator's."""
    path = Path(path)
    if not path.is_dir():
        for parent in reversed(path.parents):
            if not parent.exists():
                parent.mkdir(mode=0o700, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
    return path


def private_file(path: Path | str) -> Path:
    """The file, created empty and 0600 when missing (its directory 0700 when missing), so
    that what opens it next (SQLite) never makes it readable by others; an existing file
    keeps its mode."""
    path = Path(path)
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


def keep_private() -> None:
    """Everything this process and its children create is its owner's alone (SQLite's WAL
    and shared-memory files, logs, what a library writes): for the ``evenemang`` command."""
    os.umask(PRIVATE_UMASK)
