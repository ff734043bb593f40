"""The ranking's rows as the plan page writes them: each cell's text worked out once, in
Python, so the template draws a row with plain lookups. Through the template's filters,
translation tags and URL tags a row of a dozen columns cost half a millisecond, the most
of the page's rendering; here the same formatting (portal.formatting) and the same
messages (their msgids unchanged, so their translations hold) cost a fraction of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from portal.formatting import (
    budget_percent_text,
    duration_text,
    factor_text,
    hours_text,
    score_text,
    time_text,
)
from portal.models import Team
from toil.plan.selectors import PlanRow

# An id no row has, in a URL reversed once; each row's URL puts its own id in its place.
_ID_MARK = 9_876_543_210


def url_by_id(name: str, *args: object) -> Callable[[int], str]:
    """The URL `name` of each object id, as reverse(name, args=[*args, id]) gives it, from
    one reverse: a page of rows needs a hundred of them."""
    prefix, suffix = reverse(name, args=[*args, _ID_MARK]).split(str(_ID_MARK))
    return lambda pk: f"{prefix}{pk}{suffix}"


def _sentence(message: str, **values: object) -> SafeString:
    """A translated message with its values escaped into it, as {% blocktranslate %}
    writes one (the message itself is the code's, not escaped)."""
    return mark_safe(message % {name: conditional_escape(value) for name, value in values.items()})


def _once_per_value(format_number: Callable[[object], str]) -> Callable[[object], str]:
    """`format_number`, each value formatted once: rows share sizes, toil hours and
    factors, and each formatting goes through Django's floatformat (10 µs). Lives for
    one page's rows, in one language."""
    formatted: dict[object, str] = {}

    def once(value: object) -> str:
        if value not in formatted:
            formatted[value] = format_number(value)
        return formatted[value]

    return once


@dataclass(frozen=True, slots=True)
class RowCells:
    """One row of the ranking, every cell as the page writes it."""

    pk: int
    place: int
    css_class: str  # "pinned", "fits", "frozen", as they apply
    cut_above: bool  # the week's line is drawn just above this row
    url: str
    title: str
    pinned: bool
    frozen: bool
    fits: bool
    pinned_reason: str
    pinned_by: str  # "by who, when"; "" when no one is recorded
    score: str
    impact: int
    impact_label: str
    likelihood: int
    likelihood_label: str
    toil_relief: int
    toil_per_month: str  # "" for an item that removes no toil
    slo_risk: int
    slo_name: str  # "" for an item linked to no SLO
    slo_url: str
    slo_left: str  # "42.5% left", "no data"
    effort: str
    effort_label: str
    effort_points: str
    age: str  # "Added 3 days 4 hours ago"
    age_factor: str
    cost_of_delay: str
    kind: str
    status: str
    owner: str  # "" for nobody
    hours: str  # "logged / size"
    pin_url: str
    unpin_url: str
    pin_open: bool  # the pin form of this row is shown open (it came back with an error)


def row_cells(
    rows: list[PlanRow], *, team: Team, at: datetime, pin_item: int | None = None
) -> list[RowCells]:
    """The cells of `rows` (a page of the plan's ranking) for `team`'s plan page at `at`."""
    item_url = url_by_id("toil:item")
    slo_url = url_by_id("slos:detail")
    pin_url = url_by_id("toil:plan_pin", team.slug)
    unpin_url = url_by_id("toil:plan_unpin", team.slug)
    no_data = gettext("no data")
    hours, factor = _once_per_value(hours_text), _once_per_value(factor_text)
    cells = []
    for plan_row in rows:
        ranked = plan_row.ranked
        item, breakdown = ranked.item, ranked.breakdown
        factors = breakdown.factors
        pinned = item.pinned_at is not None
        slo_left = ""
        if item.slo_id is not None:
            left = (
                ranked.slo_budget.error_budget_remaining_percent
                if ranked.slo_budget is not None
                else None
            )
            slo_left = (
                no_data
                if left is None
                else _sentence(gettext("%(left)s%% left"), left=budget_percent_text(left))
            )
        pinned_by = ""
        if pinned and item.pinned_by_id is not None:
            pinned_by = _sentence(
                gettext("by %(who)s, %(when)s"),
                who=item.pinned_by.get_username(),
                when=time_text(item.pinned_at, team.time_zone),
            )
        flags = (
            ("pinned", pinned),
            ("fits", plan_row.fits),
            ("frozen", ranked.frozen),
        )
        cells.append(
            RowCells(
                pk=item.pk,
                place=ranked.place,
                css_class=" ".join(name for name, applies in flags if applies),
                cut_above=plan_row.cut_above,
                url=item_url(item.pk),
                title=item.title,
                pinned=pinned,
                frozen=ranked.frozen,
                fits=plan_row.fits,
                pinned_reason=item.pinned_reason,
                pinned_by=pinned_by,
                score=score_text(breakdown.score),
                impact=factors.impact,
                impact_label=item.impact_label,
                likelihood=factors.likelihood,
                likelihood_label=item.likelihood_label,
                toil_relief=factors.toil_relief,
                toil_per_month=(
                    _sentence(gettext("%(hours)s h/month"), hours=hours(item.toil_hours_per_month))
                    if item.toil_hours_per_month
                    else ""
                ),
                slo_risk=factors.slo_risk,
                slo_name=item.slo.name if item.slo_id is not None else "",
                slo_url=slo_url(item.slo_id) if item.slo_id is not None else "",
                slo_left=slo_left,
                effort=item.effort,
                effort_label=item.effort_label,
                effort_points=_sentence(
                    ngettext("%(points)s point", "%(points)s points", factors.effort_points),
                    points=factors.effort_points,
                ),
                age=_sentence(
                    gettext("Added %(age)s ago"), age=duration_text(at - item.created_at)
                ),
                age_factor=factor(breakdown.age_factor),
                cost_of_delay=factor(breakdown.cost_of_delay),
                kind=item.kind_label,
                status=item.status_label,
                owner=item.owner.get_username() if item.owner_id is not None else "",
                hours=f"{hours(ranked.logged_hours)} / {hours(ranked.size_hours)}",
                pin_url=pin_url(item.pk),
                unpin_url=unpin_url(item.pk),
                pin_open=pin_item == item.pk,
            )
        )
    return cells


@dataclass(frozen=True, slots=True)
class NextUpCells:
    """One item of "Next up": its row's cells and why it stands where it does."""

    row: RowCells
    pinned_why: str  # "Pinned: “reason”"
    pinned_when: str  # "by who, when", or when alone
    score_why: str  # the score and its parts
    slo_why: str  # the linked SLO's budget, when its risk counts; else ""


def next_up_cells(rows: list[PlanRow], *, team: Team, at: datetime) -> list[NextUpCells]:
    """The cells of the top of the ranking, with the sentences that say why each item is
    there."""
    found = []
    for plan_row, cells in zip(rows, row_cells(rows, team=team, at=at), strict=True):
        ranked = plan_row.ranked
        item, breakdown = ranked.item, ranked.breakdown
        factors = breakdown.factors
        slo_why = ""
        if factors.slo_risk and item.slo_id is not None:
            left = (
                ranked.slo_budget.error_budget_remaining_percent
                if ranked.slo_budget is not None
                else None
            )
            slo_why = (
                _sentence(gettext("SLO “%(slo)s” at risk"), slo=item.slo.name)
                if left is None
                else _sentence(
                    gettext("SLO “%(slo)s” has %(left)s%% of its budget left"),
                    slo=item.slo.name,
                    left=budget_percent_text(left),
                )
            )
        found.append(
            NextUpCells(
                row=cells,
                pinned_why=(
                    _sentence(gettext("Pinned: “%(reason)s”"), reason=item.pinned_reason)
                    if cells.pinned
                    else ""
                ),
                pinned_when=cells.pinned_by
                or (time_text(item.pinned_at, team.time_zone) if cells.pinned else ""),
                score_why=_sentence(
                    gettext(
                        "score %(score)s: cost of delay %(cost)s ÷ %(points)s points × age %(age)s"
                    ),
                    score=cells.score,
                    cost=cells.cost_of_delay,
                    points=factors.effort_points,
                    age=cells.age_factor,
                ),
                slo_why=slo_why,
            )
        )
    return found
