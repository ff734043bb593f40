"""The SLO list's filters and order, read from the URL so a filtered, sorted list can be
shared and bookmarked: by team, service, budget state (burning included), whether the
SLO is provisional, and label; sorted by the budget left (the default, least first), the burn rate,
or name. Filtering and sorting happen on the rows with their budgets, so the page's
queries stay the same whatever is asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from slos.budget import BudgetStatus
from slos.registry.selectors import SLOWithBudget

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


def _budget_left(row: SLOWithBudget) -> tuple:
    left = row.budget.error_budget_remaining
    # No data last: nothing to act on.
    return (left is None, left if left is not None else 0.0, _name(row))


def _burn(row: SLOWithBudget) -> tuple:
    rate = row.budget.burn_rate_1d
    return (rate is None, -(rate if rate is not None else 0.0), _name(row))


def _name(row: SLOWithBudget) -> tuple:
    slo = row.slo
    return (slo.service.team.name.casefold(), slo.service.name.casefold(), slo.name.casefold())


ORDER: dict[str, Callable[[SLOWithBudget], tuple]] = {
    "budget": _budget_left,
    "burn": _burn,
    "name": _name,
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

    def keeps(self, row: SLOWithBudget) -> bool:
        slo, budget = row.slo, row.budget
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
        if self.state == BURNING:
            return budget.burning is not None
        return not self.state or budget.status == self.state

    def apply(self, rows: list[SLOWithBudget]) -> list[SLOWithBudget]:
        return sorted((row for row in rows if self.keeps(row)), key=ORDER[self.sort])


class ListFilterForm(forms.Form):
    team = forms.ChoiceField(label=_("Team"), required=False)
    service = forms.TypedChoiceField(
        label=_("Service"), required=False, coerce=int, empty_value=None
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATES)
    provisional = forms.ChoiceField(label=_("Provisional"), required=False, choices=PROVISIONAL)
    label = forms.ChoiceField(label=_("Label"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORTS)

    def __init__(self, *args, rows: list[SLOWithBudget], **kwargs):
        super().__init__(*args, **kwargs)
        teams = {row.slo.service.team.slug: row.slo.service.team.name for row in rows}
        services = {
            row.slo.service_id: f"{row.slo.service.team.name} / {row.slo.service.name}"
            for row in rows
        }
        self.fields["team"].choices = [
            ("", _("Every team")),
            *sorted(teams.items(), key=lambda pair: pair[1].casefold()),
        ]
        self.fields["service"].choices = [
            ("", _("Every service")),
            *sorted(services.items(), key=lambda pair: pair[1].casefold()),
        ]
        labels = sorted(
            {f"{key}={value}" for row in rows for key, value in (row.slo.labels or {}).items()}
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
