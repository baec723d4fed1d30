"""The access logs show no secret an address carries (a private feed's token, a decision or
password link, single sign-on's code and state): a real gunicorn with deploy/'s settings
serving booking, behind a real nginx with deploy/'s configuration (its upstreams pointed at
that gunicorn), both logging the same requests."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from tests.support.environment import need
from tests.support.nginx import gunicorn, nginx_binary, nginx_running, wait_up
from tests.support.processes import running
from tests.support.suite import free_port

pytestmark = pytest.mark.slow

SECRETS = (
    "feedtokenSECRET1", "decideSECRET2", "resetSECRET3", "codeSECRET4", "stateSECRET5",
    "assignmentsSECRET6",
)  # fmt: skip
PATHS = (
    f"/calendar/feeds/private/{SECRETS[0]}.ics",
    f"/calendar/feeds/assignments/{SECRETS[5]}.ics",
    f"/decide/{SECRETS[1]}",
    f"/password/reset/{SECRETS[2]}",
    f"/login/oidc/callback?code={SECRETS[3]}&state={SECRETS[4]}",
)
MASKED = (
    "/calendar/feeds/private/***.ics",
    "/calendar/feeds/assignments/***.ics",
    "/decide/***",
    "/password/reset/***",
    "/login/oidc/callback?***",
)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_neither_access_log_shows_the_secrets_addresses_carry(config, tmp_path):
    need(nginx_binary() is not None, "nginx is not installed", "apt-get install nginx")
    backend = free_port()
    web_log = tmp_path / "gunicorn.log"
    with running(gunicorn(config, "services.booking:create_app()", backend, web_log)):
        wait_up(f"http://127.0.0.1:{backend}/healthz")
        with nginx_running(tmp_path, backend) as front:
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
    for masked in MASKED:
        seen = masked.replace("/calendar/feeds/", "/feeds/").replace("?***", "?code=***&state=***")
        assert seen in logs["gunicorn"], masked
