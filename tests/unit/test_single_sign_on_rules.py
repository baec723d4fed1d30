"""Single sign-on's rules without a provider: who a person is (matched, linked, created or
refused), the role their groups give, what the claims say, and the configuration."""

from __future__ import annotations

import pytest

from services.booking.domain.identity import (
    GroupRules,
    KnownUser,
    Match,
    SignInRefused,
    match_sign_in,
    role_at_sign_in,
)
from services.booking.openid import UniversityProvider
from shared.config import Config, ConfigError, comma_list, comma_pairs
from shared.events import Role

ROLES = GroupRules(infra=frozenset({"grp-infra"}), admin=frozenset({"grp-admin", "it-admins"}))
ACTIVE = KnownUser("ann@uni.example", active=True, linked=False)
LINKED = KnownUser("ann@uni.example", active=True, linked=True)
GONE = KnownUser("ann@uni.example", active=False, linked=True)
IDLE = KnownUser("ann@uni.example", active=False, linked=False)


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        ((), Role.ORGANISER),
        (("staff",), Role.ORGANISER),
        (("grp-infra",), Role.INFRA),
        (("it-admins",), Role.ADMIN),
        (("grp-infra", "grp-admin"), Role.ADMIN),  # admin wins over infra
    ],
)
def test_groups_give_the_highest_role_they_name(groups, role):
    assert role_at_sign_in(Role.INFRA, groups, ROLES) is role
    assert role_at_sign_in(None, groups, ROLES) is role


def test_without_group_roles_configured_the_role_stays_as_evenemang_has_it():
    assert role_at_sign_in(Role.ADMIN, (), GroupRules()) is Role.ADMIN
    assert role_at_sign_in(Role.INFRA, ("grp-admin",), GroupRules()) is Role.INFRA
    assert role_at_sign_in(None, ("grp-admin",), GroupRules()) is Role.ORGANISER


def test_teams_that_follow_groups_take_whoever_is_in_one_of_theirs():
    rules = GroupRules(
        teams={"komm": frozenset({"grp-komm", "grp-photo"}), "infra": frozenset({"x"})}
    )
    assert rules.teams_for(("grp-photo", "staff")) == {"komm": True, "infra": False}
    assert rules.teams_for(()) == {"komm": False, "infra": False}
    assert GroupRules().teams_for(("grp-komm",)) == {}


@pytest.mark.parametrize(
    ("email", "verified", "by_subject", "by_email", "outcome"),
    [
        ("ann@uni.example", True, ACTIVE, None, Match.SUBJECT),
        # matched by sub even when the address is not confirmed, or another user's
        ("ann@uni.example", False, LINKED, ACTIVE, Match.SUBJECT),
        ("ann@uni.example", True, None, ACTIVE, Match.LINK),
        ("ann@uni.example", True, None, None, Match.CREATE),
        ("ann@uni.example", False, None, ACTIVE, "sso_email_unverified"),
        ("ann@uni.example", False, None, None, "sso_email_unverified"),
        ("", True, None, None, "sso_no_email"),
        ("åsa@uni.example", True, None, None, "sso_email_not_ascii"),  # mail could not reach it
        ("ann@uni.example", True, None, LINKED, "sso_linked_elsewhere"),
        ("ann@uni.example", True, GONE, None, "user_deactivated"),
        ("ann@uni.example", True, None, IDLE, "user_deactivated"),
    ],
)  # fmt: skip
def test_who_a_sign_in_is(email, verified, by_subject, by_email, outcome):
    if isinstance(outcome, Match):
        assert match_sign_in(email, verified, by_subject, by_email) is outcome
        return
    with pytest.raises(SignInRefused) as refused:
        match_sign_in(email, verified, by_subject, by_email)
    assert refused.value.message.code == outcome


def _provider(**settings) -> UniversityProvider:
    return UniversityProvider(
        Config(
            oidc_issuer="https://login.uni.example/",
            oidc_client_id="evenemang",
            oidc_client_secret="secret",
            **settings,
        )
    )


def test_the_claims_name_the_person():
    person = _provider().person(
        {
            "sub": "u-1",
            "email": " Ann.Andersson@Uni.Example ",
            "email_verified": True,
            "given_name": "Ann",
            "family_name": "Andersson",
            "groups": ["grp-infra", 7, "", "grp-infra", "staff"],
        }
    )
    assert person.issuer == "https://login.uni.example"
    assert person.subject == "u-1"
    assert person.email == "ann.andersson@uni.example"
    assert person.email_verified is True
    assert person.name == "Ann Andersson"
    assert person.groups == ("grp-infra", "staff")


@pytest.mark.parametrize(
    ("claims", "verified"),
    [
        ({"email": "a@uni.example"}, False),
        ({"email": "a@uni.example", "email_verified": False}, False),
        ({"email": "a@uni.example", "email_verified": "true"}, True),  # some send a string
        ({"email_verified": True}, False),  # nothing to confirm
    ],
)
def test_an_address_counts_as_confirmed_only_when_the_provider_says_so(claims, verified):
    assert _provider().person({"sub": "u", **claims}).email_verified is verified


def test_an_operator_may_trust_every_address_a_provider_gives():
    trusting = _provider(oidc_trust_email=True)
    assert trusting.person({"sub": "u", "email": "a@uni.example"}).email_verified is True
    assert trusting.person({"sub": "u"}).email_verified is False


def test_the_groups_claim_is_configurable_and_may_be_one_name():
    provider = _provider(oidc_groups_claim="roles")
    assert provider.person({"sub": "u", "roles": "grp-admin"}).groups == ("grp-admin",)
    assert provider.person({"sub": "u", "groups": ["grp-admin"]}).groups == ()
    assert provider.person({"sub": "u", "roles": {"grp-admin": True}}).groups == ()


@pytest.mark.parametrize(
    ("claims", "name"),
    [
        ({"name": "Ann A", "given_name": "X"}, "Ann A"),
        ({"given_name": "Ann"}, "Ann"),
        ({"preferred_username": "ann"}, "ann"),
        ({"email": "ann.a@uni.example"}, "ann.a"),
    ],
)
def test_a_name_from_what_the_claims_offer(claims, name):
    assert _provider().person({"sub": "u", **claims}).name == name


def test_the_redirect_uri_follows_the_base_url():
    provider = UniversityProvider(
        Config(
            base_url="https://evenemang.uni.example/",
            oidc_issuer="https://login.uni.example",
            oidc_client_id="e",
            oidc_client_secret="s",
        )
    )
    assert provider.redirect_uri == "https://evenemang.uni.example/login/oidc/callback"


def test_single_sign_on_is_configured_whole_or_not_at_all(tmp_path):
    env = {
        "EVENEMANG_OIDC_ISSUER": "https://login.uni.example",
        "EVENEMANG_OIDC_CLIENT_ID": "evenemang",
        "EVENEMANG_OIDC_CLIENT_SECRET": "secret",
        "EVENEMANG_OIDC_INFRA_GROUPS": "grp-infra, grp-venues",
        "EVENEMANG_PASSWORD_LOGIN": "0",
        "EVENEMANG_OIDC_TIMEOUT": "2.5",
        "EVENEMANG_OIDC_TEAM_GROUPS": "kommunikation=grp-komm, infrastructure = grp-infra",
    }
    config = Config.from_env(env, data_dir=tmp_path)
    assert config.oidc_enabled and not config.password_login
    assert comma_list(config.oidc_infra_groups) == ("grp-infra", "grp-venues")
    assert config.oidc_groups_claim == "groups" and config.oidc_timeout == 2.5
    assert Config.from_env(config.to_env()) == config
    assert not Config.from_env({}, data_dir=tmp_path).oidc_enabled

    partial = {k: v for k, v in env.items() if k != "EVENEMANG_OIDC_CLIENT_SECRET"}
    with pytest.raises(ConfigError, match="EVENEMANG_OIDC_CLIENT_SECRET"):
        Config.from_env(partial, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="https://"):
        Config.from_env(
            {**env, "EVENEMANG_OIDC_ISSUER": "http://login.uni.example"}, data_dir=tmp_path
        )
    loopback = {**env, "EVENEMANG_OIDC_ISSUER": "http://127.0.0.1:9999"}
    assert Config.from_env(loopback, data_dir=tmp_path).oidc_enabled
    assert comma_pairs(config.oidc_team_groups) == (
        ("kommunikation", "grp-komm"),
        ("infrastructure", "grp-infra"),
    )
    with pytest.raises(ConfigError, match="EVENEMANG_OIDC_TEAM_GROUPS: 'grp-komm' is not"):
        Config.from_env({**env, "EVENEMANG_OIDC_TEAM_GROUPS": "grp-komm"}, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="no way to log in"):
        Config.from_env({"EVENEMANG_PASSWORD_LOGIN": "0"}, data_dir=tmp_path)
