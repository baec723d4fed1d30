"""A real OpenID provider on loopback for the single sign-on tests: the certified
``oidc-provider`` from npm, run by ``tests/support/oidc/provider.mjs`` (installed there with
``npm ci``; .ci/run does it), and a person's way through its pages (login, consent) as a
browser goes, with ``requests``.

The provider's test controls (bearer admin token): change an account's claims, rotate its
signing keys (a new key signs, the old one stays published) and retire the old ones (no
longer published), and alter the next ID token it hands out (claims, or the key that signs
it) to play a forged or broken answer through the real token endpoint."""

from __future__ import annotations

import contextlib
import json
import secrets
import select
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from tests.support.environment import need
from tests.support.processes import ROOT

NODE_DIR = ROOT / "tests" / "support" / "oidc"
CLIENT_ID = "evenemang"
CLIENT_SECRET = "evenemang-test-secret"  # noqa: S105 - a test provider's client
TIMEOUT = 10


def require_node_provider() -> str:
    """The node binary, with oidc-provider installed beside the script; else skip with how
    to get it (and fail in CI, where .ci/run installs it)."""
    node = shutil.which("node")
    need(node is not None, "node is not installed", "apt-get install -y nodejs (20 or newer)")
    need(
        (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").exists(),
        f"oidc-provider is not installed in {NODE_DIR.relative_to(ROOT)}/node_modules",
        f"run `npm ci` in {NODE_DIR.relative_to(ROOT)} (.ci/run does)",
    )
    return node  # type: ignore[return-value]


@dataclass
class Account:
    password: str
    claims: dict[str, Any] = field(default_factory=dict)


class OpenIdProvider:
    """One running provider: its issuer, and its test controls."""

    def __init__(self, proc: subprocess.Popen, issuer: str, admin_token: str, log: Path):
        self.proc = proc
        self.issuer = issuer
        self.log = log
        self._admin = {"Authorization": f"Bearer {admin_token}"}

    def _control(self, method: str, name: str, body: Mapping[str, Any] | None = None) -> dict:
        answer = requests.request(
            method, f"{self.issuer}/__test__/{name}", json=body, headers=self._admin, timeout=5
        )
        answer.raise_for_status()
        return answer.json()

    def set_account(self, account_id: str, password: str, **claims: Any) -> None:
        """Create or replace an account (its claims: email, email_verified, name, groups)."""
        self._control("PUT", "accounts", {"id": account_id, "password": password, "claims": claims})

    def rotate_keys(self) -> dict:
        """A new key signs from now on; the old one is still published."""
        return self._control("POST", "rotate")

    def retire_old_keys(self) -> dict:
        """Only the newest key is published; the others are gone from the JWKS."""
        return self._control("POST", "retire")

    def keys(self) -> dict:
        return self._control("GET", "keys")

    def alter_next_id_token(
        self, *, key: str = "current", drop: tuple[str, ...] = (), **claims: Any
    ) -> None:
        """The next ID token from the token endpoint gets these claims (``drop`` removes
        some) and is signed by ``key``: ``current`` (a good signature over the changed
        claims), ``retired``, ``stranger`` (an unpublished key under the current kid) or
        ``none`` (unsigned)."""
        self._control("POST", "tamper", {"claims": claims, "drop": list(drop), "key": key})

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def openid_provider(
    log_dir: Path,
    redirect_uris: list[str],
    accounts: Mapping[str, Account] | None = None,
    *,
    id_token_claims: bool = False,
) -> Iterator[OpenIdProvider]:
    """Start the provider on a free loopback port with one confidential client
    (``CLIENT_ID``/``CLIENT_SECRET``) allowed to return to ``redirect_uris``; stop it after.
    ``id_token_claims``: the person's claims in the ID token too (else only in userinfo,
    as the provider does by default for the code flow)."""
    node = require_node_provider()
    admin_token = secrets.token_urlsafe(16)
    settings = {
        "port": 0,
        "admin_token": admin_token,
        "id_token_claims": id_token_claims,
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
        ],
        "accounts": {
            name: {"password": a.password, "claims": a.claims}
            for name, a in (accounts or {}).items()
        },
    }
    config_file = log_dir / "oidc-provider.json"
    config_file.write_text(json.dumps(settings))
    log = log_dir / "oidc-provider.log"
    with open(log, "ab") as stderr:
        proc = subprocess.Popen(
            [node, str(NODE_DIR / "provider.mjs"), str(config_file)],
            cwd=NODE_DIR,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline() if ready else b""  # type: ignore[union-attr]
        if not line:
            proc.kill()
            raise AssertionError("the OpenID provider did not start:\n" + log.read_text()[-3000:])
        yield OpenIdProvider(proc, json.loads(line)["issuer"], admin_token, log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()


class ProviderVisit:
    """A person at the provider's pages with their own cookies (``requests``), as a browser:
    follows redirects on the provider, signs in and answers the consent page, and stops at
    the redirect back to Evenemang."""

    def __init__(self, provider: OpenIdProvider) -> None:
        self.provider = provider
        self.http = requests.Session()

    def authorize(
        self,
        authorization_url: str,
        login: str | None = None,
        password: str | None = None,
        *,
        consent: bool = True,
    ) -> str:
        """From the authorization URL to the address the provider sends the browser back
        to (with ``code`` and ``state``, or ``error``)."""
        answer = self.http.get(authorization_url, allow_redirects=False, timeout=TIMEOUT)
        for _ in range(12):
            if answer.is_redirect:
                target = urljoin(answer.url, answer.headers["Location"])
                if not target.startswith(self.provider.issuer):
                    return target
                answer = self.http.get(target, allow_redirects=False, timeout=TIMEOUT)
                continue
            assert answer.status_code == 200, (
                f"{answer.status_code} at {answer.url}:\n{answer.text}"
            )
            interaction = urlsplit(answer.url).path
            if 'name="password"' in answer.text:
                assert login is not None, "the provider asks for a login"
                answer = self.http.post(
                    f"{self.provider.issuer}{interaction}/login",
                    data={"login": login, "password": password},
                    allow_redirects=False,
                    timeout=TIMEOUT,
                )
            else:
                step = "consent" if consent else "abort"
                answer = self.http.post(
                    f"{self.provider.issuer}{interaction}/{step}",
                    allow_redirects=False,
                    timeout=TIMEOUT,
                )
        raise AssertionError(f"never sent back from the provider; last at {answer.url}")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
