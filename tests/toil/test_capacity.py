"""The pure rules of reserved time, what fits this week and the weekly sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.weeks import recent_mondays, week_monday
from tests.conftest import utc
from toil.capacity import (
    LoggedHours,
    ReservedMode,
    fits_this_week,
    reserved_hours,
    size_hours,
    week_sums,
)

H = Decimal


def test_reserved_hours_as_hours_or_as_a_share():
    assert (
        reserved_hours(mode=ReservedMode.HOURS, hours=H(12), share_percent=H(20), team_hours=H(200))
        == 12
    )
    assert (
        reserved_hours(mode=ReservedMode.SHARE, hours=H(12), share_percent=H(20), team_hours=H(200))
        == 40
    )
    assert reserved_hours(
        mode=ReservedMode.SHARE, hours=H(0), share_percent=H("12.5"), team_hours=H(37)
    ) == H("4.6")


@pytest.mark.parametrize(("size", "hours"), [("XS", 4), ("S", 8), ("M", 12), ("L", 20), ("XL", 32)])
def test_size_hours_follow_the_effort_points(size, hours):
    assert size_hours(size, H(4)) == hours


def test_the_ranking_is_worked_down_in_order_and_cut_at_the_first_that_does_not_fit():
    fit = fits_this_week([("a", H(4)), ("b", H(8)), ("c", H(12)), ("d", H(1))], H(14))
    assert fit.fitting == ["a", "b"]
    # "d" would fit the 2 hours left, but it does not jump the queue over "c".
    assert fit.cut_at == "c"
    assert fit.hours_planned == 12


def test_everything_fits_when_there_is_room():
    fit = fits_this_week([("a", H(4)), ("b", H(8))], H(40))
    assert fit.fitting == ["a", "b"]
    assert fit.cut_at is None


def test_no_hours_left_means_nothing_fits():
    fit = fits_this_week([("a", H(4))], H(-3))
    assert fit.fitting == []
    assert fit.cut_at == "a"
    assert fit.hours_left == 0


@given(
    st.lists(st.decimals(min_value=1, max_value=40, places=1), max_size=20),
    st.decimals(min_value=0, max_value=200, places=1),
)
def test_what_fits_never_exceeds_the_hours_left(sizes, left):
    fit = fits_this_week(list(enumerate(sizes)), left)
    assert fit.hours_planned <= left
    assert fit.fitting == list(range(len(fit.fitting)))


def test_week_sums_on_hand_made_entries():
    mondays = [date(2026, 11, 23), date(2026, 11, 30)]
    entries = [
        LoggedHours(date(2026, 11, 23), H(3), toil=True, on_backlog=False),
        LoggedHours(date(2026, 11, 27), H(2), toil=False, on_backlog=True),
        LoggedHours(date(2026, 11, 29), H(1), toil=True, on_backlog=True),  # Sunday
        LoggedHours(date(2026, 11, 30), H(4), toil=False, on_backlog=True),
        LoggedHours(date(2026, 11, 16), H(9), toil=True, on_backlog=False),  # too old
    ]
    first, second = week_sums(entries, mondays)
    assert (first.backlog_hours, first.toil_hours, first.all_hours) == (3, 4, 6)
    assert first.toil_share == H(4) / H(6)
    assert first.over_toil_cap
    assert (second.backlog_hours, second.toil_hours, second.all_hours) == (4, 0, 4)
    assert not second.over_toil_cap


def test_a_week_with_nothing_logged_has_no_toil_share():
    (week,) = week_sums([], [date(2026, 11, 30)])
    assert week.toil_share is None
    assert not week.over_toil_cap


def test_exactly_half_is_at_the_cap_not_over_it():
    (week,) = week_sums(
        [
            LoggedHours(date(2026, 11, 30), H(2), toil=True, on_backlog=False),
            LoggedHours(date(2026, 11, 30), H(2), toil=False, on_backlog=False),
        ],
        [date(2026, 11, 30)],
    )
    assert week.toil_share == H("0.5")
    assert not week.over_toil_cap


def test_weeks_start_on_monday_in_the_teams_zone():
    # Sunday 2026-11-29 20:00 UTC is already Monday 05:00 in Tokyo.
    moment = utc(2026, 11, 29, 20)
    assert week_monday(moment, "Asia/Tokyo") == date(2026, 11, 30)
    assert week_monday(moment, "UTC") == date(2026, 11, 23)
    assert recent_mondays(date(2026, 11, 30), 3) == [
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
    ]
