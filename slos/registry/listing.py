"""The SLO list's filters and order, read from the URL so a filtered, sorted list can be
shared and bookmarked: by team, service, budget state (burning included), whether the
SLO is provisional, and label; sorted by the budget left (the default, least first), the burn rate,
or name. The list is drawn a page (PAGE_SIZE) at a time, the page number in the URL
beside the filters. Filtering and sorting happen on rows read once, so the page's
queries stay the same whatever is asked: by name (with no state asked) only the shown
page's budgets are computed; by budget, burn rate or state, every budget is, and one
page is drawn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.core.paginator import Page, Paginator
from django.utils.translation import gettext_lazy as _

from slos.budget import BudgetStatus
from slos.models import SLO
from slos.registry.selectors import SLOWithBudget, slos_budgeted

BURNING = "burning"
STATES = [
    ("", _("Any state")),
    (BURNING, _("Burning (an alert would fire)")),
    (BudgetStatus.EXHAUSTED.value, _("Budget exhausted")),
    (BudgetStatus.AT_RISK.value, _("At risk")),
    (BudgetStatus.HEALTHY.value, _("Healthy")),
    (BudgetStatus.NO_DATA.value, _("No data")),
]
SORTS = [
    ("budget", _("Budget left, least first")),
    ("burn", _("Burn rate (last day), fastest first")),
    ("name", _("Team, service and name")),
]
PROVISIONAL = [("", _("Provisional or agreed")), ("yes", _("Provisional")), ("no", _("Agreed"))]


PAGE_SIZE = 100


def _budget_left(row: SLOWithBudget) -> tuple:
    left = row.budget.error_budget_remaining
    # No data last: nothing to act on.
    return (left is None, left if left is not None else 0.0, _named(row.slo))


def _burn(row: SLOWithBudget) -> tuple:
    rate = row.budget.burn_rate_1d
    return (rate is None, -(rate if rate is not None else 0.0), _named(row.slo))


def _named(slo: SLO) -> tuple:
    return (slo.service.team.name.casefold(), slo.service.name.casefold(), slo.name.casefold())


ORDER: dict[str, Callable[[SLOWithBudget], tuple]] = {
    "budget": _budget_left,
    "burn": _burn,
    "name": lambda row: _named(row.slo),
}


@dataclass(frozen=True)
class ListFilters:
    team: str = ""  # a slug
    service: int | None = None
    state: str = ""
    provisional: str = ""
    label: str = ""  # key=value
    sort: str = "budget"

    @property
    def active(self) -> bool:
        return bool(self.team or self.service or self.state or self.provisional or self.label)

    @property
    def needs_every_budget(self) -> bool:
        """Whether the order or a filter reads budgets: then every SLO's is computed."""
        return self.sort != "name" or bool(self.state)

    def keeps_slo(self, slo: SLO) -> bool:
        """The filters that need no budget: team, service, provisional, label."""
        if self.team and slo.service.team.slug != self.team:
            return False
        if self.service is not None and slo.service_id != self.service:
            return False
        if self.provisional and slo.provisional != (self.provisional == "yes"):
            return False
        if self.label:
            key, _equals, value = self.label.partition("=")
            if (slo.labels or {}).get(key) != value:
                return False
        return True

    def keeps(self, row: SLOWithBudget) -> bool:
        if not self.keeps_slo(row.slo):
            return False
        if self.state == BURNING:
            return row.budget.burning is not None
        return not self.state or row.budget.status == self.state

    def apply(self, rows: list[SLOWithBudget]) -> list[SLOWithBudget]:
        return sorted((row for row in rows if self.keeps(row)), key=ORDER[self.sort])


@dataclass(frozen=True)
class ListPage:
    rows: list[SLOWithBudget]  # the shown page, each with its budget
    page: Page  # its number, the number of pages, the rows' places among those matching
    matching: int
    total: int


def list_page(
    slos: list[SLO], filters: ListFilters, *, at: datetime, number: str | int | None
) -> ListPage:
    """The page `number` (the last one when past it, the first when not a number) of
    the SLOs `filters` keep, in its order, with their budgets as of `at`. By name, only
    the page's budgets are computed; by budget or burn rate, or filtered by state, every
    one is, to place each SLO."""
    kept = [slo for slo in slos if filters.keeps_slo(slo)]
    if filters.needs_every_budget:
        page = Paginator(filters.apply(slos_budgeted(kept, at=at)), PAGE_SIZE).get_page(number)
        rows = list(page.object_list)
    else:
        kept.sort(key=_named)
        page = Paginator(kept, PAGE_SIZE).get_page(number)
        rows = slos_budgeted(list(page.object_list), at=at)
    return ListPage(rows=rows, page=page, matching=page.paginator.count, total=len(slos))


class ListFilterForm(forms.Form):
    team = forms.ChoiceField(label=_("Team"), required=False)
    service = forms.TypedChoiceField(
        label=_("Service"), required=False, coerce=int, empty_value=None
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATES)
    provisional = forms.ChoiceField(label=_("Provisional"), required=False, choices=PROVISIONAL)
    label = forms.ChoiceField(label=_("Label"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORTS)

    def __init__(self, *args, slos: list[SLO], **kwargs):
        super().__init__(*args, **kwargs)
        teams = {slo.service.team.slug: slo.service.team.name for slo in slos}
        services = {slo.service_id: f"{slo.service.team.name} / {slo.service.name}" for slo in slos}
        self.fields["team"].choices = [
            ("", _("Every team")),
            *sorted(teams.items(), key=lambda pair: pair[1].casefold()),
        ]
        self.fields["service"].choices = [
            ("", _("Every service")),
            *sorted(services.items(), key=lambda pair: pair[1].casefold()),
        ]
        labels = sorted(
            {f"{key}={value}" for slo in slos for key, value in (slo.labels or {}).items()}
        )
        self.fields["label"].choices = [("", _("Any label")), *((each, each) for each in labels)]

    def filters(self) -> ListFilters:
        """What the URL asks for; a value not understood filters nothing (the page says
        so with the form's errors)."""
        if not self.is_bound or not self.is_valid():
            return ListFilters()
        data = self.cleaned_data
        return ListFilters(
            team=data["team"],
            service=data["service"],
            state=data["state"],
            provisional=data["provisional"],
            label=data["label"],
            sort=data["sort"] or "budget",
        )
