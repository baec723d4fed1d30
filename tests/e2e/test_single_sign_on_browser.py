"""Logging in with the university's account in a real browser (Chromium): ``evenemang up``
with single sign-on against a real OpenID provider on loopback. Ann goes from a page that
needs a login to the provider's login and consent pages and lands logged in where she was
going; her groups change and the provider rotates its keys, and her next login (the
provider remembers her) gives her the new role; someone who cancels at the provider reads
why in Swedish (and in English). Pages are photographed under
``test-output/screenshots-single-sign-on/``."""

from __future__ import annotations

import pytest

from tests.support.axe import Audit, require_axe
from tests.support.browser import SCREENSHOTS, Screenshots, chromium, new_page, require_browser
from tests.support.openid_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Account,
    openid_provider,
    require_node_provider,
)
from tests.support.suite import evenemang_up, free_port, wait_healthy

pytestmark = pytest.mark.slow

ANN = Account(
    "ann-pass",
    {"email": "ann@uni.example", "email_verified": True, "name": "Ann Andersson", "groups": []},
)
BO = Account(
    "bo-pass", {"email": "bo@uni.example", "email_verified": True, "name": "Bo Berg", "groups": []}
)


def through_the_provider(page, issuer: str, login: str, password: str, *, allow=True) -> None:
    """At the provider: sign in, then allow (or deny) Evenemang."""
    page.wait_for_url(f"{issuer}/interaction/**")
    assert page.inner_text("h1") == "Sign in"
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{issuer}/interaction/**")
    assert page.inner_text("h1") == "Allow access"
    page.get_by_role("button", name="Allow" if allow else "Deny").click()


def test_logging_in_with_the_university_account_in_a_browser(config, tmp_path):
    require_browser()
    require_node_provider()
    require_axe()
    audit = Audit()
    shots = Screenshots(SCREENSHOTS.parent / "screenshots-single-sign-on")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    accounts = {"ann": ANN, "bo": BO}
    with openid_provider(tmp_path, [f"{base}/login/oidc/callback"], accounts) as provider:
        suite_config = config.replace(
            base_url=base,
            oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_infra_groups="grp-infra",
            oidc_admin_groups="grp-admin",
        )
        with evenemang_up(suite_config, tmp_path, port=port) as suite, chromium() as browser:
            wait_healthy(suite, timeout=60)
            ann = new_page(browser, suite.url)
            ann.goto("/bookings")
            assert "/login?next=" in ann.url
            shots.take(ann, "login with university account")
            audit.check(ann, "login with the university account")
            ann.get_by_role("link", name="Log in with your university account").click()
            through_the_provider(ann, provider.issuer, "ann", ANN.password)
            ann.wait_for_url(f"{suite.url}/bookings")
            assert "Welcome! You are logged in." in ann.inner_text("main")
            assert ann.get_by_role("link", name="Queue").count() == 0  # an organiser
            shots.take(ann, "logged in as organiser")

            # Between two logins: Ann joins the infrastructure group, the provider rotates
            # its signing keys and drops the old one.
            provider.set_account("ann", ANN.password, **{**ANN.claims, "groups": ["grp-infra"]})
            first_key = provider.keys()["signing"]
            provider.rotate_keys()
            assert first_key not in provider.retire_old_keys()["published"]
            ann.get_by_role("button", name="Log out").click()
            ann.wait_for_url("**/login")
            ann.goto("/queue")
            ann.get_by_role("link", name="Log in with your university account").click()
            ann.wait_for_url(f"{suite.url}/queue")  # the provider remembers her: straight back
            assert ann.get_by_role("link", name="Queue").count() == 1
            assert ann.inner_text("h1") != "You do not have access"
            shots.take(ann, "logged in again as infra")

            # Bo cancels at the provider, in Swedish.
            bo = new_page(browser, suite.url, language="sv")
            bo.goto("/login?lang=sv")
            bo.get_by_role("link", name="Logga in med ditt universitetskonto").click()
            through_the_provider(bo, provider.issuer, "bo", BO.password, allow=False)
            bo.wait_for_url(f"{suite.url}/login/oidc/failed")
            assert bo.inner_text("h1") == "Inloggningen med ditt universitetskonto gick inte"
            assert "access_denied" in bo.inner_text("main")
            shots.take(bo, "login cancelled swedish")
            audit.check(bo, "login with the university account failed")
            bo.get_by_role("link", name="In English").click()
            assert bo.inner_text("h1") == "Logging in with your university account did not work"
            audit.check(bo, "login with the university account failed")
            bo.get_by_role("link", name="På svenska").click()
            bo.get_by_role("link", name="Försök igen").click()
            bo.wait_for_url(f"{provider.issuer}/**")  # the provider again, a fresh login
    assert shots.taken and all(path.stat().st_size > 0 for path in shots.taken)
    audit.assert_clean()
