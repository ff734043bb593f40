"""Since when an SLO has burned (slos.burn_spell), on hand-made hours.

Every case: a 99.9% target (error budget 0.001) over a 30-day window, so the burn
table's thresholds are those of the SRE Workbook: 14.4 for the 1h/5m page, 6 for the
6h/30m page, 3 for the 1d/2h ticket and 1 for the 3d/6h ticket. An hour of 1,000 events
with k bad burns at k (k/1000 / 0.001)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from slos.budget import BURN_ALERTS, HOUR, burning_alert
from slos.burn_spell import LOOK_BACK, BurnSpell, burning_since, first_hour_read
from tests.conftest import utc

END = utc(2026, 11, 10, 12)
WINDOW = timedelta(days=30)
TARGET = 0.999
FAST_PAGE, SLOW_PAGE, DAY_TICKET, THREE_DAY_TICKET = BURN_ALERTS


def hours_back(bad_by_hours_back: dict[int, int], *, start: int = 300, bad: int = 0) -> dict:
    """1,000 events an hour for `start` hours before END, `bad` of them bad unless
    `bad_by_hours_back` says otherwise for the hour that many hours back (1: the last
    complete hour, [END − 1h, END))."""
    return {
        END - HOUR * back: (1000.0 - bad_by_hours_back.get(back, bad), 1000.0)
        for back in range(1, start + 1)
    }


def since(hours: dict, alert=FAST_PAGE, **kwargs) -> BurnSpell | None:
    return burning_since(hours, end=END, target=TARGET, alert=alert, window=WINDOW, **kwargs)


def test_one_bad_hour_fires_the_fast_page_since_that_hour():
    # 20 bad of 1,000 in the last hour: burn 20 ≥ 14.4 over 1h (and "5m" read as 1h).
    # An hour earlier, the window held only good hours.
    assert since(hours_back({1: 20})) == BurnSpell(since=END - HOUR)


def test_the_spell_starts_at_the_first_hour_that_made_the_row_fire():
    # Bad for the last three hours: the 1h window fired at the end of each of them.
    assert since(hours_back({1: 20, 2: 20, 3: 20})) == BurnSpell(since=END - 3 * HOUR)


def test_a_break_in_the_burn_ends_the_walk():
    # Bad 1–2 and 4–6 hours back; hour 3 was clean, so the 1h window ending 2h ago did
    # not fire: the current spell is the last two hours only.
    hours = hours_back({1: 20, 2: 20, 3: 0, 4: 20, 5: 20, 6: 20})
    assert since(hours) == BurnSpell(since=END - 2 * HOUR)


def test_not_firing_now_is_none():
    assert since(hours_back({2: 20, 3: 20})) is None
    # 14 is below the 14.4 threshold.
    assert since(hours_back({1: 14})) is None


def test_the_long_window_keeps_a_slow_page_firing_after_the_bad_hours():
    # The 6h/30m page (threshold 6): 7 bad in each of the last two hours, 40 in the one
    # before, clean before that. Windows ending k hours back:
    #   k=0: 6h holds 7 + 7 + 40 = 54 of 6,000 → 9; 1h ("30m") 7 → both ≥ 6, fires;
    #   k=1: 6h 7 + 40 = 47 → 7.8; 1h 7 → fires;
    #   k=2: 6h 40 → 6.7; 1h 40 → fires;
    #   k=3: 1h holds a clean hour → does not fire. The first hour: 3 hours back.
    hours = hours_back({1: 7, 2: 7, 3: 40})
    assert since(hours, alert=SLOW_PAGE) == BurnSpell(since=END - 3 * HOUR)
    # The fast page (14.4) would not fire on 7 in the last hour.
    assert since(hours) is None


def test_a_three_day_ticket_spell_walks_back_over_the_days():
    # The 3d/6h ticket (threshold 1): 1.25 bad a thousand (burn 1.25) for the last 50
    # hours, clean before. The 3d window ending now holds 50 burning hours of 72:
    # 1.25 × 50 / 72 = 0.87 < 1, so the row does not fire.
    burning = (998.75, 1000.0)
    hours = hours_back({})
    hours.update({END - HOUR * back: burning for back in range(1, 51)})
    assert since(hours, alert=THREE_DAY_TICKET) is None
    # Burning for the last 70 hours: the 3d window ending k hours back holds 70 − k
    # burning hours, and 1.25 × (70 − k) / 72 ≥ 1 while k ≤ 12 (the 6h window burns 1.25
    # all along). It fired first at the end of the hour starting 13 hours back.
    hours.update({END - HOUR * back: burning for back in range(51, 71)})
    assert since(hours, alert=THREE_DAY_TICKET) == BurnSpell(since=END - 13 * HOUR)


def test_hours_without_data_are_no_data_not_good():
    # The hour 2 back has no row; hour 3 back was bad. The 1h window ending 1h ago holds
    # no events: no burn rate, so it does not fire, and the spell is the last hour.
    hours = hours_back({1: 20, 3: 20})
    del hours[END - 2 * HOUR]
    assert since(hours) == BurnSpell(since=END - HOUR)
    # No data at all in the last hour: nothing fires now.
    hours = hours_back({2: 20})
    del hours[END - HOUR]
    assert since(hours) is None


def test_beyond_the_look_back_says_longer():
    # Burning every hour for ten days, a look-back of seven: more than a week.
    hours = hours_back({}, start=400, bad=20)
    assert since(hours) == BurnSpell(since=END - LOOK_BACK, longer=True)
    # Burning for exactly the look-back (7 × 24 hours): the spell is found, seven days.
    hours = hours_back({}, start=400, bad=20)
    hours.update({END - HOUR * back: (1000.0, 1000.0) for back in range(169, 401)})
    assert since(hours) == BurnSpell(since=END - LOOK_BACK)


def test_a_shorter_look_back():
    hours = hours_back({}, start=100, bad=20)
    assert since(hours, look_back=timedelta(hours=5)) == BurnSpell(
        since=END - timedelta(hours=5), longer=True
    )


def test_the_walk_agrees_with_the_budget_on_what_fires_now():
    # The row burning_alert picks at END is the one the walk is asked about: at END the
    # walk's test is the same as the budget's.
    hours = hours_back({1: 20, 2: 20})
    rates = {}
    for span in (HOUR, 2 * HOUR, 6 * HOUR, 24 * HOUR, 72 * HOUR):
        count = int(span / HOUR)
        bad = sum(1000.0 - hours[END - HOUR * back][0] for back in range(1, count + 1))
        rates[span] = (bad / (1000.0 * count)) / (1 - TARGET)
    assert burning_alert(rates, window=WINDOW) is FAST_PAGE
    assert since(hours) == BurnSpell(since=END - 2 * HOUR)


def test_the_first_hour_read_covers_the_longest_window_and_the_look_back():
    assert first_hour_read(end=END) == END - LOOK_BACK - timedelta(days=3)


def test_end_must_be_on_the_hour():
    with pytest.raises(ValueError):
        burning_since(
            {}, end=END + timedelta(minutes=5), target=TARGET, alert=FAST_PAGE, window=WINDOW
        )
