"""Reads of the PM's plan page: the team's whole ranking, its capacity this week and the
last eight, what fits, and the recent changes of its weights. A fixed number of queries
whatever the number of items; filtering happens on the ranking in memory, so a filtered
item keeps its place in the full ranking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.core.exceptions import FieldDoesNotExist

from portal.models import Team
from toil.models import BacklogItem, BacklogSettings, BacklogSettingsChange, ReservedMode
from toil.scoring import Weights
from toil.selectors import Capacity, RankedItem, backlog_settings, capacity, ranked_backlog

RECENT_CHANGES = 10
NEXT_UP = 5
# A filter value for "no owner" / "no SLO" beside the ids.
NONE = "none"


@dataclass(frozen=True)
class PlanFilters:
    """Empty strings filter nothing; `owner` and `slo` are an id or NONE."""

    kind: str = ""
    status: str = ""
    owner: str = ""
    slo: str = ""

    @property
    def active(self) -> bool:
        return any((self.kind, self.status, self.owner, self.slo))

    def keeps(self, item: BacklogItem) -> bool:
        return (
            (not self.kind or item.kind == self.kind)
            and (not self.status or item.status == self.status)
            and _matches(self.owner, item.owner_id)
            and _matches(self.slo, item.slo_id)
        )


def _matches(wanted: str, found: int | None) -> bool:
    if not wanted:
        return True
    if wanted == NONE:
        return found is None
    return found is not None and str(found) == wanted


@dataclass(frozen=True)
class PlanRow:
    ranked: RankedItem
    fits: bool  # among the items that fit this week's hours left
    # The cut-off line is drawn just above this row (the first shown row at or below it).
    cut_above: bool = False


@dataclass(frozen=True)
class Cut:
    """Where the week's line is drawn: the first item that does not fit."""

    row: RankedItem
    hours_left: Decimal  # what is left once the items above it are planned


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class SettingsChangeView:
    change: BacklogSettingsChange
    fields: list[FieldChange]


@dataclass(frozen=True)
class PlanPage:
    team: Team
    settings: BacklogSettings
    ranked: list[RankedItem]  # the whole open ranking
    capacity: Capacity
    changes: list[SettingsChangeView]

    @property
    def weights(self) -> Weights:
        return self.settings.weights()

    @cached_property
    def fitting(self) -> list[RankedItem]:
        keys = set(self.capacity.fit.fitting)
        return [row for row in self.ranked if row.item.pk in keys]

    @cached_property
    def next_up(self) -> list[PlanRow]:
        """The top of the ranking: what the team works on next, marked where it fits this
        week's hours and where the line falls."""
        return self.rows(PlanFilters(), limit=NEXT_UP)

    # Cached: the page asks for these several times, and each walks thousands of rows.
    @cached_property
    def cut(self) -> Cut | None:
        fit = self.capacity.fit
        if fit.cut_at is None or not self.capacity.reserved_hours:
            return None  # with nothing reserved there is no week to draw a line in
        row = next(row for row in self.ranked if row.item.pk == fit.cut_at)
        return Cut(row=row, hours_left=fit.hours_left - fit.hours_planned)

    def rows(self, filters: PlanFilters, *, limit: int | None = None) -> list[PlanRow]:
        """The ranking's rows that `filters` keeps, each at its place in the whole ranking;
        the first `limit` of them when given."""
        fitting = set(self.capacity.fit.fitting)
        cut = self.cut
        cut_place = cut.row.place if cut is not None else None
        rows, cut_drawn = [], False
        for row in self.ranked:
            if not filters.keeps(row.item):
                continue
            cut_above = cut_place is not None and not cut_drawn and row.place >= cut_place
            cut_drawn = cut_drawn or cut_above
            rows.append(PlanRow(ranked=row, fits=row.item.pk in fitting, cut_above=cut_above))
            if limit is not None and len(rows) == limit:
                break
        return rows

    def owners(self) -> list[tuple[int, str]]:
        """The owners of open items, for the filter: (id, name), by name."""
        found = {row.item.owner.pk: row.item.owner.get_username() for row in self._owned()}
        return sorted(found.items(), key=lambda pair: pair[1].casefold())

    def slos(self) -> list[tuple[int, str]]:
        """The SLOs open items link to, for the filter: (id, "service / SLO")."""
        found = {
            row.item.slo.pk: f"{row.item.slo.service.name} / {row.item.slo.name}"
            for row in self.ranked
            if row.item.slo is not None
        }
        return sorted(found.items(), key=lambda pair: pair[1].casefold())

    def _owned(self) -> list[RankedItem]:
        return [row for row in self.ranked if row.item.owner is not None]


def _settings_label(field: str) -> str:
    try:
        return str(BacklogSettings._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # a field since removed: its stored name still reads
        return field


def _settings_value(field: str, value: object) -> str:
    if field == "reserved_mode" and value in ReservedMode.values:
        return str(ReservedMode(value).label)
    return "" if value is None else str(value)


def _change_view(change: BacklogSettingsChange) -> SettingsChangeView:
    fields = [
        FieldChange(
            label=_settings_label(field),
            before=_settings_value(field, change.before.get(field)),
            after=_settings_value(field, change.after.get(field)),
        )
        for field in change.after
    ]
    return SettingsChangeView(change=change, fields=fields)


def plan_page(team: Team, *, at: datetime) -> PlanPage:
    ranked = ranked_backlog(BacklogItem.objects.filter(team=team), at=at, with_hours=True)
    changes = team.backlog_settings_changes.select_related("changed_by")[:RECENT_CHANGES]
    settings = backlog_settings(team)
    return PlanPage(
        team=team,
        settings=settings,
        ranked=ranked,
        capacity=capacity(team, ranked, at=at, settings=settings),
        changes=[_change_view(change) for change in changes],
    )
