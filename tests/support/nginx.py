"""Debian's nginx on loopback with deploy/'s configuration: its upstreams pointed at local
ports, the feed directory at a local one, logs and temporary files in a directory of the
test's (this nginx has no upstream ``resolve``, and needs no resolver)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from shared.config import Config
from tests.support.processes import ROOT, process_env, running
from tests.support.suite import free_port, http_status

DEPLOYED_FEED_DIR = "/var/lib/evenemang-feeds"


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def nginx_conf(
    directory: Path,
    port: int,
    backends: int | Mapping[str, int],
    feed_dir: Path | None = None,
    workers: int = 1,
    extra: str = "",
) -> Path:
    """deploy/nginx.conf on loopback at ``port``: each upstream (booking, calendar, notify)
    at its port in ``backends`` (one port: all of them), the feeds under ``feed_dir``, logs
    into ``directory``; ``extra``: locations added to its server."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()

    def upstream(match: re.Match) -> str:
        name = match.group(1)
        backend = backends if isinstance(backends, int) else backends[name]
        return f"server 127.0.0.1:{backend};"

    text = re.sub(r"server ([\w]+)-web:8000 resolve;", upstream, text)
    text = re.sub(r"\n\s*resolver [^\n]*", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    text = text.replace("/dev/stdout", str(directory / "access.log"))
    text = text.replace("/dev/stderr", str(directory / "error.log"))
    text = text.replace("worker_processes auto;", f"worker_processes {workers};")
    if feed_dir is not None:
        text = text.replace(DEPLOYED_FEED_DIR, str(feed_dir))
    if extra:
        text = text.replace(
            "        location = /calendar {", extra + "\n        location = /calendar {"
        )
    if os.geteuid() == 0:  # workers would be "nobody", kept out of the test's private tmp
        text = "user root;\n" + text
    conf = directory / "nginx.conf"
    conf.write_text(text)
    return conf


@contextmanager
def nginx_running(
    directory: Path,
    backends: int | Mapping[str, int],
    feed_dir: Path | None = None,
    port: int | None = None,
    workers: int = 1,
    ready_path: str = "/healthz",
    extra: str = "",
) -> Iterator[int]:
    """Run nginx with :func:`nginx_conf` until the block ends; yields its port once
    ``ready_path`` answers 200 through it."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    port = port or free_port()
    conf = nginx_conf(directory, port, backends, feed_dir, workers, extra)
    pid = ["-g", f"pid {directory / 'nginx.pid'};"]
    proxy = subprocess.Popen(
        [binary, "-p", str(directory), "-c", str(conf), *pid, "-g", "daemon off;"],
        stderr=subprocess.DEVNULL,  # its errors go to error.log
    )
    with running(proxy):
        wait_up(f"http://127.0.0.1:{port}{ready_path}")
        yield port


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while http_status(url) != 200:
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


def gunicorn(config: Config, app: str, port: int, log: Path, workers: int = 1) -> subprocess.Popen:
    """A service's app (``"services.booking:create_app()"``) under deploy/'s gunicorn
    settings on loopback ``port``, logging to ``log``."""
    env = process_env(config, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY=str(workers))
    with open(log, "ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", app],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
