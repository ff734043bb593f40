"""Every page's head: an icon the browser finds (no 404 on each page), and htmx's
CSP-safe config, on the site's pages and on the meeting screen alike."""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles import finders

ICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


def test_the_login_page_carries_the_icon_and_htmx(client):
    page = client.get("/accounts/login/").content.decode()
    assert ICON in page
    assert '"allowEval": false' in page
    assert finders.find("favicon.svg") is not None


def test_the_meeting_screen_includes_the_same_head():
    for template in ("base.html", "retros/present.html"):
        source = (settings.BASE_DIR / "templates" / template).read_text()
        assert '{% include "portal/head.html" %}' in source, template
