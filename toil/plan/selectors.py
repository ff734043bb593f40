"""Reads of the PM's plan page: the team's ranking, its capacity this week and the last
eight, what fits, and the recent changes of its weights. A fixed number of queries
whatever the number of items. Unfiltered, the page reads only the top of the ranking down
to the page shown (toil.selectors.ranking_top); a filter reads the whole ranking and
filters it in memory, so a filtered item keeps its place in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Exists, OuterRef

from portal.models import Team
from slos.models import SLO
from toil.models import (
    OPEN_STATUSES,
    BacklogItem,
    BacklogSettings,
    BacklogSettingsChange,
    ReservedMode,
)
from toil.scoring import Weights
from toil.selectors import (
    Capacity,
    RankedItem,
    backlog_settings,
    capacity,
    ranked_backlog,
    ranking_top,
)

RECENT_CHANGES = 10
NEXT_UP = 5
# The ranking is drawn this many places at a time; the first page reaches down to the
# week's line when it falls within LINE_REACH places, so the line shows as the page opens.
ROWS_PER_PAGE = 25
LINE_REACH = 100
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
class RankingSlice:
    """A page of the (filtered) ranking, named as django.core.paginator.Page names it."""

    rows: list[PlanRow]
    number: int
    pages: int
    start_index: int  # 1-based, among the matching rows
    matching: int

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.rows) - 1

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_other_pages(self) -> bool:
        return self.pages > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def page_number(value: str | None) -> int:
    """The page asked for: 1 for anything but a positive whole number."""
    if value and value.isascii() and value.isdecimal() and len(value) < 10:
        return max(int(value), 1)
    return 1


def top_for_page(number: int) -> int:
    """How many items of the ranking (beside the pins) the `number`-th unfiltered page
    needs read: the first page may reach down to the week's line, within LINE_REACH."""
    return ROWS_PER_PAGE if number == 1 else LINE_REACH + (number - 1) * ROWS_PER_PAGE


def _first_page_length(rows: list[PlanRow]) -> int:
    cut = next((index for index, row in enumerate(rows) if row.cut_above), None)
    if cut is not None and ROWS_PER_PAGE <= cut < LINE_REACH:
        return cut + 1
    return ROWS_PER_PAGE


@dataclass(frozen=True)
class PlanPage:
    team: Team
    settings: BacklogSettings
    # The open ranking: whole, or its top when `open_items` says there are more.
    ranked: list[RankedItem]
    capacity: Capacity
    changes: list[SettingsChangeView]
    open_items: int
    owners: list[tuple[int, str]]  # for the filter: (id, name), by name
    slos: list[tuple[int, str]]  # for the filter: (id, "service / SLO"), by name

    @property
    def whole(self) -> bool:
        return len(self.ranked) == self.open_items

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

    def ranking_slice(self, filters: PlanFilters, number: int) -> RankingSlice:
        """The `number`-th page of the rows `filters` keeps (the last when there are
        fewer). A page read from the top of the ranking (plan_page(…, top=…)) serves
        unfiltered pages down to top_for_page()'s."""
        if filters.active and not self.whole:
            raise ValueError("filters need the whole ranking: plan_page(…, top=None)")
        rows = self.rows(filters)
        matching = len(rows) if self.whole else self.open_items
        first = _first_page_length(rows)
        pages = 1 + max(0, -(-(matching - first) // ROWS_PER_PAGE))
        number = min(number, pages)
        start = 0 if number == 1 else first + (number - 2) * ROWS_PER_PAGE
        end = min(first if number == 1 else start + ROWS_PER_PAGE, matching)
        if end > len(rows):
            raise ValueError("this page is below the top that was read")
        shown = rows[start:end]
        return RankingSlice(
            rows=shown, number=number, pages=pages, start_index=start + 1, matching=matching
        )


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


def plan_filter_options(team: Team) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The owners of the team's open items, (id, name), and the SLOs they link to, (id,
    "service / SLO"), each by name: two queries, no model built."""
    user_model = get_user_model()
    # A semi-join: each person is looked up among the items they own (indexed), rather
    # than every open item joined to its owner and the pairs made distinct.
    owned = BacklogItem.objects.filter(team=team, status__in=OPEN_STATUSES, owner=OuterRef("pk"))
    owners = user_model.objects.filter(Exists(owned)).values_list("pk", user_model.USERNAME_FIELD)
    slos = (
        SLO.objects.filter(backlog_items__team=team, backlog_items__status__in=OPEN_STATUSES)
        .values_list("pk", "service__name", "name")
        .distinct()
    )
    return (
        sorted(owners, key=lambda pair: pair[1].casefold()),
        sorted(
            ((pk, f"{service} / {name}") for pk, service, name in slos),
            key=lambda pair: pair[1].casefold(),
        ),
    )


def plan_page(team: Team, *, at: datetime, top: int | None = None) -> PlanPage:
    """The plan page's reads. With `top`, only the pins and the `top` best other items
    are ranked (the page as it opens), unless the week's line falls below them: then,
    as without `top`, the whole ranking."""
    settings = backlog_settings(team)
    changes = team.backlog_settings_changes.select_related("changed_by")[:RECENT_CHANGES]
    owners, slos = plan_filter_options(team)
    ranked, open_items, week = None, 0, None
    if top is not None:
        found = ranking_top(team, at=at, count=top, settings=settings)
        week = capacity(team, found.rows, at=at, settings=settings)
        if found.complete or week.fit.cut_at is not None:
            ranked, open_items = found.rows, found.open_items
    if ranked is None:
        ranked = ranked_backlog(BacklogItem.objects.filter(team=team), at=at, with_hours=True)
        open_items = len(ranked)
        week = capacity(team, ranked, at=at, settings=settings)
    return PlanPage(
        team=team,
        settings=settings,
        ranked=ranked,
        capacity=week,
        changes=[_change_view(change) for change in changes],
        open_items=open_items,
        owners=owners,
        slos=slos,
    )
