"""Writes of the backlog: history, closing, pins, team settings and the work log."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.conftest import utc
from tests.factories import BacklogItemFactory, SLOFactory, TeamFactory, UserFactory
from toil import services
from toil.models import BacklogItemChange, BacklogSettings, BacklogSettingsChange, Status
from toil.services import BacklogError

AT = utc(2026, 11, 30, 9)


def test_an_edit_records_who_changed_what_and_when(team, owner, teammate):
    item = BacklogItemFactory(team=team, title="Retry uploads", impact=1, effort="M")
    change = services.backlog_item_update(
        item=item, by=teammate, at=AT, impact=3, effort="S", title="Retry uploads"
    )
    assert change is not None
    assert change.changed_by == teammate
    assert change.changed_at == AT
    assert change.changes == {
        "impact": ["Internal only", "Many users"],
        "effort": ["M (3 points)", "S (2 points)"],
    }
    item.refresh_from_db()
    assert (item.impact, item.effort) == (3, "S")


def test_an_edit_that_changes_nothing_leaves_no_history(team):
    item = BacklogItemFactory(team=team, impact=1)
    assert services.backlog_item_update(item=item, by=None, at=AT, impact=1) is None
    assert not BacklogItemChange.objects.exists()


@pytest.mark.parametrize("status", [Status.DONE, Status.WONT_DO])
def test_closing_records_who_and_when_and_reopening_clears_it(team, owner, status):
    item = BacklogItemFactory(team=team)
    services.backlog_item_update(item=item, by=owner, at=AT, status=status)
    assert (item.closed_by, item.closed_at) == (owner, AT)
    assert not item.is_open
    services.backlog_item_update(item=item, by=owner, at=AT, status=Status.IN_PROGRESS)
    assert (item.closed_by, item.closed_at) == (None, None)


def test_links_to_another_teams_slo_or_an_outsider_as_owner_are_refused(
    team, other_team, outsider, service, data_source
):
    item = BacklogItemFactory(team=team)
    theirs = SLOFactory(service__team=other_team)
    with pytest.raises(BacklogError):
        services.backlog_item_update(item=item, by=None, at=AT, slo=theirs)
    with pytest.raises(BacklogError):
        services.backlog_item_update(item=item, by=None, at=AT, owner=outsider)
    item.refresh_from_db()
    assert item.slo is None and item.owner is None
    assert not BacklogItemChange.objects.exists()


def test_unknown_fields_cannot_be_edited(team):
    item = BacklogItemFactory(team=team)
    with pytest.raises(BacklogError):
        services.backlog_item_update(item=item, by=None, at=AT, team=TeamFactory())


def test_a_pin_needs_a_reason_and_an_open_item(team, owner):
    item = BacklogItemFactory(team=team)
    with pytest.raises(BacklogError):
        services.backlog_item_pin(item=item, reason="   ", by=owner, at=AT)
    services.backlog_item_pin(item=item, reason="Audit due Friday", by=owner, at=AT)
    assert (item.pinned_reason, item.pinned_by, item.pinned_at) == ("Audit due Friday", owner, AT)
    services.backlog_item_unpin(item=item, by=owner, at=AT + timedelta(hours=1))
    assert (item.pinned_reason, item.pinned_at) == ("", None)
    assert BacklogItemChange.objects.filter(item=item).count() == 2

    done = BacklogItemFactory(team=team, status=Status.DONE)
    with pytest.raises(BacklogError):
        services.backlog_item_pin(item=done, reason="Too late", by=owner, at=AT)


def test_every_settings_change_is_recorded_with_before_and_after(team, owner):
    change = services.backlog_settings_update(
        team=team, by=owner, at=AT, weight_slo_risk=Decimal("2.5"), reserved_hours=Decimal(12)
    )
    assert change.before == {"weight_slo_risk": "1.0", "reserved_hours": "0.0"}
    assert change.after == {"weight_slo_risk": "2.5", "reserved_hours": "12.0"}
    assert BacklogSettings.objects.get(team=team).weights().slo_risk == Decimal("2.5")
    assert services.backlog_settings_update(team=team, by=owner, at=AT, reserved_hours=12) is None
    assert BacklogSettingsChange.objects.count() == 1


def test_out_of_range_settings_are_refused_and_nothing_changes(team, owner):
    services.backlog_settings_update(team=team, by=owner, at=AT, weight_age=Decimal(2))
    with pytest.raises(ValidationError):
        services.backlog_settings_update(team=team, by=owner, at=AT, weight_age=Decimal(9))
    assert BacklogSettings.objects.get(team=team).weight_age == 2
    assert BacklogSettingsChange.objects.count() == 1


def test_work_is_logged_by_members_on_their_teams_items(team, other_team, owner, outsider):
    item = BacklogItemFactory(team=team)
    entry = services.work_log_add(
        team=team, person=owner, item=item, on=date(2026, 11, 30), hours=Decimal("1.5"), at=AT
    )
    assert entry.item == item
    with pytest.raises(BacklogError):
        services.work_log_add(team=team, person=outsider, on=date(2026, 11, 30), hours=1, at=AT)
    theirs = BacklogItemFactory(team=other_team)
    with pytest.raises(BacklogError):
        services.work_log_add(
            team=team, person=owner, item=theirs, on=date(2026, 11, 30), hours=1, at=AT
        )


@pytest.mark.parametrize("hours", [Decimal(0), Decimal("-1"), Decimal("24.25"), Decimal("1e9")])
def test_hours_out_of_range_are_refused(team, owner, hours):
    with pytest.raises(ValidationError):
        services.work_log_add(team=team, person=owner, on=date(2026, 11, 30), hours=hours, at=AT)


def test_an_import_creates_every_row_or_none(team, owner):
    row = services.ImportRow(
        title="Automate restarts",
        kind="toil",
        impact=1,
        likelihood=2,
        effort="S",
        toil_hours_per_month=Decimal(6),
        status=Status.READY,
        description="",
        tracker_url="",
        owner=None,
        slo=None,
    )
    stranger = UserFactory()
    bad = services.ImportRow(**{**row.__dict__, "title": "Second", "owner": stranger})
    with pytest.raises(BacklogError):
        services.backlog_items_import(team=team, rows=[row, bad], by=owner, at=AT)
    assert not team.backlog_items.exists()
    created = services.backlog_items_import(team=team, rows=[row], by=owner, at=AT)
    assert [item.title for item in created] == ["Automate restarts"]
    assert created[0].toil_relief == 2
