"""The ranked backlog as CSV: every factor and weight, enough to recompute the ranking
from the file alone; pins first; formulas defused; viewers up; a fixed query count."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from slos.registry.budget_sums import kept_sums_forget
from tests.conftest import NOTHING_KEPT, client_for, utc
from tests.factories import (
    BacklogItemFactory,
    HourlyBucketFactory,
    MembershipFactory,
    SLOFactory,
    UserFactory,
)
from toil import services
from toil.models import BacklogItem
from toil.scoring import Rankable, ScoreFactors, Weights, compute_score, rank
from toil.transfer.spreadsheet import EXPORT_COLUMNS

NOW = utc(2026, 12, 2, 3)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def export(client, team) -> list[dict[str, str]]:
    response = client.get(f"/backlog/{team.slug}/plan.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_header_names_every_factor_and_weight(client, team, owner, now):
    BacklogItemFactory(team=team, title="Only")
    response = client_for(client, owner).get(f"/backlog/{team.slug}/plan.csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="backlog-{team.slug}-2026-12-02.csv"'
    )
    header, first = list(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(header) == EXPORT_COLUMNS
    assert {
        "place",
        "pinned",
        "pin_reason",
        "id",
        "title",
        "kind",
        "status",
        "owner",
        "size",
        "effort_points",
        "impact",
        "likelihood",
        "toil_hours_per_month",
        "toil_relief",
        "slo",
        "slo_budget_remaining",
        "slo_risk",
        "created_at",
        "age_weeks",
        "weight_impact_likelihood",
        "weight_toil_relief",
        "weight_slo_risk",
        "weight_age",
        "age_horizon_weeks",
        "cost_of_delay",
        "age_factor",
        "score",
        "frozen",
        "tracker_url",
    } <= set(header)
    row = dict(zip(header, first, strict=True))
    assert (row["title"], row["kind"], row["size"], row["effort_points"]) == (
        "Only",
        "toil",
        "M",
        "3",
    )
    assert row["created_at"] == "2026-12-02T03:00:00+00:00"
    assert Decimal(row["weight_impact_likelihood"]) == 1 and row["age_horizon_weeks"] == "26"


def test_closed_items_are_left_out(client, team, owner, now):
    BacklogItemFactory(team=team, title="Open")
    BacklogItemFactory(team=team, title="Done", status="done")
    BacklogItemFactory(team=team, title="Dropped", status="wont_do")
    assert [row["title"] for row in export(client_for(client, owner), team)] == ["Open"]


def test_the_export_recomputes_to_the_same_ranking(client, team, owner, slo, now):
    valid = 100_000.0
    HourlyBucketFactory(
        slo=slo, hour=NOW.replace(minute=0) - timedelta(hours=2), good=valid - 80, valid=valid
    )
    services.backlog_settings_update(
        team=team, by=owner, at=NOW, weight_slo_risk=Decimal("2.5"), weight_age=Decimal("0.5")
    )
    old = BacklogItemFactory(team=team, title="Old", impact=1, likelihood=2, effort="S")
    BacklogItem.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(weeks=9))
    BacklogItemFactory(
        team=team, title="Risky", impact=1, likelihood=1, slo=slo, toil_hours_per_month=3
    )
    BacklogItemFactory(team=team, title="Big", impact=3, likelihood=3, effort="XL")
    # Two items alike in every factor: the tie is broken by age, then by id.
    BacklogItemFactory(team=team, title="Twin A", impact=2, likelihood=1)
    BacklogItemFactory(team=team, title="Twin B", impact=2, likelihood=1)
    # Pins keep the order they were pinned in, whatever their scores.
    later = BacklogItemFactory(team=team, title="Pinned later", impact=3, likelihood=3)
    first = BacklogItemFactory(team=team, title="Pinned first", impact=0, likelihood=0)
    services.backlog_item_pin(item=first, reason="Audit", by=owner, at=NOW - timedelta(days=1))
    services.backlog_item_pin(item=later, reason="Promised", by=owner, at=NOW)

    rows = export(client_for(client, owner), team)
    assert [(row["title"], row["pinned"], row["pin_reason"]) for row in rows[:2]] == [
        ("Pinned first", "yes", "Audit"),
        ("Pinned later", "yes", "Promised"),
    ]
    assert not any(row["pinned"] for row in rows[2:])
    recomputed = []
    for row in rows:
        weights = Weights(
            impact_likelihood=Decimal(row["weight_impact_likelihood"]),
            toil_relief=Decimal(row["weight_toil_relief"]),
            slo_risk=Decimal(row["weight_slo_risk"]),
            age=Decimal(row["weight_age"]),
            age_horizon_weeks=int(row["age_horizon_weeks"]),
        )
        breakdown = compute_score(
            ScoreFactors(
                impact=int(row["impact"]),
                likelihood=int(row["likelihood"]),
                toil_relief=int(row["toil_relief"]),
                slo_risk=int(row["slo_risk"]),
                effort_points=int(row["effort_points"]),
                age_weeks=float(row["age_weeks"]),
            ),
            weights,
        )
        assert breakdown.score == float(row["score"])
        assert breakdown.cost_of_delay == float(row["cost_of_delay"])
        assert breakdown.age_factor == float(row["age_factor"])
        recomputed.append(
            Rankable(
                key=int(row["id"]),
                score=breakdown.score,
                created_at=datetime.fromisoformat(row["created_at"]),
                pinned_at=datetime.fromisoformat(row["pinned_at"]) if row["pinned_at"] else None,
            )
        )
    assert rank(recomputed) == [int(row["id"]) for row in rows]
    assert [row["place"] for row in rows] == [str(place) for place in range(1, 8)]
    risky = next(row for row in rows if row["title"] == "Risky")
    assert risky["slo"] == "Clock-in availability"
    assert risky["slo_risk"] == "2" and float(risky["slo_budget_remaining"]) == pytest.approx(0.2)
    assert {row["weight_slo_risk"] for row in rows} == {"2.5"}


def test_formulas_are_defused(client, team, owner, now):
    dangerous = UserFactory(username="@ops")
    MembershipFactory(team=team, user=dangerous)
    slo = SLOFactory(service__team=team, name="=1+1")
    item = BacklogItemFactory(
        team=team, title='=HYPERLINK("http://evil")', owner=dangerous, slo=slo
    )
    services.backlog_item_pin(item=item, reason="-2+3", by=owner, at=NOW)
    BacklogItemFactory(team=team, title="+cmd|' /C calc'!A0")
    rows = export(client_for(client, owner), team)
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'
    assert (rows[0]["owner"], rows[0]["slo"], rows[0]["pin_reason"]) == ("'@ops", "'=1+1", "'-2+3")
    assert rows[1]["title"] == "'+cmd|' /C calc'!A0"


def test_viewers_export_and_outsiders_get_404(client, team, viewer, outsider, now):
    BacklogItemFactory(team=team)
    assert len(export(client_for(client, viewer), team)) == 1
    assert client_for(client, outsider).get(f"/backlog/{team.slug}/plan.csv").status_code == 404
    client.logout()
    assert client.get(f"/backlog/{team.slug}/plan.csv").status_code in (302, 404)


@pytest.mark.parametrize("count", [2, 20])
def test_the_export_runs_a_fixed_number_of_queries(
    client, team, owner, slo, now, django_assert_num_queries, count
):
    for index in range(count):
        item = BacklogItemFactory(
            team=team, slo=slo if index % 2 else None, owner=MembershipFactory(team=team).user
        )
        if index % 3 == 0:
            services.backlog_item_pin(item=item, reason="Why", by=owner, at=NOW)
    client_for(client, owner)
    # the ranking fetches the teams, the SLOs with their services, and the people (owners
    # and pinners) once each; no budget kept from an earlier read
    kept_sums_forget()
    with django_assert_num_queries(14 + NOTHING_KEPT):
        assert len(export(client, team)) == count


def test_an_exhausted_budget_stays_a_negative_number(client, team, owner, slo, now):
    valid = 100_000.0
    HourlyBucketFactory(
        slo=slo, hour=NOW.replace(minute=0) - timedelta(hours=2), good=valid - 300, valid=valid
    )
    BacklogItemFactory(team=team, title="Burning", slo=slo)
    (row,) = export(client_for(client, owner), team)
    # Only text is defused: the minus of a number is not a formula.
    assert float(row["slo_budget_remaining"]) == pytest.approx(-2.0)
    assert row["slo_risk"] == "3"


def test_the_file_is_named_by_the_teams_date(client, team, owner, time_machine):
    # 20:00 in UTC is already the next morning in Tokyo, the team's zone.
    time_machine.move_to(utc(2026, 12, 2, 20), tick=False)
    response = client_for(client, owner).get(f"/backlog/{team.slug}/plan.csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="backlog-{team.slug}-2026-12-03.csv"'
    )
