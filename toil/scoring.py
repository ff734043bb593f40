"""The backlog priority score and the ranking. Pure: plain values in, frozen dataclasses
out, no ORM and no clock. See DESIGN.md ("Reliability backlog and the priority score").
With a team's weights (all 1 and a 26-week horizon by default, which is DESIGN.md's
formula exactly):

    cost_of_delay = w_risk × impact × likelihood + w_toil × toil_relief + w_slo × slo_risk
    age_factor    = 1 + w_age × min(age_weeks / age_horizon_weeks, 1)
    score         = cost_of_delay / effort_points × age_factor
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

FACTOR_MAX = 3
AGE_HORIZON_WEEKS = 26
EFFORT_POINTS: Mapping[str, int] = MappingProxyType({"XS": 1, "S": 2, "M": 3, "L": 5, "XL": 8})

# A weight scales its term; 0 switches a factor off, 5 makes it dominate. The bounds keep
# a score readable and let a form say what it accepts.
WEIGHT_MIN, WEIGHT_MAX = Decimal("0"), Decimal("5")
HORIZON_MIN_WEEKS, HORIZON_MAX_WEEKS = 1, 260

# Toil relief from the hours of toil an item removes each month: 0 / under 2 / 2–8 / over 8.
TOIL_RELIEF_STEPS_HOURS = (Decimal("0"), Decimal("2"), Decimal("8"))
# A month of toil hours an item can claim to remove: more than a full-time person's month
# is a typo, and the bound keeps the field's arithmetic far from any overflow.
TOIL_HOURS_MAX = Decimal("1000")


@dataclass(frozen=True)
class Weights:
    impact_likelihood: Decimal = Decimal(1)
    toil_relief: Decimal = Decimal(1)
    slo_risk: Decimal = Decimal(1)
    age: Decimal = Decimal(1)
    age_horizon_weeks: int = AGE_HORIZON_WEEKS

    def __post_init__(self) -> None:
        for name in ("impact_likelihood", "toil_relief", "slo_risk", "age"):
            if not WEIGHT_MIN <= Decimal(getattr(self, name)) <= WEIGHT_MAX:
                raise ValueError(f"the weight {name} must be between {WEIGHT_MIN} and {WEIGHT_MAX}")
        if not HORIZON_MIN_WEEKS <= self.age_horizon_weeks <= HORIZON_MAX_WEEKS:
            raise ValueError(
                f"the age horizon must be between {HORIZON_MIN_WEEKS} and {HORIZON_MAX_WEEKS} weeks"
            )

    def as_dict(self) -> dict[str, str | int]:
        """JSON-ready, for the record of a change."""
        return {
            name: value if isinstance(value, int) else str(value)
            for name, value in asdict(self).items()
        }


DEFAULT_WEIGHTS = Weights()


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
    cost_of_delay: float
    age_factor: float
    score: float


def effort_points(size: str) -> int:
    return EFFORT_POINTS[size]


def toil_relief_from_hours(hours_per_month: Decimal | float) -> int:
    """0 for no toil removed, 1 under 2 hours a month, 2 for 2–8 hours, 3 above 8."""
    if hours_per_month < 0:
        raise ValueError("toil hours cannot be negative")
    none, low, high = TOIL_RELIEF_STEPS_HOURS
    if hours_per_month <= none:
        return 0
    if hours_per_month < low:
        return 1
    if hours_per_month <= high:
        return 2
    return 3


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


def compute_score(factors: ScoreFactors, weights: Weights = DEFAULT_WEIGHTS) -> ScoreBreakdown:
    cost_of_delay = (
        float(weights.impact_likelihood) * factors.impact * factors.likelihood
        + float(weights.toil_relief) * factors.toil_relief
        + float(weights.slo_risk) * factors.slo_risk
    )
    # Items without a deadline rise with age (up to double by default) instead of rotting.
    age_factor = 1 + float(weights.age) * min(factors.age_weeks / weights.age_horizon_weeks, 1)
    return ScoreBreakdown(
        factors=factors,
        cost_of_delay=cost_of_delay,
        age_factor=age_factor,
        score=cost_of_delay / factors.effort_points * age_factor,
    )


@dataclass(frozen=True)
class Rankable:
    """What the ranking needs of an item: pinned items come first, in the order they
    were pinned; the rest by score, older first on a tie, then by id."""

    key: Hashable
    score: float
    created_at: datetime
    pinned_at: datetime | None = None


def rank(items: Sequence[Rankable]) -> list[Hashable]:
    """The keys of `items` in ranking order."""
    pinned = sorted(
        (item for item in items if item.pinned_at is not None),
        key=lambda item: (item.pinned_at, str(item.key)),
    )
    unpinned = sorted(
        (item for item in items if item.pinned_at is None),
        key=lambda item: (-item.score, item.created_at, str(item.key)),
    )
    return [item.key for item in [*pinned, *unpinned]]


def rank_moves(before: Sequence[Hashable], after: Sequence[Hashable]) -> dict[Hashable, int]:
    """How many places each key moves from `before` to `after`: positive is up the
    ranking. Keys that do not move are left out."""
    old_place = {key: place for place, key in enumerate(before)}
    moves = {}
    for place, key in enumerate(after):
        if key in old_place and old_place[key] != place:
            moves[key] = old_place[key] - place
    return moves
