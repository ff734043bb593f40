"""The backlog priority score. Pure: plain values in, frozen dataclasses out, no ORM and
no clock. See DESIGN.md ("Reliability backlog and the priority score"):

    cost_of_delay = impact × likelihood + toil_relief + slo_risk
    score         = cost_of_delay / effort_points × (1 + min(age_weeks / 26, 1))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

FACTOR_MAX = 3
AGE_HORIZON_WEEKS = 26
EFFORT_POINTS: Mapping[str, int] = MappingProxyType({"XS": 1, "S": 2, "M": 3, "L": 5, "XL": 8})


@dataclass(frozen=True)
class ScoreFactors:
    impact: int
    likelihood: int
    toil_relief: int
    slo_risk: int
    effort_points: int
    age_weeks: float

    def __post_init__(self) -> None:
        for name in ("impact", "likelihood", "toil_relief", "slo_risk"):
            if not 0 <= getattr(self, name) <= FACTOR_MAX:
                raise ValueError(f"{name} must be between 0 and {FACTOR_MAX}")
        if self.effort_points <= 0:
            raise ValueError("effort_points must be positive")
        if self.age_weeks < 0:
            raise ValueError("age_weeks cannot be negative")


@dataclass(frozen=True)
class ScoreBreakdown:
    factors: ScoreFactors
    cost_of_delay: int
    age_factor: float
    score: float


def effort_points(size: str) -> int:
    return EFFORT_POINTS[size]


def slo_risk_from_budget(error_budget_remaining: float | None) -> int:
    """0 above 50% left, 1 for 25–50%, 2 below 25% (the SLO is "at risk"), 3 once
    exhausted. No linked SLO, or no data in its window, carries no risk."""
    if error_budget_remaining is None:
        return 0
    if error_budget_remaining <= 0:
        return 3
    if error_budget_remaining < 0.25:
        return 2
    if error_budget_remaining <= 0.5:
        return 1
    return 0


def age_weeks(created_at: datetime, now: datetime) -> float:
    """Weeks since creation; never negative, so clock skew cannot lower a score."""
    if created_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("naive datetime: every time in the portal is aware")
    return max(now - created_at, timedelta(0)) / timedelta(weeks=1)


def compute_score(
    factors: ScoreFactors, *, age_horizon_weeks: float = AGE_HORIZON_WEEKS
) -> ScoreBreakdown:
    cost_of_delay = factors.impact * factors.likelihood + factors.toil_relief + factors.slo_risk
    # Items without a deadline rise with age, up to double, instead of rotting.
    age_factor = 1 + min(factors.age_weeks / age_horizon_weeks, 1)
    return ScoreBreakdown(
        factors=factors,
        cost_of_delay=cost_of_delay,
        age_factor=age_factor,
        score=cost_of_delay / factors.effort_points * age_factor,
    )
