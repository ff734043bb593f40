"""The trends page: across a team's retros, each SLO's budget status week by week (a
heatmap), tickets new vs decided, actions opened vs closed and kudos per week, counted
from what the sessions froze and recorded; six queries however many sessions and SLOs;
viewers read it, outsiders get 404."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from retros.charts import HeatCell, HeatRow, budget_status_heatmap
from retros.models import ActionReview, RetroSession
from retros.services import (
    kudos_add,
    retro_action_add,
    retro_action_review,
    retro_session_close,
    retro_session_plan,
    retro_session_start,
    retro_ticket_decide,
)
from retros.trends import retro_trends
from tests.conftest import client_for, utc
from tests.factories import (
    IntakeSourceFactory,
    NotificationFactory,
    SLOFactory,
    hourly_buckets,
    hours_before,
)

WEEK_1 = utc(2026, 11, 25, 1, 0)  # Wednesday 10:00 in Tokyo
WEEK_2 = WEEK_1 + timedelta(days=7)
TRENDS_QUERIES = 6


def _ticket(team, title: str, at):
    return NotificationFactory(
        source=IntakeSourceFactory(team=team),
        title=title,
        notification_class="ticket",
        first_seen_at=at,
        last_seen_at=at,
    )


def _held(team, user, at) -> RetroSession:
    with time_machine.travel(at, tick=False):
        session = retro_session_plan(team=team, at=at)
        return retro_session_start(session=session, user=user, at=at)


def _close(session, user, at) -> None:
    with time_machine.travel(at, tick=False):
        retro_session_close(session=session, user=user, at=at)


@pytest.fixture
def history(team, slo, teammate):
    """Two weeks of retros: the second SLO has no data at the first and has burnt its
    budget by the second."""
    payroll = SLOFactory(
        service=slo.service,
        data_source=slo.data_source,
        name="Payroll export",
        target=Decimal("99"),
    )
    hourly_buckets(slo, hours_before(WEEK_1, 48), good=1000, valid=1000)
    _ticket(team, "Disk 85% full", WEEK_1 - timedelta(days=2))
    _ticket(team, "Cert expires", WEEK_1 - timedelta(days=1))
    kudos_add(
        team=team,
        user=teammate,
        person=None,
        person_name="Ana",
        what="Runbook",
        practice="incident_response",
        at=WEEK_1 - timedelta(hours=3),
    )
    first = _held(team, teammate, WEEK_1)
    disk = first.ticket_decisions.get(title="Disk 85% full")
    retro_ticket_decide(item=disk, user=teammate, decision="dismiss", note="noise", at=WEEK_1)
    retro_action_add(
        session=first,
        user=teammate,
        text="Alert on certs",
        owner=teammate,
        due_on=None,
        at=WEEK_1,
    )
    _close(first, teammate, WEEK_1 + timedelta(minutes=30))

    hourly_buckets(slo, hours_before(WEEK_2, 48), good=1000, valid=1000)
    hourly_buckets(payroll, hours_before(WEEK_2, 48), good=500, valid=1000)
    _ticket(team, "Slow export", WEEK_2 - timedelta(days=1))
    second = _held(team, teammate, WEEK_2)
    carried = second.ticket_decisions.get(title="Cert expires")
    assert carried.carried
    retro_ticket_decide(item=carried, user=teammate, decision="dismiss", note="done", at=WEEK_2)
    review = ActionReview.objects.get(session=second)
    retro_action_review(review=review, user=teammate, outcome="done", at=WEEK_2)
    return first, second


def test_counts_week_by_week(history, team):
    first, second = history
    trends = retro_trends(team)
    assert [week.session_id for week in trends.weeks] == [first.pk, second.pk]
    assert trends.labels == ["23 Nov 2026", "30 Nov 2026"]
    assert [week.tickets_new for week in trends.weeks] == [2, 1]
    assert [week.tickets_decided for week in trends.weeks] == [1, 1]
    assert [week.actions_opened for week in trends.weeks] == [1, 0]
    assert [week.actions_closed for week in trends.weeks] == [0, 1]
    assert [week.kudos for week in trends.weeks] == [1, 0]


def test_budget_status_per_slo_per_week(history, team):
    rows = {row.name: row for row in retro_trends(team).slos}
    assert list(rows) == ["Clock-in API / Clock-in availability", "Clock-in API / Payroll export"]
    clock_in = rows["Clock-in API / Clock-in availability"].cells
    assert [cell.status for cell in clock_in] == ["healthy", "healthy"]
    assert clock_in[1].remaining == pytest.approx(1.0)
    payroll = rows["Clock-in API / Payroll export"].cells
    assert [cell.status for cell in payroll] == ["no_data", "exhausted"]


def test_an_slo_added_later_is_blank_before(history, team, slo, teammate):
    newcomer = SLOFactory(service=slo.service, data_source=slo.data_source, name="New one")
    third = _held(team, teammate, WEEK_2 + timedelta(days=7, hours=1))
    row = next(row for row in retro_trends(team).slos if row.name.endswith("New one"))
    assert row.cells[:2] == (None, None) and row.cells[2] is not None
    assert third.snapshots.filter(slo=newcomer).exists()


def test_reads_take_a_fixed_number_of_queries(
    history, team, slo, teammate, django_assert_num_queries
):
    with django_assert_num_queries(TRENDS_QUERIES):
        retro_trends(team)
    for index in range(5):
        SLOFactory(service=slo.service, data_source=slo.data_source, name=f"Extra {index}")
    _ticket(team, "Another", WEEK_2 + timedelta(days=2))
    _held(team, teammate, WEEK_2 + timedelta(days=7, hours=1))
    with django_assert_num_queries(TRENDS_QUERIES):
        trends = retro_trends(team)
    assert len(trends.weeks) == 3 and len(trends.slos) == 7


def test_planned_sessions_are_not_trends(team, teammate):
    with time_machine.travel(WEEK_1, tick=False):
        retro_session_plan(team=team, at=WEEK_1)
    assert retro_trends(team).weeks == ()


def test_the_heatmap_draws_statuses_in_their_colours():
    figure = budget_status_heatmap(
        ["w1", "w2"],
        [
            HeatRow(
                name="A / x",
                cells=(None, HeatCell(status="at_risk", status_label="at risk", remaining=0.2)),
            ),
            HeatRow(
                name="B / y",
                cells=(
                    HeatCell(status="healthy", status_label="healthy", remaining=0.9),
                    HeatCell(status="no_data", status_label="no data", remaining=None),
                ),
            ),
        ],
        title="Budgets",
    ).to_plotly_json()
    trace = figure["data"][0]
    assert trace["type"] == "heatmap"
    assert [list(row) for row in trace["z"]] == [[None, 2], [3, 0]]
    assert [list(row) for row in trace["text"]] == [
        ["", "at risk · 20.0%"],
        ["healthy · 90.0%", "no data"],
    ]
    assert list(trace["y"]) == ["A / x", "B / y"]


def test_the_page_for_a_viewer(client, history, team, viewer):
    response = client_for(client, viewer).get(reverse("retros:trends", args=[team.slug]))
    assert response.status_code == 200
    text = response.content.decode()
    for name in ("budgets", "tickets", "actions", "kudos"):
        assert f'data-plotly="trends-{name}-figure"' in text
    assert text.count('class="trend-week"') == 2
    assert 'id="trends-budgets-figure"' in text
    start = text.index('id="trends-budgets-figure"')
    payload = text[text.index(">", start) + 1 : text.index("</script>", start)]
    assert json.loads(payload)["data"][0]["type"] == "heatmap"


def test_the_page_without_retros(client, team, viewer):
    response = client_for(client, viewer).get(reverse("retros:trends", args=[team.slug]))
    assert response.status_code == 200
    assert 'id="trends-empty"' in response.content.decode()


def test_outsiders_get_404(client, team, outsider):
    response = client_for(client, outsider).get(reverse("retros:trends", args=[team.slug]))
    assert response.status_code == 404
