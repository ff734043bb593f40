"""The top of the ranking read through the database (toil.selectors.ranking_top) is the
top of the whole ranking (ranked_backlog): the score expression in SQL equals the pure
toil.scoring.compute_score, and the candidates it keeps hold every item of the top,
whatever the items, SLO budgets, pins and weights."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toil.selectors
from slos.registry.budget_sums import kept_sums_forget
from slos.registry.selectors import slo_budgets
from tests.conftest import NOTHING_KEPT, utc
from tests.factories import BudgetPolicyStepFactory, HourlyBucketFactory, SLOFactory
from toil import services
from toil.models import BacklogItem, score_expression, slo_risk_expression
from toil.scoring import (
    EFFORT_POINTS,
    ScoreFactors,
    Weights,
    age_weeks,
    compute_score,
    effort_points,
    slo_risk_from_budget,
    toil_relief_from_hours,
)
from toil.selectors import ranked_backlog, ranking_top

NOW = utc(2026, 12, 2, 3, 30)
# Remaining budget of each SLO: its slo_risk is 0, 1, 2, 3; the last has no data (0).
REMAINING = (0.9, 0.4, 0.1, -0.5, None)

weights_strategy = st.builds(
    Weights,
    impact_likelihood=st.integers(0, 50).map(lambda tenths: Decimal(tenths) / 10),
    toil_relief=st.integers(0, 50).map(lambda tenths: Decimal(tenths) / 10),
    slo_risk=st.integers(0, 50).map(lambda tenths: Decimal(tenths) / 10),
    age=st.integers(0, 50).map(lambda tenths: Decimal(tenths) / 10),
    age_horizon_weeks=st.integers(1, 260),
)
item_strategy = st.fixed_dictionaries(
    {
        "impact": st.integers(0, 3),
        "likelihood": st.integers(0, 3),
        "toil_hours_per_month": st.sampled_from(
            [Decimal(v) for v in ("0", "0.5", "1.9", "2", "8", "8.1", "40")]
        ),
        "effort": st.sampled_from(sorted(EFFORT_POINTS)),
        # Hours back, from a few seconds in the future (clock skew) to two years; a few
        # values, so ties of score and age happen.
        "age_hours": st.one_of(st.sampled_from([-1, 0, 24, 168]), st.integers(-1, 17_520)),
        "slo": st.one_of(st.none(), st.integers(0, len(REMAINING) - 1)),
        "pinned": st.integers(0, 7).map(lambda draw: draw == 0),  # a few pins
        "status": st.sampled_from(["proposed", "ready", "in_progress", "ready", "done"]),
    }
)
hypothesis_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def slos(service, data_source):
    found = []
    for remaining in REMAINING:
        slo = SLOFactory(service=service, data_source=data_source, target=Decimal("99.9"))
        if remaining is not None:
            valid = 100_000.0
            bad = (1 - remaining) * (1 - slo.target_fraction) * valid
            HourlyBucketFactory(
                slo=slo,
                hour=NOW.replace(minute=0) - timedelta(hours=2),
                good=valid - bad,
                valid=valid,
            )
        found.append(slo)
    # A freeze in force on the exhausted SLO, one not reached on the healthy one.
    BudgetPolicyStepFactory(slo=found[3], below_percent=Decimal(25), freezes_releases=True)
    BudgetPolicyStepFactory(slo=found[0], below_percent=Decimal(25), freezes_releases=True)
    budgets = slo_budgets([slo.pk for slo in found], at=NOW)
    assert [slo_risk_from_budget(budgets[slo.pk].error_budget_remaining) for slo in found] == [
        0,
        1,
        2,
        3,
        0,
    ]
    return found


def _make(team, slos, specs) -> list[BacklogItem]:
    return BacklogItem.objects.bulk_create(
        BacklogItem(
            team=team,
            title=f"Item {index}",
            kind="toil",
            impact=spec["impact"],
            likelihood=spec["likelihood"],
            toil_hours_per_month=spec["toil_hours_per_month"],
            effort=spec["effort"],
            status=spec["status"],
            slo=slos[spec["slo"]] if spec["slo"] is not None else None,
            created_at=NOW - timedelta(hours=spec["age_hours"]),
            pinned_at=NOW - timedelta(minutes=index) if spec["pinned"] else None,
            pinned_reason="Pinned" if spec["pinned"] else "",
        )
        for index, spec in enumerate(specs)
    )


@given(
    specs=st.lists(item_strategy, min_size=1, max_size=12),
    weights=weights_strategy,
    risks=st.lists(st.integers(0, 3), min_size=len(REMAINING), max_size=len(REMAINING)),
)
@hypothesis_settings
def test_the_score_in_sql_is_the_pure_score(team, slos, specs, weights, risks):
    items = _make(team, slos, specs)
    try:
        risk_of = {slo.pk: risk for slo, risk in zip(slos, risks, strict=True)}
        found = dict(
            BacklogItem.objects.filter(team=team)
            .annotate(
                score=score_expression(
                    weights=weights, at=NOW, slo_risk=slo_risk_expression(risk_of)
                )
            )
            .values_list("pk", "score")
        )
        for item in items:
            pure = compute_score(
                ScoreFactors(
                    impact=item.impact,
                    likelihood=item.likelihood,
                    toil_relief=toil_relief_from_hours(item.toil_hours_per_month),
                    slo_risk=risk_of.get(item.slo_id, 0),
                    effort_points=effort_points(item.effort),
                    age_weeks=age_weeks(item.created_at, NOW),
                ),
                weights,
            )
            assert math.isclose(found[item.pk], pure.score, rel_tol=1e-9, abs_tol=1e-9)
    finally:
        BacklogItem.objects.all().delete()


def _comparable(rows):
    return [
        (row.item.pk, row.place, row.breakdown, row.slo_budget, row.frozen, row.size_hours)
        for row in rows
    ]


@given(
    # More items than the top holds, mostly: the floor then leaves some out.
    specs=st.lists(item_strategy, min_size=1, max_size=30),
    weights=weights_strategy,
    count=st.integers(1, 4),
)
@hypothesis_settings
def test_the_top_read_in_the_database_is_the_top_of_the_whole_ranking(
    team, owner, slos, specs, weights, count
):
    _make(team, slos, specs)
    try:
        services.backlog_settings_update(
            team=team,
            by=owner,
            at=NOW,
            weight_impact_likelihood=weights.impact_likelihood,
            weight_toil_relief=weights.toil_relief,
            weight_slo_risk=weights.slo_risk,
            weight_age=weights.age,
            age_horizon_weeks=weights.age_horizon_weeks,
        )
        whole = ranked_backlog(BacklogItem.objects.filter(team=team), at=NOW, with_hours=True)
        top = ranking_top(team, at=NOW, count=count)
        pinned = sum(1 for spec in specs if spec["pinned"] and spec["status"] != "done")
        assert top.open_items == len(whole)
        assert len(top.rows) == min(pinned + count, len(whole))
        assert _comparable(top.rows) == _comparable(whole[: len(top.rows)])
    finally:
        BacklogItem.objects.all().delete()


def test_only_the_budgets_of_slos_that_can_reach_the_top_are_read(
    team, slos, django_assert_num_queries, monkeypatch
):
    """Items far below the top on an SLO: their SLO's budget is not asked for."""
    asked = []
    real = toil.selectors.slo_budgets

    def spy(slo_ids, *, at):
        asked.append(set(slo_ids))
        return real(slo_ids, at=at)

    monkeypatch.setattr(toil.selectors, "slo_budgets", spy)
    specs = [
        dict(impact=3, likelihood=3, effort="XS", slo=3),  # the top, on the exhausted SLO
        dict(impact=3, likelihood=3, effort="XS", slo=None),
        dict(impact=0, likelihood=0, effort="XL", slo=1),  # at most 3 / 8 × 2: far below
    ]
    base = dict(toil_hours_per_month=Decimal(0), age_hours=0, pinned=False, status="ready")
    _make(team, slos, [{**base, **spec} for spec in specs])
    # settings, candidates, budgets (SLOs, exclusions, sums), rows with their hours,
    # freeze steps; with no budget kept from an earlier read
    kept_sums_forget()
    with django_assert_num_queries(7 + NOTHING_KEPT):
        top = ranking_top(team, at=NOW, count=2)
    assert asked == [{slos[3].pk}]
    assert [row.breakdown.factors.slo_risk for row in top.rows] == [3, 0]
    assert top.rows[0].frozen and top.open_items == 3
