"""Rendered feeds kept as files where the reverse proxy serves them: each feed and its gzip,
written once per change and atomically (a temporary file, fsync, rename), so a reader sees
the old file or the new one, never a part.

The layout, one directory per language (deploy/nginx.conf maps ``?lang=`` to it)::

    <dir>/<language>/public.ics[.gz]
    <dir>/<language>/resources/<slug>.ics[.gz]
    <dir>/<language>/private/<name>.ics[.gz]   name: HMAC of the token's hash (no token)

A file's modification time is its Last-Modified; its ETag is nginx's, ``"<mtime>-<size>"``
in hex, so the gzip and the plain file carry different ETags. A changed feed's time never
moves back, and on by a second when its size stayed, so a change never keeps an ETag."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shared.messages import LANGUAGES

SUFFIX = ".ics"
GZIP = ".gz"


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One stored feed as served: the path, its size and time, and its ETag."""

    path: Path
    size: int
    mtime: int  # whole seconds since the epoch

    @classmethod
    def at(cls, path: Path) -> FeedFile | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return cls(path, stat.st_size, int(stat.st_mtime))

    @property
    def etag(self) -> str:
        """nginx's ETag for the same file (``etag on``)."""
        return f'"{self.mtime:x}-{self.size:x}"'

    @property
    def last_modified(self) -> datetime:
        return datetime.fromtimestamp(self.mtime, UTC)


class FeedFiles:
    """The feed directory. ``secret``: the key of the private feeds' file names."""

    def __init__(self, root: Path, secret: str) -> None:
        self.root = Path(root)
        self._key = secret.encode()

    # --- names ----------------------------------------------------------------------------

    def public(self, language: str) -> Path:
        return self.root / language / f"public{SUFFIX}"

    def resource(self, slug: str, language: str) -> Path:
        return self.root / language / "resources" / f"{slug}{SUFFIX}"

    def private(self, token_hash: str, language: str) -> Path:
        """A private feed's file, named by a keyed hash of the token's stored hash: the name
        opens nothing, and neither the database nor the directory alone gives the other."""
        name = hmac.new(self._key, token_hash.encode(), hashlib.sha256).hexdigest()
        return self.root / language / "private" / f"{name}{SUFFIX}"

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # --- writing --------------------------------------------------------------------------

    def write(self, path: Path, body: bytes, modified: datetime) -> bool:
        """Store ``body`` and its gzip at ``path`` unless it already holds exactly this;
        True when it was written. ``modified`` becomes its Last-Modified; never before the
        old file's, and a second after it for new bytes of the same size (a new ETag)."""
        old = FeedFile.at(path)
        if old is not None and old.size == len(body) and path.read_bytes() == body:
            return False
        when = int(modified.timestamp())
        if old is not None:  # never backwards; new bytes of the same size a second later
            when = max(when, old.mtime + (old.size == len(body)))
        self._directory(path.parent)
        zipped = gzip.compress(body, compresslevel=6, mtime=0)
        _replace(path.with_name(path.name + GZIP), zipped, when)
        _replace(path, body, when)
        return True

    def _directory(self, folder: Path) -> None:
        """Make ``folder`` and those between it and the root, open to the proxy (which may
        run as another user) whatever the umask: ``private`` may be passed, not listed."""
        if folder.is_dir():
            return
        if folder == self.root:
            folder.mkdir(parents=True, exist_ok=True)
        else:
            self._directory(folder.parent)
            folder.mkdir(exist_ok=True)
        folder.chmod(0o711 if folder.name == "private" else 0o755)

    def remove(self, path: Path) -> None:
        for one in (path, path.with_name(path.name + GZIP)):
            one.unlink(missing_ok=True)

    def remove_private(self, token_hash: str) -> None:
        """A revoked token's feed is gone from every language."""
        for language in LANGUAGES:
            self.remove(self.private(token_hash, language))

    def sweep(self, folder: str, keep: set[Path]) -> None:
        """Remove the feeds under ``<language>/<folder>`` not in ``keep`` (revoked tokens,
        former slugs), so the proxy asks calendar about them."""
        for language in LANGUAGES:
            for path in (self.root / language / folder).glob(f"*{SUFFIX}"):
                if path not in keep:
                    self.remove(path)


def _replace(path: Path, data: bytes, mtime: int) -> None:
    fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # read by the proxy, which may run as another user
        os.utime(temporary, (mtime, mtime))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
