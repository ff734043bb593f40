"""The budget arithmetic on hand-checked numbers."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slos.budget import (
    BURN_ALERTS,
    BURN_SPANS,
    DAY_TICKET,
    BudgetStatus,
    HourRow,
    WindowTotals,
    align_to_hour,
    budget_burndown,
    burn_rate,
    burning_alert,
    compute_budget,
    time_to_exhaustion,
    window_hours,
)

WINDOW = timedelta(days=28)


def budget(good, valid, target=0.999, hours=672, window=WINDOW):
    return compute_budget(
        WindowTotals(good=good, valid=valid, hours_with_data=hours, hours_in_window=672),
        target=target,
        window=window,
    )


def test_a_quarter_of_the_budget_spent():
    # 1,000,000 requests at 99.9%: 1,000 bad allowed; 250 bad spent a quarter of it.
    result = budget(999_750, 1_000_000)
    assert result.sli == pytest.approx(0.99975)
    assert result.allowed_bad_events == pytest.approx(1000)
    assert result.bad_events == 250
    assert result.bad_events_left == pytest.approx(750)
    assert result.burn_rate == pytest.approx(0.25)
    assert result.error_budget_remaining == pytest.approx(0.75)
    # 28 days = 40,320 minutes; (SLI − T) = 0.00075 of them = 30.24 minutes.
    assert result.minutes_left == pytest.approx(30.24)
    assert result.status == BudgetStatus.HEALTHY


def test_a_breached_slo_shows_negative_remaining_not_clamped():
    result = budget(997_000, 1_000_000)  # 3,000 bad against 1,000 allowed
    assert result.burn_rate == pytest.approx(3.0)
    assert result.error_budget_remaining == pytest.approx(-2.0)
    assert result.bad_events_left == pytest.approx(-2000)
    assert result.status == BudgetStatus.EXHAUSTED


def test_at_risk_below_a_quarter():
    assert budget(999_200, 1_000_000).status == BudgetStatus.AT_RISK  # 20% left


def test_no_valid_events_is_no_data_never_good():
    result = budget(0, 0, hours=0)
    assert result.status == BudgetStatus.NO_DATA
    assert result.sli is None and result.error_budget_remaining is None
    assert result.coverage == 0


def test_coverage_counts_hours_with_data():
    assert budget(100, 100, hours=336).coverage == 0.5


def test_more_good_than_valid_is_a_data_error():
    assert budget(101, 100).data_error
    assert not budget(100, 100).data_error


def test_burn_rate_and_time_to_exhaustion():
    assert burn_rate(good=990, valid=1000, target=0.99) == pytest.approx(1.0)
    assert burn_rate(good=0, valid=0, target=0.99) is None
    # Half the budget left, burning at 2× over a 28-day window: 7 days to go.
    assert time_to_exhaustion(
        error_budget_remaining=0.5, window=WINDOW, current_burn_rate=2.0
    ) == timedelta(days=7)
    assert (
        time_to_exhaustion(error_budget_remaining=0.5, window=WINDOW, current_burn_rate=0) is None
    )


def test_target_must_be_a_fraction():
    with pytest.raises(ValueError):
        budget(1, 1, target=99.9)


def test_window_hours_are_the_hours_before_the_end():
    end = datetime(2026, 11, 1, tzinfo=UTC)
    hours = window_hours(end, timedelta(days=1))
    assert len(hours) == 24
    assert hours[0] == end - timedelta(days=1) and hours[-1] == end - timedelta(hours=1)
    with pytest.raises(ValueError):
        window_hours(end + timedelta(minutes=5), timedelta(days=1))
    with pytest.raises(ValueError):
        align_to_hour(datetime(2026, 11, 1))


def test_burndown_ends_at_the_window_remaining():
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        HourRow(start + timedelta(hours=index), good, 1000)
        for index, good in enumerate([1000, 998, 1000, 999])
    ]
    points = budget_burndown(rows, target=0.999)
    # 4,000 valid → 4 bad allowed; 2 then 1 bad spent.
    assert [p.error_budget_remaining for p in points] == pytest.approx([1, 0.5, 0.5, 0.25])
    assert points[-1].hour == start + timedelta(hours=4)


@given(
    valid=st.integers(min_value=1, max_value=10**12),
    bad_fraction=st.floats(min_value=0, max_value=1),
    target=st.floats(min_value=0.5, max_value=0.99999),
)
def test_remaining_is_one_minus_the_burn_over_the_window(valid, bad_fraction, target):
    good = valid - round(valid * bad_fraction)
    result = budget(good, valid, target=target)
    assert result.error_budget_remaining == pytest.approx(1 - result.burn_rate)


# --- Burning: the burn table's rule, on hourly windows ---------------------------------

THIRTY_DAYS = timedelta(days=30)


def rates(**by_hours: float | None) -> dict[timedelta, float | None]:
    return {timedelta(hours=int(key[1:])): value for key, value in by_hours.items()}


def test_a_fast_burn_over_the_last_hour_and_six_hours_is_the_first_page():
    # 2% of a 30-day budget in an hour is a burn of 14.4; the short window (5m) is read
    # as the last hour.
    found = burning_alert(rates(h1=14.4, h2=0, h6=6, h24=1, h72=1), window=THIRTY_DAYS)
    assert found == BURN_ALERTS[0]
    assert found.severity == "page"


def test_a_window_below_its_threshold_does_not_fire_even_when_the_other_does():
    assert burning_alert(rates(h1=14.3, h2=0, h6=5.9, h24=2.9, h72=0.9), window=THIRTY_DAYS) is None
    # six hours at 6 (5% of the budget) with the last half hour (read: hour) still at 6
    assert (
        burning_alert(rates(h1=6, h2=0, h6=6, h24=0, h72=0), window=THIRTY_DAYS) == (BURN_ALERTS[1])
    )
    # a day at 3 (10%) but the last two hours calm: the day's ticket does not fire
    assert burning_alert(rates(h1=0, h2=2.9, h6=3, h24=3, h72=0), window=THIRTY_DAYS) is None
    assert burning_alert(rates(h1=0, h2=3, h6=3, h24=3, h72=0), window=THIRTY_DAYS) == (DAY_TICKET)
    # three days at 1 (10%) with the last six hours at 1: the slow ticket
    assert (
        burning_alert(rates(h1=0, h2=0, h6=1, h24=1, h72=1), window=THIRTY_DAYS) == (BURN_ALERTS[3])
    )


def test_thresholds_follow_the_window_and_unknown_rates_never_fire():
    # For a 7-day window, 2% in an hour is a burn of 3.36.
    assert burning_alert(rates(h1=3.4, h6=3.4), window=timedelta(days=7)) == BURN_ALERTS[0]
    assert (
        burning_alert(rates(h1=None, h2=None, h6=None, h24=None, h72=None), window=THIRTY_DAYS)
        is None
    )
    assert burning_alert({}, window=THIRTY_DAYS) is None


def test_little_budget_left_is_not_burning_and_a_budget_burning_fast_is():
    """ "Burning" is how fast the budget goes, not how little is left: an SLO with 10% left
    and a calm day is at risk but not burning."""
    hour, day, three_days = timedelta(hours=1), timedelta(days=1), timedelta(days=3)
    calm = {
        span: WindowTotals(good=1000, valid=1000, hours_with_data=1, hours_in_window=1)
        for span in BURN_SPANS
    }
    spent = compute_budget(
        WindowTotals(good=99_910, valid=100_000, hours_with_data=720, hours_in_window=720),
        target=0.999,
        window=THIRTY_DAYS,
        recent=calm,
    )
    assert spent.status == BudgetStatus.AT_RISK
    assert spent.burning is None

    fast = dict(calm)
    fast[hour] = WindowTotals(good=980, valid=1000, hours_with_data=1, hours_in_window=1)
    fast[timedelta(hours=6)] = WindowTotals(
        good=5_900, valid=6_000, hours_with_data=6, hours_in_window=6
    )
    burning = compute_budget(
        WindowTotals(good=99_990, valid=100_000, hours_with_data=720, hours_in_window=720),
        target=0.999,
        window=THIRTY_DAYS,
        recent=fast,
    )
    assert burning.status == BudgetStatus.HEALTHY
    assert burning.burning == BURN_ALERTS[0]  # 20× over the last hour, 16.7× over six
    assert day in BURN_SPANS and three_days in BURN_SPANS


@given(
    sums=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(0, 10_000)),
        min_size=len(BURN_SPANS),
        max_size=len(BURN_SPANS),
    ),
    target=st.sampled_from([0.9, 0.99, 0.999, 0.9995]),
)
def test_burn_rates_given_are_the_rates_of_the_sums_given(sums, target):
    """A caller with the burn table's rates worked out (the list of a thousand SLOs)
    gets the budget it would get from the sums."""
    recent = {
        span: WindowTotals(good=min(good, valid), valid=valid, hours_with_data=1, hours_in_window=1)
        for span, (good, valid) in zip(BURN_SPANS, sums, strict=True)
    }
    rates = {
        span: burn_rate(good=found.good, valid=found.valid, target=target)
        for span, found in recent.items()
    }
    totals = WindowTotals(good=99_900, valid=100_000, hours_with_data=720, hours_in_window=720)
    from_sums = compute_budget(totals, target=target, window=WINDOW, recent=recent)
    from_rates = compute_budget(totals, target=target, window=WINDOW, burn_rates=rates)
    assert from_rates == from_sums
