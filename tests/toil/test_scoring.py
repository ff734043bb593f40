from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import utc
from toil.models import Effort
from toil.scoring import (
    DEFAULT_WEIGHTS,
    EFFORT_POINTS,
    Rankable,
    ScoreFactors,
    Weights,
    age_weeks,
    compute_score,
    effort_points,
    rank,
    rank_moves,
    slo_risk_from_budget,
    toil_relief_from_hours,
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


# Team weights ---------------------------------------------------------------------------


def test_default_weights_are_the_design_formula():
    assert DEFAULT_WEIGHTS == Weights()
    assert compute_score(factors(), DEFAULT_WEIGHTS) == compute_score(factors())


def test_weights_scale_each_term_as_documented():
    weights = Weights(
        impact_likelihood=Decimal("2"),
        toil_relief=Decimal("0.5"),
        slo_risk=Decimal("3"),
        age=Decimal("0.5"),
        age_horizon_weeks=13,
    )
    breakdown = compute_score(factors(), weights)
    # 2×(2×3) + 0.5×1 + 3×2 = 18.5; age factor 1 + 0.5 × min(13/13, 1) = 1.5; effort 3
    assert breakdown.cost_of_delay == pytest.approx(18.5)
    assert breakdown.age_factor == pytest.approx(1.5)
    assert breakdown.score == pytest.approx(18.5 / 3 * 1.5)


def test_a_zero_weight_switches_a_factor_off():
    weights = Weights(slo_risk=Decimal(0), age=Decimal(0))
    at_risk = compute_score(factors(slo_risk=3, age_weeks=50), weights)
    calm = compute_score(factors(slo_risk=0, age_weeks=0), weights)
    assert at_risk.score == calm.score


@pytest.mark.parametrize(
    "overrides",
    [
        {"impact_likelihood": Decimal("-0.1")},
        {"slo_risk": Decimal("5.1")},
        {"age_horizon_weeks": 0},
        {"age_horizon_weeks": 261},
    ],
)
def test_out_of_range_weights_are_refused(overrides):
    with pytest.raises(ValueError):
        Weights(**overrides)


@pytest.mark.parametrize(
    ("hours", "relief"),
    [
        (Decimal(0), 0),
        (Decimal("0.1"), 1),
        (Decimal("1.9"), 1),
        (Decimal(2), 2),
        (Decimal(8), 2),
        (Decimal("8.1"), 3),
        (Decimal(1000), 3),
    ],
)
def test_toil_relief_from_the_hours_removed_each_month(hours, relief):
    assert toil_relief_from_hours(hours) == relief


def test_negative_toil_hours_are_refused():
    with pytest.raises(ValueError):
        toil_relief_from_hours(Decimal(-1))


any_weight = st.decimals(min_value=0, max_value=5, places=1)
any_weights = st.builds(
    Weights,
    impact_likelihood=any_weight,
    toil_relief=any_weight,
    slo_risk=any_weight,
    age=any_weight,
    age_horizon_weeks=st.integers(min_value=1, max_value=260),
)


@given(
    any_factors, any_weights, st.sampled_from(["impact", "likelihood", "toil_relief", "slo_risk"])
)
def test_with_any_weights_more_of_a_factor_never_lowers_the_score(base, weights, name):
    raised = replace(base, **{name: min(getattr(base, name) + 1, 3)})
    assert compute_score(raised, weights).score >= compute_score(base, weights).score


@given(any_factors, any_weights, st.floats(min_value=0, max_value=100, allow_nan=False))
def test_with_any_weights_the_score_is_never_negative_and_age_is_bounded(base, weights, extra):
    older = replace(base, age_weeks=base.age_weeks + extra)
    young, old = compute_score(base, weights), compute_score(older, weights)
    assert young.score >= 0
    assert old.score >= young.score
    assert 1 <= old.age_factor <= 1 + float(weights.age)


@given(any_factors, any_weights)
def test_a_bigger_item_never_outranks_the_same_item_smaller(base, weights):
    bigger = replace(base, effort_points=base.effort_points + 1)
    assert compute_score(bigger, weights).score <= compute_score(base, weights).score


# Ranking -------------------------------------------------------------------------------


def test_pinned_items_come_first_in_the_order_they_were_pinned():
    day = utc(2026, 11, 2)
    items = [
        Rankable("top score", 9.0, day),
        Rankable("pinned second", 0.5, day, pinned_at=day + timedelta(hours=2)),
        Rankable("middle", 4.0, day),
        Rankable("pinned first", 0.1, day, pinned_at=day + timedelta(hours=1)),
    ]
    assert rank(items) == ["pinned first", "pinned second", "top score", "middle"]


def test_on_a_tie_the_older_item_ranks_higher():
    day = utc(2026, 11, 2)
    items = [Rankable("new", 3.0, day), Rankable("old", 3.0, day - timedelta(days=30))]
    assert rank(items) == ["old", "new"]


def test_rank_moves_counts_places_up_and_down():
    assert rank_moves(["a", "b", "c", "d"], ["c", "a", "b", "d"]) == {"c": 2, "a": -1, "b": -1}
    assert rank_moves(["a", "b"], ["a", "b"]) == {}


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=30))
def test_unpinned_ranking_is_by_score(scores):
    day = utc(2026, 11, 2)
    items = [Rankable(index, score, day) for index, score in enumerate(scores)]
    ranked_scores = [scores[key] for key in rank(items)]
    assert ranked_scores == sorted(scores, reverse=True)
