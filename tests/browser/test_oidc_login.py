"""In a real Chromium: the login page's "Sign in with Company SSO" button, the provider's
own sign-in page (a real OpenID Connect provider on loopback, tests/oidc_provider/), and
back on the portal's home, signed in, with no Content-Security-Policy violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.csp import csp_violations
from tests.oidc_provider.running import point_portal_at, provider_running
from tests.oidc_provider.serve import PEOPLE

pytestmark = pytest.mark.browser


@pytest.fixture
def provider(live_server, tmp_path):
    with provider_running(portal_url=live_server.url, workdir=tmp_path) as base:
        yield base


def test_signing_in_through_the_company_provider(
    page, live_server, transactional_db, settings, provider
):
    point_portal_at(settings, provider)
    violations = csp_violations(page)
    username, password, *_ = PEOPLE[0]

    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Company SSO").click()
    expect(page.get_by_role("heading", name="Company sign-in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("button", name="Log out ayumi")).to_be_visible()
    expect(page.get_by_text("You are not in any team yet")).to_be_visible()
    assert violations == []
