"""The ranking with pins, team weights and freeze flags; capacity and the weekly sums;
the weights preview. Hand-made data, frozen time."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from slos.registry.budget_sums import kept_sums_forget
from tests.conftest import NOTHING_KEPT, utc
from tests.factories import (
    BacklogItemFactory,
    BudgetPolicyStepFactory,
    HourlyBucketFactory,
    MembershipFactory,
    WorkLogEntryFactory,
)
from toil import services
from toil.models import BacklogItem
from toil.scoring import Weights
from toil.selectors import capacity, ranked_backlog, team_week_sums, weights_preview

NOW = utc(2026, 12, 2, 3)  # Wednesday 12:00 in Tokyo; the week began on Monday 2026-11-30


def burn(slo, *, remaining: float) -> None:
    valid = 100_000.0
    bad = (1 - remaining) * (1 - slo.target_fraction) * valid
    HourlyBucketFactory(
        slo=slo, hour=NOW.replace(minute=0) - timedelta(hours=2), good=valid - bad, valid=valid
    )


def titles(rows) -> list[str]:
    return [row.item.title for row in rows]


def test_pins_rank_above_scores_and_places_are_numbered(team, owner, time_machine):
    time_machine.move_to(NOW, tick=False)
    BacklogItemFactory(team=team, title="High", impact=3, likelihood=3)
    low = BacklogItemFactory(team=team, title="Low", impact=0, likelihood=0)
    BacklogItemFactory(team=team, title="Middle", impact=2, likelihood=2)
    services.backlog_item_pin(item=low, reason="Customer audit on Friday", by=owner, at=NOW)
    rows = ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW)
    assert titles(rows) == ["Low", "High", "Middle"]
    assert [row.place for row in rows] == [1, 2, 3]


def test_each_team_is_scored_with_its_own_weights(team, other_team, owner, time_machine):
    time_machine.move_to(NOW, tick=False)
    ours = BacklogItemFactory(team=team, impact=2, likelihood=2, effort="M")
    theirs = BacklogItemFactory(team=other_team, impact=2, likelihood=2, effort="M")
    services.backlog_settings_update(team=team, by=owner, at=NOW, weight_impact_likelihood=2)
    rows = {row.item.pk: row for row in ranked_backlog(BacklogItem.objects.all(), at=NOW)}
    assert rows[ours.pk].breakdown.cost_of_delay == 8
    assert rows[theirs.pk].breakdown.cost_of_delay == 4


def test_an_item_on_an_slo_in_a_release_freeze_is_flagged(team, slo, time_machine):
    time_machine.move_to(NOW, tick=False)
    burn(slo, remaining=0.2)
    BudgetPolicyStepFactory(
        slo=slo, below_percent=Decimal(50), action="Review", freezes_releases=False
    )
    flagged = BacklogItemFactory(team=team, title="Flagged", slo=slo)
    BacklogItemFactory(team=team, title="Free")
    rows = ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW)
    assert not any(row.frozen for row in rows)  # a step in force, but not a freeze

    BudgetPolicyStepFactory(
        slo=slo, below_percent=Decimal(25), action="Freeze", freezes_releases=True
    )
    rows = {
        row.item.pk: row for row in ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW)
    }
    assert rows[flagged.pk].frozen
    assert rows[flagged.pk].breakdown.factors.slo_risk == 2
    assert sum(row.frozen for row in rows.values()) == 1


def test_a_freeze_step_not_yet_reached_flags_nothing(team, slo, time_machine):
    time_machine.move_to(NOW, tick=False)
    burn(slo, remaining=0.6)
    BudgetPolicyStepFactory(
        slo=slo, below_percent=Decimal(25), action="Freeze", freezes_releases=True
    )
    BacklogItemFactory(team=team, slo=slo)
    assert not ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW)[0].frozen


def test_capacity_sums_eight_weeks_and_this_one_and_cuts_the_ranking(
    team, owner, teammate, time_machine
):
    time_machine.move_to(NOW, tick=False)
    services.backlog_settings_update(
        team=team, by=owner, at=NOW, reserved_hours=Decimal(20), hours_per_point=Decimal(4)
    )
    first = BacklogItemFactory(team=team, title="First", impact=3, likelihood=3, effort="S")  # 8 h
    BacklogItemFactory(team=team, title="Second", impact=2, likelihood=3, effort="M")  # 12 h
    BacklogItemFactory(team=team, title="Third", impact=0, likelihood=0, effort="XS")  # 4 h
    log = dict(team=team, at=NOW)
    WorkLogEntryFactory(**log, person=owner, item=first, on=date(2026, 11, 30), hours=Decimal(3))
    WorkLogEntryFactory(**log, person=teammate, item=first, on=date(2026, 12, 1), hours=Decimal(1))
    WorkLogEntryFactory(**log, person=teammate, on=date(2026, 12, 1), hours=Decimal(5), toil=True)
    WorkLogEntryFactory(**log, person=owner, item=first, on=date(2026, 11, 29), hours=Decimal(6))
    WorkLogEntryFactory(**log, person=owner, on=date(2026, 10, 5), hours=Decimal(7))  # 8 weeks ago
    WorkLogEntryFactory(**log, person=owner, on=date(2026, 9, 28), hours=Decimal(9))  # too old

    rows = ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW, with_hours=True)
    assert [row.logged_hours for row in rows] == [10, 0, 0]
    assert [row.size_hours for row in rows] == [8, 12, 4]
    found = capacity(team, rows, at=NOW)
    assert found.reserved_hours == 20
    assert [week.monday for week in found.weeks][0] == date(2026, 10, 5)
    assert len(found.weeks) == 9
    this_week = found.weeks[-1]
    assert (this_week.backlog_hours, this_week.toil_hours, this_week.all_hours) == (4, 5, 9)
    assert found.weeks[-2].backlog_hours == 6
    assert found.weeks[0].all_hours == 7
    assert sum(week.all_hours for week in found.weeks) == 22
    assert found.hours_left == 16
    # 8 h fit in 16; the next, 12 h, does not: the line is drawn there.
    assert found.fit.fitting == [first.pk]
    assert found.fit.cut_at == rows[1].item.pk


def test_share_mode_reserves_a_share_of_the_teams_hours(team, owner, time_machine):
    time_machine.move_to(NOW, tick=False)
    services.backlog_settings_update(
        team=team,
        by=owner,
        at=NOW,
        reserved_mode="share",
        team_hours=Decimal(160),
        reserved_share_percent=Decimal(25),
    )
    assert capacity(team, [], at=NOW).reserved_hours == 40


def test_the_week_sums_count_days_in_the_teams_zone(team, owner, time_machine):
    time_machine.move_to(NOW, tick=False)
    WorkLogEntryFactory(team=team, person=owner, on=date(2026, 11, 30), hours=Decimal(2), at=NOW)
    assert team_week_sums(team, at=NOW, weeks=1)[0].all_hours == 2


def test_the_weights_preview_lists_moves_without_saving(team, owner, time_machine):
    time_machine.move_to(NOW, tick=False)
    old = BacklogItemFactory(team=team, title="Old toil", impact=1, likelihood=1, effort="M")
    BacklogItem.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(weeks=26))
    BacklogItemFactory(team=team, title="Fresh risk", impact=2, likelihood=1, effort="M")
    rows = ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW)
    assert titles(rows) == ["Old toil", "Fresh risk"]  # 1/3 × 2 = 2/3 × 1: the older first
    moves = weights_preview(rows, Weights(age=Decimal(0)))
    assert [(move.row.item.title, move.old_place, move.places) for move in moves] == [
        ("Fresh risk", 2, 1),
        ("Old toil", 1, -1),
    ]
    assert titles(ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW)) == [
        "Old toil",
        "Fresh risk",
    ]


def test_the_ranking_takes_a_fixed_number_of_queries(
    team, owner, slo, django_assert_num_queries, time_machine
):
    time_machine.move_to(NOW, tick=False)
    for index in range(5):
        member = MembershipFactory(team=team).user
        item = BacklogItemFactory(team=team, slo=slo if index % 2 else None, owner=member)
        WorkLogEntryFactory(team=team, person=member, item=item, on=date(2026, 12, 1), at=NOW)
    # items, their teams, SLOs (with services) and people (owners and pinners), team
    # settings, SLO budgets (SLOs, exclusions, sums), freeze steps, hours; nothing kept
    kept_sums_forget()
    with django_assert_num_queries(10 + NOTHING_KEPT):
        rows = ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW, with_hours=True)
    assert len(rows) == 5
