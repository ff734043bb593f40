from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import utc
from toil.models import Effort
from toil.scoring import (
    EFFORT_POINTS,
    ScoreFactors,
    age_weeks,
    compute_score,
    effort_points,
    slo_risk_from_budget,
)


def factors(**overrides) -> ScoreFactors:
    values = dict(
        impact=2, likelihood=3, toil_relief=1, slo_risk=2, effort_points=3, age_weeks=13.0
    )
    return ScoreFactors(**{**values, **overrides})


def test_the_worked_example_from_the_design():
    breakdown = compute_score(factors())
    # (2×3 + 1 + 2) / 3 × (1 + 13/26)
    assert breakdown.cost_of_delay == 9
    assert breakdown.age_factor == pytest.approx(1.5)
    assert breakdown.score == pytest.approx(4.5)


def test_a_new_item_has_no_age_bonus():
    breakdown = compute_score(factors(impact=3, likelihood=3, toil_relief=3, age_weeks=0))
    assert breakdown.age_factor == 1
    assert breakdown.score == pytest.approx((9 + 3 + 2) / 3)


@pytest.mark.parametrize(("weeks", "age_factor"), [(26, 2.0), (52, 2.0), (520, 2.0)])
def test_the_age_factor_caps_at_double(weeks, age_factor):
    breakdown = compute_score(factors(age_weeks=weeks))
    assert breakdown.age_factor == age_factor
    assert breakdown.score == pytest.approx(9 / 3 * 2)


def test_nothing_at_stake_scores_zero_however_old():
    breakdown = compute_score(
        factors(impact=0, likelihood=3, toil_relief=0, slo_risk=0, age_weeks=100)
    )
    assert breakdown.score == 0


@pytest.mark.parametrize(
    ("remaining", "risk"),
    [
        (None, 0),
        (1.0, 0),
        (0.51, 0),
        (0.5, 1),
        (0.25, 1),
        (0.2499, 2),
        (0.01, 2),
        (0.0, 3),
        (-0.4, 3),
    ],
)
def test_slo_risk_follows_the_remaining_budget(remaining, risk):
    assert slo_risk_from_budget(remaining) == risk


@pytest.mark.parametrize(("size", "points"), [("XS", 1), ("S", 2), ("M", 3), ("L", 5), ("XL", 8)])
def test_effort_points(size, points):
    assert effort_points(size) == points


def test_every_effort_choice_has_points():
    assert set(Effort.values) == set(EFFORT_POINTS)


def test_age_in_weeks():
    created = utc(2025, 1, 6, 9)
    assert age_weeks(created, created + timedelta(weeks=13)) == 13
    assert age_weeks(created, created + timedelta(days=3, hours=12)) == 0.5


def test_an_item_from_the_future_is_zero_weeks_old():
    assert age_weeks(utc(2025, 1, 8), utc(2025, 1, 1)) == 0


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        age_weeks(datetime(2025, 1, 1), utc(2025, 1, 8))


@pytest.mark.parametrize(
    "overrides",
    [{"impact": 4}, {"likelihood": -1}, {"slo_risk": 4}, {"effort_points": 0}, {"age_weeks": -1}],
)
def test_out_of_range_factors_are_refused(overrides):
    with pytest.raises(ValueError):
        factors(**overrides)


factor = st.integers(min_value=0, max_value=3)
any_factors = st.builds(
    ScoreFactors,
    impact=factor,
    likelihood=factor,
    toil_relief=factor,
    slo_risk=factor,
    effort_points=st.sampled_from(sorted(EFFORT_POINTS.values())),
    age_weeks=st.floats(min_value=0, max_value=1000, allow_nan=False),
)


@given(any_factors, st.floats(min_value=0, max_value=100, allow_nan=False))
def test_an_item_never_sinks_as_it_ages(base, extra_weeks):
    older = replace(base, age_weeks=base.age_weeks + extra_weeks)
    assert compute_score(older).score >= compute_score(base).score


@given(any_factors)
def test_the_score_stays_within_its_bounds(base):
    breakdown = compute_score(base)
    assert 1 <= breakdown.age_factor <= 2
    assert 0 <= breakdown.score <= (3 * 3 + 3 + 3) / 1 * 2


@given(any_factors, st.sampled_from(["impact", "likelihood", "toil_relief", "slo_risk"]))
def test_more_risk_never_lowers_the_score(base, name):
    raised = replace(base, **{name: min(getattr(base, name) + 1, 3)})
    assert compute_score(raised).score >= compute_score(base).score
