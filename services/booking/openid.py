"""The university's OpenID provider, through Authlib (no JWT code of our own): discovery,
the authorization request (code flow with PKCE S256, ``state`` and ``nonce``), the code
exchanged for tokens, the ID token's signature checked against the provider's keys and its
issuer, audience, expiry and nonce, and userinfo. The keys are fetched again for a key id
not seen before (the provider rotated) and at least every five minutes (a key it removed
stops being trusted). Every call to the provider has a timeout."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import (
    BaseApp,
    FrameworkIntegration,
    OAuth2Mixin,
    OAuthError,
    OpenIDMixin,
)
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import ExpiredTokenError, JoseError

from services.booking.commands import SignIn
from shared.config import Config
from shared.messages import Msg

log = logging.getLogger(__name__)

SCOPES = "openid email profile groups"
JWKS_MAX_AGE = 300.0  # seconds a fetched key set is trusted without asking again
METADATA_MAX_AGE = 3600.0
LEEWAY = 120  # seconds of clock skew allowed on exp, iat, nbf


class ProviderError(Exception):
    """The provider's answer cannot log anyone in; ``message`` says why to the visitor,
    ``status`` is the page's status."""

    def __init__(self, message: Msg, status: int = 400, reason: str = "") -> None:
        super().__init__(reason or message.code)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what its return must match."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class _Client(OAuth2Mixin, OpenIDMixin, BaseApp):
    """Authlib's OpenID client with bounded caches of the discovery document and the keys."""

    client_cls = OAuth2Session

    def __init__(self, issuer: str, **kwargs: Any) -> None:
        super().__init__(FrameworkIntegration("university"), name="university", **kwargs)
        self.issuer = issuer
        self._keys_fetched_at = float("-inf")

    def load_server_metadata(self) -> dict[str, Any]:
        loaded_at = self.server_metadata.get("_loaded_at")
        if loaded_at is not None and time.time() - loaded_at > METADATA_MAX_AGE:
            self.server_metadata.pop("_loaded_at")
        metadata = super().load_server_metadata()
        if metadata.get("issuer") != self.issuer:
            self.server_metadata.pop("_loaded_at", None)  # ask again next time
            raise ProviderError(
                Msg("sso_unreachable"),
                502,
                f"discovery names issuer {metadata.get('issuer')!r}, not {self.issuer!r}",
            )
        return metadata

    def fetch_jwk_set(self, force: bool = False) -> dict[str, Any]:
        force = force or time.monotonic() - self._keys_fetched_at > JWKS_MAX_AGE
        started = time.monotonic()
        keys = super().fetch_jwk_set(force=force)
        if force:
            self._keys_fetched_at = started
        return keys


class UniversityProvider:
    """Single sign-on with the provider ``EVENEMANG_OIDC_*`` names. Built by the app
    factory; nothing is fetched until the first login."""

    def __init__(self, config: Config) -> None:
        issuer = config.oidc_issuer.rstrip("/")
        self.issuer = issuer
        self.groups_claim = config.oidc_groups_claim
        self.trust_email = config.oidc_trust_email
        self.redirect_uri = config.base_url.rstrip("/") + "/login/oidc/callback"
        self._client = _Client(
            issuer,
            client_id=config.oidc_client_id,
            client_secret=config.oidc_client_secret,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": SCOPES,
                "code_challenge_method": "S256",
                "default_timeout": config.oidc_timeout,
            },
        )

    def authorization(self) -> Authorization:
        """A fresh authorization request: its state, nonce and PKCE verifier, and the URL."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        with _answers():
            made = self._client.create_authorization_url(
                self.redirect_uri, state=state, nonce=nonce, code_verifier=verifier
            )
        return Authorization(made["url"], state, nonce, verifier)

    def check_response(self, args: Mapping[str, str]) -> str:
        """The code from the provider's redirect back; a provider error (the person
        cancelled, was refused) or an answer from another issuer raises."""
        issuer = args.get("iss")
        if issuer is not None and issuer != self.issuer:  # RFC 9207: not the one we asked
            raise ProviderError(Msg("sso_token_invalid"), 400, f"iss={issuer!r}")
        error = args.get("error")
        if error:
            raise ProviderError(
                Msg("sso_provider_said", error=error[:100]), 403, f"error={error!r}"
            )
        code = args.get("code")
        if not code:
            raise ProviderError(Msg("sso_token_invalid"), 400, "no code")
        return code

    def identity(self, code: str, code_verifier: str, nonce: str) -> SignIn:
        """Exchange the code (with the PKCE verifier) for tokens, verify the ID token, read
        userinfo, and say who the person is."""
        with _answers():
            token = self._client.fetch_access_token(
                self.redirect_uri, code=code, code_verifier=code_verifier
            )
            if "id_token" not in token:
                raise ProviderError(Msg("sso_token_invalid"), 400, "no id_token")
            claims = dict(
                self._client.parse_id_token(
                    token,
                    nonce=nonce,
                    claims_options={
                        "iss": {"essential": True, "value": self.issuer},
                        "aud": {"essential": True, "value": self._client.client_id},
                        "sub": {"essential": True},
                    },
                    leeway=LEEWAY,
                )
            )
            if self._client.load_server_metadata().get("userinfo_endpoint"):
                claims = {**self._userinfo(token, claims["sub"]), **claims}
        return self.person(claims)

    def _userinfo(self, token: dict[str, Any], subject: str) -> dict[str, Any]:
        info = dict(self._client.userinfo(token=token))
        if info.get("sub") != subject:  # OpenID Connect Core 5.3.2
            raise ProviderError(Msg("sso_token_invalid"), 400, "userinfo for another sub")
        return info

    def person(self, claims: Mapping[str, Any]) -> SignIn:
        """Who the claims name: address (lower-case), whether the provider confirms it (or
        is trusted to), a display name, and the groups claim's names."""
        email = claims.get("email")
        email = email.strip().lower() if isinstance(email, str) else ""
        verified = claims.get("email_verified") in (True, "true")
        return SignIn(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            email=email,
            email_verified=bool(email) and (verified or self.trust_email),
            name=_display_name(claims, email),
            groups=_names(claims.get(self.groups_claim)),
        )


def _display_name(claims: Mapping[str, Any], email: str) -> str:
    parts = [claims.get("given_name"), claims.get("family_name")]
    for candidate in (
        claims.get("name"),
        " ".join(p for p in parts if isinstance(p, str) and p.strip()),
        claims.get("preferred_username"),
        email.partition("@")[0],
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:200]
    return ""


def _names(value: Any) -> tuple[str, ...]:
    """A groups claim as names: a list of strings (others ignored), or a single string."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return ()
    return tuple(sorted({v for v in value if isinstance(v, str) and v}))


@contextmanager
def _answers() -> Iterator[None]:
    """Turn what can go wrong talking to the provider into a :class:`ProviderError`."""
    try:
        yield
    except ProviderError:
        raise
    except ExpiredTokenError as error:
        raise ProviderError(Msg("sso_token_expired"), 400, str(error)) from error
    except JoseError as error:
        raise ProviderError(Msg("sso_token_invalid"), 400, repr(error)) from error
    except OAuthError as error:
        reason = f"{error.error}: {error.description}"
        raise ProviderError(Msg("sso_code_refused"), 400, reason) from error
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as error:
        raise ProviderError(Msg("sso_unreachable"), 502, repr(error)) from error
