"""The access logs show no secret an address carries (a private feed's token, a decision or
password link, single sign-on's code and state): a real gunicorn with deploy/'s settings
serving booking, behind a real nginx with deploy/'s configuration (its upstreams pointed at
that gunicorn), both logging the same requests."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.environment import need
from tests.support.processes import ROOT, process_env, running
from tests.support.suite import free_port, http_status

pytestmark = pytest.mark.slow

SECRETS = ("feedtokenSECRET1", "decideSECRET2", "resetSECRET3", "codeSECRET4", "stateSECRET5")
PATHS = (
    f"/calendar/feeds/private/{SECRETS[0]}.ics",
    f"/decide/{SECRETS[1]}",
    f"/password/reset/{SECRETS[2]}",
    f"/login/oidc/callback?code={SECRETS[3]}&state={SECRETS[4]}",
)
MASKED = (
    "/calendar/feeds/private/***.ics",
    "/decide/***",
    "/password/reset/***",
    "/login/oidc/callback?***",
)


def _gunicorn(config, port: int, log: Path) -> subprocess.Popen:
    env = process_env(config, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1")
    with open(log, "ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
            + ["services.booking:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def _nginx_conf(directory: Path, port: int, backend: int) -> Path:
    """deploy/nginx.conf on loopback: upstreams at ``backend``, logs into ``directory``
    (this nginx has no upstream ``resolve``, and needs no resolver)."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    text = re.sub(r"server [\w-]+:8000 resolve;", f"server 127.0.0.1:{backend};", text)
    text = re.sub(r"\n\s*resolver [^\n]*", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    text = text.replace("/dev/stdout", str(directory / "access.log"))
    text = text.replace("/dev/stderr", str(directory / "error.log"))
    text = text.replace("worker_processes auto;", "worker_processes 1;")
    conf = directory / "nginx.conf"
    conf.write_text(text)
    return conf


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while http_status(url) != 200:
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


def test_neither_access_log_shows_the_secrets_addresses_carry(config, tmp_path):
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    need(nginx is not None, "nginx is not installed", "apt-get install nginx")
    backend, front = free_port(), free_port()
    web_log = tmp_path / "gunicorn.log"
    conf = _nginx_conf(tmp_path, front, backend)
    pid = ["-g", f"pid {tmp_path / 'nginx.pid'};"]
    with running(_gunicorn(config, backend, web_log)):
        _wait_up(f"http://127.0.0.1:{backend}/healthz")
        proxy = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-c", str(conf), *pid, "-g", "daemon off;"],
            stderr=subprocess.DEVNULL,  # its errors go to error.log
        )
        with running(proxy):
            _wait_up(f"http://127.0.0.1:{front}/healthz")
            for path in PATHS:
                assert _get(f"http://127.0.0.1:{front}{path}") < 500, path
            time.sleep(0.5)  # the access log lines are written after the answers
    logs = {"gunicorn": web_log.read_text(), "nginx": (tmp_path / "access.log").read_text()}
    for name, text in logs.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret} in {name}'s access log"
    for masked in MASKED:
        assert masked in logs["nginx"], masked
    # gunicorn sees the calendar's path without the prefix nginx strips
    for masked in ("/feeds/private/***.ics", *MASKED[1:]):
        assert masked.replace("?***", "?code=***&state=***") in logs["gunicorn"], masked
