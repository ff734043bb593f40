"""In a real Chromium whose browser asks for Japanese: home → an SLO → the week's retro
read in Japanese, with no English left but the data's own names and the terms a
Japanese team writes as they are (SLO, SLI, API, Slack…). The catalogue itself is
checked message by message in tests/portal/test_i18n.py; this walks the pages a person
opens first, as they render."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import Role, Team
from retros.services import retro_session_plan
from slos.budget import align_to_hour
from slos.models import HourlyBucket
from slos.registry import services
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.browser

# Written as they are on a Japanese team's screens: names, units and abbreviations.
KEPT_IN_LATIN = {
    "SLO", "SLI", "SRE", "API", "PM", "URL", "CSV", "JSON", "YAML", "PromQL", "OpenSLO",
    "Slack", "Prometheus", "Alertmanager", "Sentry", "Markdown", "Reliability", "Portal",
    "English", "Asia", "Tokyo", "JST", "UTC", "min", "pts",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z’'-]+")


def a_team_with_a_burning_slo():
    team = Team.objects.create(name="勤怠クラウド", slug="kintai", time_zone="Asia/Tokyo")
    MembershipFactory(team=team, user__username="田中", role=Role.MEMBER)
    slo = services.slo_create(
        service=services.service_create(team=team, name="打刻API"),
        data_source=None,
        name="打刻が成功する",
        why="朝9時の打刻失敗はサポートへの問い合わせになる。",
        good_query="sum(increase(ok[$window]))",
        valid_query="sum(increase(all[$window]))",
        target=Decimal("99.9"),
    )
    end = align_to_hour(timezone.now())
    HourlyBucket.objects.bulk_create(
        HourlyBucket(slo=slo, hour=end - timedelta(hours=h), good=9_980, valid=10_000)
        for h in range(1, 49)
    )
    return team, slo, retro_session_plan(team=team, at=timezone.now())


def english_left(page) -> set[str]:
    """Words in Latin letters on the page, leaving out charts (drawn by plotly.js),
    code and queries, which are not the portal's sentences."""
    text = page.evaluate(
        """() => {
            const copy = document.body.cloneNode(true);
            copy.querySelectorAll("[data-plotly], script, style, code, pre, kbd, [hidden]")
                .forEach((el) => el.remove());
            return copy.innerText;
        }"""
    )
    return {word for word in WORD.findall(text) if word not in KEPT_IN_LATIN}


def test_home_an_slo_and_the_retro_read_in_japanese(page, transactional_db, japanese_catalogue):
    team, slo, session = a_team_with_a_burning_slo()
    page.set_extra_http_headers({"Accept-Language": "ja,en-US;q=0.7"})
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_label("ユーザー名").fill("田中")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    for path, heading in [
        ("/", "現在の状況"),
        (f"/slos/{slo.pk}/", "打刻が成功する"),
        (f"/retros/{session.pk}/", "勤怠クラウド のレトロ"),
    ]:
        page.goto(path)
        expect(page.locator("h1").first).to_contain_text(heading)
        left = english_left(page)
        assert not left, f"English on {path}: {sorted(left)}"
