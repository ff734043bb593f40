"""Properties of the engine (hypothesis) and the windows it sums over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slos.budget import (
    HOUR,
    MonthTotals,
    Window,
    WindowTotals,
    calendar_window,
    compute_budget,
    excluded_hours,
    monthly_compliance,
    rolling_window,
)
from slos.sli import format_le, histogram_queries

START = datetime(2026, 10, 1, tzinfo=UTC)
hour_counts = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)).map(
        lambda pair: (min(pair), max(pair))
    ),
    min_size=1,
    max_size=200,
)


def totals(rows) -> WindowTotals:
    return WindowTotals(
        good=sum(good for good, _ in rows),
        valid=sum(valid for _, valid in rows),
        hours_with_data=len(rows),
        hours_in_window=len(rows),
    )


@given(rows=hour_counts, cut=st.integers(0, 200), target=st.floats(0.5, 0.99999))
def test_splitting_a_window_and_summing_the_parts_gives_the_same_sli(rows, cut, target):
    first, second = rows[:cut], rows[cut:]
    whole = compute_budget(totals(rows), target=target, window=timedelta(days=28))
    parts = [totals(part) for part in (first, second) if part]
    summed = WindowTotals(
        good=sum(p.good for p in parts),
        valid=sum(p.valid for p in parts),
        hours_with_data=sum(p.hours_with_data for p in parts),
        hours_in_window=sum(p.hours_in_window for p in parts),
    )
    again = compute_budget(summed, target=target, window=timedelta(days=28))
    assert again.sli == whole.sli
    assert again.error_budget_remaining == whole.error_budget_remaining


@given(rows=hour_counts, target=st.floats(0.5, 0.99999))
def test_remaining_is_one_minus_the_burn_over_the_whole_window(rows, target):
    budget = compute_budget(totals(rows), target=target, window=timedelta(days=28))
    if budget.valid == 0:
        assert budget.error_budget_remaining is None
    else:
        assert budget.error_budget_remaining == pytest.approx(1 - budget.burn_rate)


@given(
    intervals=st.lists(
        st.tuples(st.integers(-50, 300), st.integers(1, 100)).map(
            lambda pair: (START + timedelta(minutes=pair[0] * 17), pair[1])
        ),
        max_size=5,
    )
)
def test_exclusions_only_remove_hours_of_the_window(intervals):
    window = Window(start=START, end=START + timedelta(days=2), length=timedelta(days=2))
    spans = [(start, start + timedelta(minutes=37 * length)) for start, length in intervals]
    hours = excluded_hours(window, spans)
    assert all(window.start <= hour < window.end and hour.minute == 0 for hour in hours)
    # Adding an interval never brings an hour back.
    assert hours >= excluded_hours(window, spans[:-1])
    for hour in hours:
        assert any(start < hour + HOUR and end > hour for start, end in spans)


def test_a_partial_hour_of_maintenance_excludes_that_hour():
    window = rolling_window(START + timedelta(days=1), 1)
    hours = excluded_hours(
        window, [(START + timedelta(hours=3, minutes=30), START + timedelta(hours=5))]
    )
    assert hours == {START + timedelta(hours=3), START + timedelta(hours=4)}


def test_a_rolling_window_ends_at_the_last_complete_hour():
    window = rolling_window(datetime(2026, 11, 2, 9, 42, tzinfo=UTC), 28)
    assert window.end == datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert window.start == datetime(2026, 10, 5, 9, tzinfo=UTC)
    assert window.hours == 672


def test_a_calendar_month_in_the_teams_time_zone():
    # 2026-11-02 03:00 in Tokyo is still 1 November there... and 18:00 UTC on the 1st.
    window = calendar_window(datetime(2026, 11, 1, 18, 20, tzinfo=UTC), "month", "Asia/Tokyo")
    assert window.start == datetime(2026, 10, 31, 15, tzinfo=UTC)  # 1 Nov 00:00 JST
    assert window.end == datetime(2026, 11, 1, 18, tzinfo=UTC)
    assert window.length == timedelta(days=30)
    assert window.hours == 27


def test_a_calendar_quarter_across_a_daylight_saving_change():
    window = calendar_window(datetime(2026, 11, 15, tzinfo=UTC), "quarter", "Europe/Berlin")
    assert window.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # 1 Oct 00:00 CEST
    assert window.start + window.length == datetime(2026, 12, 31, 23, tzinfo=UTC)  # CET


def test_a_calendar_week_runs_from_monday_in_the_teams_time_zone():
    # Sunday 2026-11-08 20:00 UTC is Monday 9 November 05:00 in Tokyo: a new week there.
    window = calendar_window(datetime(2026, 11, 8, 20, 40, tzinfo=UTC), "week", "Asia/Tokyo")
    assert window.start == datetime(2026, 11, 8, 15, tzinfo=UTC)  # Mon 9 Nov 00:00 JST
    assert window.end == datetime(2026, 11, 8, 20, tzinfo=UTC)
    assert window.length == timedelta(days=7)
    assert window.hours == 5
    # The same moment in New York is still Sunday: the week began on Monday 2 November.
    window = calendar_window(datetime(2026, 11, 8, 20, 40, tzinfo=UTC), "week", "America/New_York")
    assert window.start == datetime(2026, 11, 2, 5, tzinfo=UTC)  # Mon 2 Nov 00:00 EST
    # Daylight saving ended on 1 November, so this week is a plain seven days.
    assert window.length == timedelta(days=7)


def test_a_calendar_day_across_a_daylight_saving_change_has_its_own_length():
    window = calendar_window(datetime(2026, 3, 29, 12, tzinfo=UTC), "day", "Europe/Berlin")
    assert window.start == datetime(2026, 3, 28, 23, tzinfo=UTC)  # 29 Mar 00:00 CET
    assert window.start + window.length == datetime(2026, 3, 29, 22, tzinfo=UTC)  # CEST
    assert window.length == timedelta(hours=23)
    assert window.hours == 13


def test_half_hour_zones_take_the_hour_containing_the_boundary():
    window = calendar_window(datetime(2026, 11, 10, tzinfo=UTC), "month", "Asia/Kolkata")
    assert window.start == datetime(2026, 10, 31, 18, tzinfo=UTC)  # 18:30 UTC → 18:00


def test_calendar_budget_is_for_the_whole_period_without_extrapolation():
    # Three days into a 30-day month: 1,000 bad of 1,000,000 at 99.9% spends the whole
    # budget of the events so far; minutes are counted against the whole month.
    budget = compute_budget(
        WindowTotals(good=999_000, valid=1_000_000, hours_with_data=72, hours_in_window=72),
        target=0.999,
        window=timedelta(days=30),
    )
    assert budget.error_budget_remaining == pytest.approx(0)
    assert budget.minutes_left == pytest.approx(0)


def test_monthly_compliance():
    history = monthly_compliance(
        [
            MonthTotals(date(2026, 9, 1), good=999_500, valid=1_000_000),
            MonthTotals(date(2026, 10, 1), good=998_000, valid=1_000_000),
            MonthTotals(date(2026, 11, 1), good=0, valid=0),
        ],
        target=0.999,
    )
    assert [month.met for month in history] == [True, False, None]
    assert history[0].budget_spent == pytest.approx(0.5)
    assert history[1].budget_spent == pytest.approx(2.0)


def test_histogram_queries_and_le_formatting():
    assert format_le(0.5) == "0.5" and format_le(1.0) == "1" and format_le(2.5) == "2.5"
    queries = histogram_queries("http_request_duration_seconds", '{job="api"}', 0.25)
    assert queries.good == (
        'sum(increase(http_request_duration_seconds_bucket{job="api",le="0.25"}[$window]))'
    )
    assert queries.valid == 'sum(increase(http_request_duration_seconds_count{job="api"}[$window]))'
    bare = histogram_queries("latency_seconds", "", 1)
    assert bare.good == 'sum(increase(latency_seconds_bucket{le="1"}[$window]))'
