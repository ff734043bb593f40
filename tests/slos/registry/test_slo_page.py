"""The SLO page: the numbers, errors in context, charts with annotations, the what-if
target, the monthly history, the policy and registry, roles, and its query count."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from slos.budget import HOUR
from slos.models import SLO, Annotation, BudgetPolicyStep, HourlyBucket, SLOReview
from slos.registry import services
from slos.registry.budget_sums import kept_sums_forget
from slos.registry.selectors import slo_window_data, slo_with_budget
from slos.registry.views import duration_text, percent_text
from tests.conftest import client_for, utc
from tests.factories import hourly_buckets, hours_before

NOW = utc(2026, 11, 2, 9, 30)  # 18:30 in Tokyo, the team's zone
END = utc(2026, 11, 2, 9)  # the end of the last complete hour
HTMX = {"HTTP_HX_REQUEST": "true"}


def page_of(client, slo: SLO) -> str:
    response = client.get(reverse("slos:detail", args=[slo.pk]))
    assert response.status_code == 200
    return response.content.decode()


class _ElementText(HTMLParser):
    VOID = {"br", "input", "img", "meter", "hr", "meta", "link"}

    def __init__(self, element_id: str):
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.found = False
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif not self.found and dict(attrs).get("id") == self.element_id:
            self.found = True
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text_of(page: str, element_id: str) -> str:
    """The text inside the element with this id, whitespace squeezed."""
    parser = _ElementText(element_id)
    parser.feed(page)
    assert parser.found, f"no element #{element_id}"
    return " ".join(" ".join(parser.parts).split())


def squeezed(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def figure(page: str, script_id: str) -> dict:
    match = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', page)
    assert match, f"no figure {script_id}"
    return json.loads(match.group(1))


def history_row(page: str, month: str) -> str:
    match = re.search(rf'<tr data-month="{month}">(.*?)</tr>', page, re.S)
    assert match, f"no history row for {month}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


@time_machine.travel(NOW, tick=False)
def test_the_numbers_on_hand_checked_data(client, viewer, slo):
    # 100 hours of 10 000 requests with 5 bad: 1 000 000 valid, 500 bad at 99.9%.
    hourly_buckets(slo, hours_before(END, 100), good=9_995, valid=10_000)
    page = page_of(client_for(client, viewer), slo)

    assert text_of(page, "sli") == "99.950%"
    assert text_of(page, "budget-remaining") == "50.0%"  # 1 000 allowed, 500 spent
    assert 'class="value status-healthy" id="budget-remaining"' in page
    assert text_of(page, "status") == "Healthy"
    assert text_of(page, "bad-events-left") == "500"
    # 28 days × (99.95% − 99.9%) = 2 419 200 s × 0.0005 = 20.16 minutes
    assert text_of(page, "minutes-left") == "20 min"
    assert text_of(page, "burn-1d") == "0.50×"
    assert text_of(page, "burn-7d") == "0.50×"
    assert text_of(page, "burn-window") == "0.50×"
    # Half the budget left at half the sustainable burn: 28 days, until 18:30 JST Nov 30.
    assert text_of(page, "time-to-exhaustion") == "in 28 days"
    assert "around 30 Nov 2026 18:30 JST, at the last day" in page
    # 100 of the window's 672 hours hold data; the rest is no data, not good.
    assert text_of(page, "coverage") == "14.9%"
    assert "100 of 672 hours with data" in page
    assert "572 hours of the window have no data: they count as no data, never as good." in page
    assert 'id="data-error"' not in page
    assert 'id="excluded-flag"' not in page


@time_machine.travel(NOW, tick=False)
def test_errors_in_context_say_it_in_plain_language(client, viewer, slo):
    hourly_buckets(slo, hours_before(END, 100), good=9_998, valid=10_000)  # 200 bad of 1 000 000
    panel = text_of(page_of(client_for(client, viewer), slo), "errors-in-context")
    assert (
        "200 bad events may sound like a lot: they are 0.02% of the 1,000,000 valid events "
        "in this window." in panel
    )
    assert "The SLO (99.9%) allows 0.1% of them to fail: 1,000 bad events in this window." in panel
    assert "800 more bad events can happen before the SLO is missed." in panel


@time_machine.travel(NOW, tick=False)
def test_a_missed_slo_says_by_how_much(client, viewer, slo):
    hourly_buckets(slo, hours_before(END, 10), good=9_000, valid=10_000)  # 10 000 bad, 100 allowed
    page = page_of(client_for(client, viewer), slo)
    assert "The SLO is missed: 9,900 bad events more than it allows." in squeezed(page)
    assert text_of(page, "status") == "Budget exhausted"
    assert text_of(page, "time-to-exhaustion") == "already spent"


def test_percent_and_duration_texts():
    assert percent_text(0.0002) == "0.02"
    assert percent_text(0.000234) == "0.023"
    assert percent_text(0.005) == "0.5"
    assert percent_text(0.0123) == "1.23"
    assert percent_text(0.25) == "25"
    assert percent_text(1e-9) == "0.0000001"
    assert percent_text(0) == "0"
    assert percent_text(-0.5) == "-50"
    assert duration_text(timedelta(days=3, hours=4, minutes=5)) == "3 days 4 hours"
    assert duration_text(timedelta(hours=1, minutes=1)) == "1 hour 1 minute"
    assert duration_text(timedelta(seconds=20)) == "less than a minute"


@time_machine.travel(NOW, tick=False)
def test_excluded_maintenance_changes_the_budget_and_the_page_says_so(client, viewer, slo):
    hourly_buckets(slo, hours_before(END, 100), good=9_995, valid=10_000)
    # A database upgrade 10 to 8 hours ago failed 5% of requests in two hours.
    HourlyBucket.objects.filter(
        slo=slo, hour__gte=END - timedelta(hours=10), hour__lt=END - timedelta(hours=8)
    ).update(good=9_500)
    client_for(client, viewer)
    # 98 × 5 + 2 × 500 = 1 490 bad of 1 000 allowed: overspent.
    assert text_of(page_of(client, slo), "budget-remaining") == "-49.0%"

    Annotation.objects.create(
        team=slo.service.team,
        service=slo.service,
        kind="maintenance",
        starts_at=END - timedelta(hours=10),
        ends_at=END - timedelta(hours=8),
        text="Database upgrade",
        excluded=True,
    )
    page = page_of(client, slo)
    # Without those two hours: 490 bad of 980 allowed.
    assert text_of(page, "budget-remaining") == "50.0%"
    assert text_of(page, "excluded-flag") == (
        "2 hours of maintenance excluded from the error budget."
    )
    assert "Database upgrade" in text_of(page, "annotations")
    # The charts shade it, darker than an ordinary annotation, with its text.
    burndown = figure(page, "budget-figure")
    shades = [shape for shape in burndown["layout"]["shapes"] if shape.get("opacity") == 0.35]
    assert [(shade["x0"], shade["x1"]) for shade in shades] == [
        ("2026-11-02 08:00", "2026-11-02 10:00")  # Tokyo time
    ]
    labels = [note["text"] for note in burndown["layout"]["annotations"]]
    assert "⚒ Database upgrade (excluded)" in labels


@time_machine.travel(NOW, tick=False)
def test_annotations_of_every_scope_are_on_the_charts(client, viewer, slo, team, service):
    hourly_buckets(slo, hours_before(END, 48), good=9_995, valid=10_000)
    other = services.slo_create(
        service=service,
        data_source=None,
        name="Another SLO",
        good_query=slo.good_query,
        valid_query=slo.valid_query,
        target="99",
    )
    for scope, text in [
        ({"slo": slo, "service": service}, "Deploy v42"),
        ({"service": service}, "Clock-in outage"),
        ({}, "Team offsite"),
        ({"slo": other, "service": service}, "Not ours"),
    ]:
        Annotation.objects.create(
            team=team,
            kind="deploy" if text.startswith("Deploy") else "incident",
            starts_at=END - timedelta(hours=5),
            ends_at=END - timedelta(hours=4, minutes=30),
            text=text,
            **scope,
        )
    Annotation.objects.create(  # long before the window
        team=team,
        kind="note",
        starts_at=END - timedelta(days=60),
        ends_at=END - timedelta(days=59),
        text="Ancient history",
    )
    page = page_of(client_for(client, viewer), slo)
    sli = figure(page, "sli-figure")
    hovers = " ".join(note.get("hovertext", "") for note in sli["layout"]["annotations"])
    for text in ["Deploy v42", "Clock-in outage", "Team offsite"]:
        assert text in hovers
        assert text in text_of(page, "annotations")
    assert "Not ours" not in page
    assert "Ancient history" not in page
    # A deploy is an instant: a dotted line at its start, in Tokyo time.
    lines = [shape for shape in sli["layout"]["shapes"] if shape["type"] == "line"]
    assert {"2026-11-02 13:00"} <= {line["x0"] for line in lines}


@time_machine.travel(NOW, tick=False)
def test_the_charts_show_the_sli_per_day_against_the_target_and_no_data_as_gaps(
    client, viewer, slo
):
    # Two Tokyo days with data (Nov 1 and the morning of Nov 2), nothing before.
    hourly_buckets(slo, hours_before(END, 30), good=9_990, valid=10_000)
    page = page_of(client_for(client, viewer), slo)
    sli = figure(page, "sli-figure")
    trace = sli["data"][0]
    days = dict(zip(trace["x"], trace["y"], strict=True))
    assert days["2026-11-01 12:00"] == pytest.approx(99.9)
    assert days["2026-10-20 12:00"] is None  # a day without data is a gap, not 100%
    target_lines = [shape for shape in sli["layout"]["shapes"] if shape.get("y0") == 99.9]
    assert target_lines, "a line for the target"
    assert sli["layout"]["xaxis"]["range"] == ["2026-10-05 18:00", "2026-11-02 18:00"]
    no_data = [s for s in sli["layout"]["shapes"] if s.get("fillcolor", "").startswith("rgba(117")]
    assert (no_data[0]["x0"], no_data[-1]["x1"]) == ("2026-10-05 18:00", "2026-11-01 12:00")

    burn = figure(page, "burn-figure")
    assert dict(zip(burn["data"][0]["x"], burn["data"][0]["y"], strict=True))[
        "2026-11-01 12:00"
    ] == pytest.approx(1.0)
    references = {shape["y0"] for shape in burn["layout"]["shapes"] if shape["type"] == "line"}
    assert {1.0, 2.8} <= references  # 1× and 10% of a 28-day budget in a day
    assert figure(page, "budget-figure")["data"][0]["y"][-1] == pytest.approx(0.0)


@time_machine.travel(NOW, tick=False)
def test_data_errors_are_flagged(client, viewer, slo):
    hourly_buckets(slo, hours_before(END, 5), good=10_000, valid=10_000)
    HourlyBucket.objects.create(slo=slo, hour=END - timedelta(hours=20), good=12, valid=10)
    page = page_of(client_for(client, viewer), slo)
    assert "Data error: more good events than valid events" in text_of(page, "data-error")


@time_machine.travel(NOW, tick=False)
def test_the_what_if_partial_recomputes_without_saving(client, viewer, slo):
    hourly_buckets(slo, hours_before(END, 100), good=9_995, valid=10_000)
    client_for(client, viewer)  # a viewer may: nothing is written
    url = reverse("slos:what_if", args=[slo.pk])
    response = client.get(url, {"target": "99.5"}, **HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    part = response.content.decode()
    assert part.lstrip().startswith('<section id="what-if-result"')
    assert "<html" not in part
    # 5 000 bad allowed at 99.5%, 500 spent: 90% left, 4 500 more.
    assert text_of(part, "what-if-remaining") == "90.0%"
    assert text_of(part, "what-if-allowed") == "5,000"
    assert text_of(part, "what-if-left") == "4,500"
    assert text_of(part, "what-if-status") == "Healthy"
    assert "At 99.5% instead of 99.9%" in part
    assert 'data-plotly="what-if-figure"' in part
    assert figure(part, "what-if-figure")["data"][0]["y"][-1] == pytest.approx(90.0)
    slo.refresh_from_db()
    assert slo.target == Decimal("99.9")


@time_machine.travel(NOW, tick=False)
def test_the_what_if_without_htmx_is_the_whole_page_with_real_links(client, viewer, slo):
    hourly_buckets(slo, hours_before(END, 100), good=9_995, valid=10_000)
    client_for(client, viewer)
    url = reverse("slos:what_if", args=[slo.pk])
    response = client.get(url, {"target": "99.5"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page
    assert text_of(page, "budget-remaining") == "50.0%"  # the real budget, unchanged
    assert text_of(page, "what-if-remaining") == "90.0%"
    assert 'name="target" id="what-if-target"' in page
    assert 'value="99.5"' in page
    assert f'action="{url}"' in page
    assert f'href="{reverse("slos:detail", args=[slo.pk])}"' in page


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("abc", "Enter the target as a number, e.g. 99.5."),
        ("nan", "Enter the target as a number, e.g. 99.5."),
        ("", "Enter a target to try, e.g. 99.5."),
        ("100", "A target must be below 100%"),
        ("1e3", "A target must be below 100%"),
        ("49.99", "A target below 50% is not an objective"),
        ("-5", "A target below 50% is not an objective"),
        ("99.1234567", "Use at most 5 decimal places"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_a_bad_what_if_target_gets_a_message_not_an_error(client, viewer, slo, target, message):
    hourly_buckets(slo, hours_before(END, 10), good=9_995, valid=10_000)
    client_for(client, viewer)
    url = reverse("slos:what_if", args=[slo.pk])
    part = client.get(url, {"target": target}, **HTMX)
    assert part.status_code == 200  # htmx swaps only successful answers
    assert message in text_of(part.content.decode(), "what-if-error")
    whole = client.get(url, {"target": target})
    assert whole.status_code == 400
    assert message in whole.content.decode()
    assert 'aria-invalid="true"' in whole.content.decode()


@time_machine.travel(NOW, tick=False)
def test_what_if_at_the_slos_own_target_is_the_budget_everyone_sees(slo, team):
    """The what-if sums its rows itself; they must be the sums slos_with_budgets makes."""
    hourly_buckets(slo, hours_before(END, 300), good=9_990, valid=10_000)
    HourlyBucket.objects.filter(
        slo=slo, hour__gte=END - 53 * HOUR, hour__lt=END - 50 * HOUR
    ).update(good=9_000)
    Annotation.objects.create(
        team=team,
        kind="maintenance",
        starts_at=END - timedelta(hours=52, minutes=30),
        ends_at=END - timedelta(hours=49),
        text="Failover drill",
        excluded=True,
    )
    HourlyBucket.objects.filter(slo=slo, hour=END - timedelta(hours=2)).delete()
    calendar = services.slo_create(
        service=slo.service,
        data_source=None,
        name="Monthly",
        good_query=slo.good_query,
        valid_query=slo.valid_query,
        target="99.5",
        window_kind="calendar",
        calendar_period="month",
    )
    hourly_buckets(calendar, hours_before(END, 200), good=9_990, valid=10_000)
    for each in [slo, calendar]:
        each = SLO.objects.select_related("service__team").get(pk=each.pk)
        expected = slo_with_budget(each.pk, at=NOW).budget
        got = slo_window_data(each, at=NOW).budget_at(each.target_fraction, at_risk_below=0.25)
        for field in dataclasses.fields(expected):
            want, have = getattr(expected, field.name), getattr(got, field.name)
            if isinstance(want, float):
                assert have == pytest.approx(want), field.name
            elif isinstance(want, timedelta):
                assert have.total_seconds() == pytest.approx(want.total_seconds()), field.name
            else:
                assert have == want, field.name
    assert expected.excluded_hours == 0  # the calendar month began on Nov 1 (Tokyo)


@time_machine.travel(NOW, tick=False)
def test_the_monthly_history_has_the_last_twelve_months_in_the_teams_zone(client, viewer, slo):
    # 23:00 on Oct 31 in Tokyo is October; 01:00 on Nov 1 is November.
    HourlyBucket.objects.bulk_create(
        [
            HourlyBucket(slo=slo, hour=utc(2026, 10, 31, 14), good=9_995, valid=10_000),
            HourlyBucket(slo=slo, hour=utc(2026, 10, 10, 3), good=9_995, valid=10_000),
            HourlyBucket(slo=slo, hour=utc(2026, 10, 31, 16), good=10_000, valid=10_000),
            HourlyBucket(slo=slo, hour=utc(2026, 9, 15, 3), good=9_980, valid=10_000),
            HourlyBucket(slo=slo, hour=utc(2025, 11, 15, 3), good=0, valid=10_000),
        ]
    )
    page = page_of(client_for(client, viewer), slo)
    months = re.findall(r'<tr data-month="(\d{4}-\d{2})">', page)
    assert months == [f"2026-{m:02d}" for m in range(11, 0, -1)] + ["2025-12"]
    assert history_row(page, "2026-11") == "Nov 2026 (so far) 100.000% met 0.0%"
    assert history_row(page, "2026-10") == "Oct 2026 99.950% met 50.0%"
    assert history_row(page, "2026-09") == "Sep 2026 99.800% missed 200.0%"
    assert history_row(page, "2026-08") == "Aug 2026 no data — —"


@time_machine.travel(NOW, tick=False)
def test_crossed_policy_steps_are_shown_first(client, viewer, slo):
    hourly_buckets(slo, hours_before(END, 100), good=9_995, valid=10_000)  # 50% left
    for level, action in [
        (75, "Freeze risky deploys"),
        (25, "Stop feature work for reliability"),
        (0, "Write a postmortem"),
    ]:
        BudgetPolicyStep.objects.create(slo=slo, below_percent=level, action=action)
    page = page_of(client_for(client, viewer), slo)
    crossed = re.findall(r'data-policy-step="crossed">(.*?)</li>', page, re.S)
    rest = re.findall(r'data-policy-step="not-crossed">(.*?)</li>', page, re.S)
    assert len(crossed) == 1 and "Freeze risky deploys" in crossed[0]
    assert "50.0% of the budget is left. The team agreed to:" in page
    assert ["Stop feature work" in rest[0], "Write a postmortem" in rest[1]] == [True, True]

    # At a 99.96% target the budget would be overspent: the what-if names what it triggers.
    part = client.get(
        reverse("slos:what_if", args=[slo.pk]), {"target": "99.96"}, **HTMX
    ).content.decode()
    assert "Policy steps this target would trigger:" in part
    assert "Write a postmortem" in part


@time_machine.travel(NOW, tick=False)
def test_the_registry_shows_owner_overdue_review_and_target_changes(client, viewer, owner, slo):
    SLO.objects.filter(pk=slo.pk).update(owner=owner, next_review_on=date(2026, 10, 20))
    SLOReview.objects.create(
        slo=slo,
        reviewed_by=owner,
        reviewed_at=utc(2026, 7, 1, 3),
        decision="tighten",
        note="Customers noticed the 9:00 errors.",
        old_target=Decimal("99.5"),
        new_target=Decimal("99.9"),
    )
    page = page_of(client_for(client, viewer), slo)
    assert text_of(page, "owner") == "owner"
    assert "20 Oct 2026" in page and '<strong class="overdue">overdue</strong>' in page
    assert 'id="provisional"' in page
    reviews = text_of(page, "reviews")
    assert "1 Jul 2026 · Tighten target 99.5% → 99.9% · owner" in reviews
    assert "Customers noticed the 9:00 errors." in page


@time_machine.travel(NOW, tick=False)
def test_a_viewer_sees_no_edit_links(client, viewer, teammate, slo, team):
    Annotation.objects.create(
        team=team,
        slo=slo,
        kind="note",
        starts_at=END - timedelta(hours=3),
        ends_at=END - timedelta(hours=2),
        text="Feature flag on",
    )
    edit_urls = [
        reverse("slos:edit", args=[slo.pk]),
        reverse("slos:review", args=[slo.pk]),
        reverse("slos:policy", args=[slo.pk]),
        reverse("slos:annotation_create", args=[slo.pk]),
        reverse("slos:pull", args=[slo.pk]),
    ]
    export = reverse("slos:openslo_export", args=[team.slug])

    page = page_of(client_for(client, viewer), slo)
    for url in edit_urls:
        assert url not in page
    assert "data-edit-link" not in page
    assert "/delete/" not in page
    assert f'href="{export}"' in page

    page = page_of(client_for(client, teammate), slo)
    for url in edit_urls:
        assert url in page
    assert "/delete/" in page
    assert f'href="{export}"' in page


@time_machine.travel(NOW, tick=False)
def test_an_slo_with_no_data_at_all(client, viewer, slo):
    client_for(client, viewer)
    page = page_of(client, slo)
    assert text_of(page, "budget-remaining") == "no data"
    assert text_of(page, "status") == "No data"
    assert "No data in this window yet" in page
    assert 'id="no-chart"' in page
    assert "672 hours of the window have no data" in page
    assert history_row(page, "2026-11") == "Nov 2026 (so far) no data — —"
    part = client.get(reverse("slos:what_if", args=[slo.pk]), {"target": "99"}, **HTMX)
    assert part.status_code == 200
    assert "No data in the window" in part.content.decode()


def test_outsiders_get_404_from_the_what_if(client, outsider, slo):
    client_for(client, outsider)
    assert client.get(reverse("slos:what_if", args=[slo.pk]), {"target": "99"}).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_page_runs_a_fixed_number_of_queries(
    client, teammate, owner, slo, team, django_assert_num_queries
):
    def add_everything(count: int, offset: int) -> None:
        hourly_buckets(slo, hours_before(END - offset * HOUR, count * 24), good=9_995, valid=10_000)
        for index in range(count):
            start = END - (offset + index * 5 + 1) * HOUR
            Annotation.objects.create(
                team=team,
                slo=slo if index % 2 else None,
                service=slo.service if index % 3 else None,
                kind="maintenance" if index % 4 == 0 else "deploy",
                excluded=index % 4 == 0,
                starts_at=start,
                ends_at=start + HOUR * 2,
                text=f"Change {offset} {index}",
            )
            SLOReview.objects.create(
                slo=slo,
                reviewed_by=owner,
                reviewed_at=NOW - timedelta(days=offset + index),
                decision="keep",
                old_target=slo.target,
                new_target=slo.target,
            )
            BudgetPolicyStep.objects.create(
                slo=slo, below_percent=Decimal(90 - offset - index), action=f"Step {offset} {index}"
            )

    client_for(client, teammate)
    url = reverse("slos:detail", args=[slo.pk])
    add_everything(2, 0)
    client.get(url)  # warm the session
    # Each with nothing kept from an earlier read of the budget: the most it sends.
    kept_sums_forget()
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_everything(8, 48)
    HourlyBucket.objects.create(slo=slo, hour=utc(2026, 3, 1), good=1, valid=1)
    kept_sums_forget()
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count('<tr data-annotation="') > 2
    kept_sums_forget()
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("slos:what_if", args=[slo.pk]), {"target": "99.5"})
