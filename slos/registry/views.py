from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import AuthedRequest, team_or_404
from portal.formatting import duration_text, percent_text, target_text
from portal.htmx import render_page_or_partial, wants_partial
from portal.models import Membership, Role
from slos.access import slo_for_user
from slos.budget import (
    TARGET_PERCENT_MAX,
    TARGET_PERCENT_MIN,
    Budget,
    BudgetStatus,
    MonthCompliance,
    MonthTotals,
    budget_burndown,
    burn_rate,
    monthly_compliance,
)
from slos.charts import (
    ChartFrame,
    DayValue,
    Mark,
    budget_burndown_figure,
    slo_figures,
)
from slos.models import SLO, Annotation, BudgetPolicyStep, SLOReview
from slos.registry import services
from slos.registry.forms import ServiceForm
from slos.registry.listing import ListFilterForm, list_page
from slos.registry.selectors import SLOPage, slo_page, slos_for_list

# The what-if slider runs on a "nines" scale, -log10(1 - target): 1 is 90%, 2 is 99%,
# 3 is 99.9%, 5 is 99.999% (the highest target allowed), so 99.9 to 99.99 is a quarter
# of the slider instead of a few pixels of a linear 90 to 99.99. static/js/what_if.js
# turns a position into a target and back; the presets are one click each.
WHAT_IF_NINES_MIN = 1
WHAT_IF_NINES_MAX = 5
WHAT_IF_PRESETS = ("99", "99.5", "99.9", "99.95", "99.99")


def target_nines(target_percent: Decimal) -> float:
    """Where `target_percent` sits on the what-if slider, kept within its ends."""
    if target_percent >= 100:
        return WHAT_IF_NINES_MAX
    nines = -math.log10(1 - float(target_percent) / 100)
    return min(max(nines, WHAT_IF_NINES_MIN), WHAT_IF_NINES_MAX)


class WhatIfForm(forms.Form):
    target = forms.DecimalField(
        label=gettext_lazy("What if the target were (%)"),
        decimal_places=5,
        min_value=TARGET_PERCENT_MIN,
        error_messages={
            "required": gettext_lazy("Enter a target to try, e.g. 99.5."),
            "invalid": gettext_lazy("Enter the target as a number, e.g. 99.5."),
            "min_value": gettext_lazy(
                "A target below %(limit_value)s%% is not an objective: "
                "enter %(limit_value)s or more."
            ),
            "max_decimal_places": gettext_lazy("Use at most 5 decimal places, e.g. 99.995."),
        },
    )

    def clean_target(self) -> Decimal:
        target = self.cleaned_data["target"]
        if target >= 100:
            raise forms.ValidationError(
                _("A target must be below 100%: at 100% there is no error budget at all.")
            )
        if target > TARGET_PERCENT_MAX:
            raise forms.ValidationError(
                _("An SLO's target is at most %(max)s%%.") % {"max": TARGET_PERCENT_MAX}
            )
        return target


STATUS_LABELS = {
    BudgetStatus.HEALTHY: gettext_lazy("Healthy"),
    BudgetStatus.AT_RISK: gettext_lazy("At risk"),
    BudgetStatus.EXHAUSTED: gettext_lazy("Budget exhausted"),
    BudgetStatus.NO_DATA: gettext_lazy("No data"),
}


@dataclass(frozen=True)
class ReviewRow:
    review: SLOReview
    old_target: str
    new_target: str

    @property
    def changed(self) -> bool:
        return self.old_target != self.new_target


@dataclass(frozen=True)
class PolicyView:
    crossed: list[BudgetPolicyStep]
    not_crossed: list[BudgetPolicyStep]


def policy_view(steps: list[BudgetPolicyStep], budget: Budget) -> PolicyView:
    """The steps whose level the remaining budget has fallen below, and the rest."""
    left = budget.error_budget_remaining_percent
    crossed = [step for step in steps if left is not None and left < float(step.below_percent)]
    return PolicyView(crossed, [step for step in steps if step not in crossed])


@dataclass(frozen=True)
class BudgetView:
    """A budget with what the page says about it, at the SLO's target or another."""

    target_percent: Decimal
    target_text: str
    budget: Budget
    status_label: str
    error_ratio: str | None
    error_budget: str
    bad_events_over: float
    exhaustion_in: str | None
    exhaustion_at: datetime | None
    policy: PolicyView


def budget_view(
    budget: Budget, *, target_percent: Decimal, steps: list[BudgetPolicyStep], at: datetime
) -> BudgetView:
    exhaustion = budget.time_to_exhaustion
    return BudgetView(
        target_percent=target_percent,
        target_text=target_text(target_percent),
        budget=budget,
        status_label=str(STATUS_LABELS[budget.status]),
        error_ratio=percent_text(budget.bad_events / budget.valid) if budget.valid > 0 else None,
        error_budget=percent_text(budget.error_budget),
        bad_events_over=max(0.0, -budget.bad_events_left),
        exhaustion_in=duration_text(exhaustion) if exhaustion is not None else None,
        exhaustion_at=at + timedelta(minutes=round(exhaustion / timedelta(minutes=1)))
        if exhaustion is not None
        else None,
        policy=policy_view(steps, budget),
    )


@dataclass(frozen=True)
class HistoryRow:
    month: date
    current: bool
    compliance: MonthCompliance

    @property
    def sli_percent(self) -> float | None:
        return None if self.compliance.sli is None else self.compliance.sli * 100

    @property
    def spent_percent(self) -> float | None:
        spent = self.compliance.budget_spent
        return None if spent is None else spent * 100


def history_rows(history: list[MonthCompliance], *, target: float) -> list[HistoryRow]:
    """The months again at `target` (met and spent depend on it; the SLI does not)."""
    again = monthly_compliance(
        [MonthTotals(item.month, item.good, item.valid) for item in history], target=target
    )
    return [
        HistoryRow(month=item.month, current=index == 0, compliance=item)
        for index, item in enumerate(again)
    ]


@dataclass(frozen=True)
class WhatIf:
    view: BudgetView
    months_met: int
    months_with_data: int
    figure: dict | None


def _marks(annotations: list[Annotation]) -> list[Mark]:
    return [
        Mark(
            kind=note.kind,
            starts_at=note.starts_at,
            ends_at=note.ends_at,
            text=note.text,
            excluded=note.excluded,
        )
        for note in annotations
    ]


def _figures(page: SLOPage, *, frame: ChartFrame, target: float) -> dict[str, dict | None]:
    data = page.data
    if not data.rows:
        return {"sli": None, "burndown": None, "burn": None}
    points = budget_burndown(data.rows, target=target)
    sli = [DayValue(day.day, day.sli, day.hours_with_data, day.hours) for day in data.days]
    burn = [
        DayValue(day.day, burn_rate(good=day.good, valid=day.valid, target=target))
        for day in data.days
    ]
    return slo_figures(
        sli=sli, burn=burn, points=points, target=target, window=data.window.length, frame=frame
    )


def _what_if(
    page: SLOPage, form: WhatIfForm, *, frame: ChartFrame, at_risk_below: float, at: datetime
) -> WhatIf | None:
    if not form.is_bound or not form.is_valid():
        return None
    target_percent = form.cleaned_data["target"]
    target = float(target_percent) / 100
    budget = page.data.budget_at(target, at_risk_below=at_risk_below)
    months = history_rows(page.history, target=target)
    points = budget_burndown(page.data.rows, target=target)
    return WhatIf(
        view=budget_view(budget, target_percent=target_percent, steps=page.policy_steps, at=at),
        months_met=sum(1 for row in months if row.compliance.met),
        months_with_data=sum(1 for row in months if row.compliance.met is not None),
        figure=budget_burndown_figure(
            points,
            title=_("Error budget over the window at %(target)s%%")
            % {"target": target_text(target_percent)},
            frame=frame,
        ).to_plotly_json()
        if points
        else None,
    )


def _page_context(
    slo: SLO, membership: Membership, *, at: datetime, form: WhatIfForm, charts: bool = True
) -> dict:
    """What slo_detail.html shows; `charts=False` skips the three main figures (the
    what-if region alone does not draw them)."""
    page = slo_page(slo, at=at)
    team = slo.service.team
    data = page.data
    at_risk_below = float(team.budget_at_risk_below) / 100
    frame = ChartFrame(
        start=data.window.start,
        end=data.window.end,
        time_zone=team.time_zone,
        marks=_marks(data.annotations),
        no_data=data.no_data,
    )
    today = services.team_today(team, at=at)
    what_if = _what_if(page, form, frame=frame, at_risk_below=at_risk_below, at=at)
    current = budget_view(
        page.budget.budget, target_percent=slo.target, steps=page.policy_steps, at=at
    )
    return {
        "slo": slo,
        "team": team,
        "budget": page.budget.budget,
        "current": current,
        "data": data,
        "no_data_hours": data.totals.hours_in_window - data.totals.hours_with_data,
        "figures": _figures(page, frame=frame, target=slo.target_fraction) if charts else {},
        "history": history_rows(page.history, target=slo.target_fraction),
        "reviews": [
            ReviewRow(review, target_text(review.old_target), target_text(review.new_target))
            for review in page.reviews
        ],
        "review_overdue": slo.next_review_on is not None and slo.next_review_on < today,
        "review_due_today": slo.next_review_on == today,
        "last_run": page.last_run,
        "silent_hours": data.silent_hours,
        "silent_flag": data.silent_hours is not None
        and data.silent_hours >= team.no_data_after_hours,
        "stale": slo.last_pull_status in {"failed", "partial"},
        "can_edit": membership.allows(Role.MEMBER),
        "form": form,
        "what_if": what_if,
        "what_if_nines": (
            f"{target_nines(what_if.view.target_percent if what_if else slo.target):.3f}"
        ),
        "what_if_nines_range": (WHAT_IF_NINES_MIN, WHAT_IF_NINES_MAX),
        "what_if_presets": WHAT_IF_PRESETS,
    }


@require_GET
def slo_list(request: AuthedRequest) -> HttpResponse:
    slos = slos_for_list(SLO.objects.visible_to(request.user))
    form = ListFilterForm(request.GET or None, slos=slos)
    filters = form.filters()
    bad_filter = form.is_bound and not form.is_valid()
    shown = list_page(slos, filters, at=timezone.now(), number=request.GET.get("page"))
    # The pages' links keep the filters and the order.
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "rows": shown.rows,
        "shown": shown.page,
        "matching": shown.matching,
        "all_count": shown.total,
        "page_query": query.urlencode(),
        "filters": filters,
        "filter_form": form,
        "error": _("A filter was not understood and is ignored.") if bad_filter else "",
    }
    return render(request, "slos/slo_list.html", context, status=400 if bad_filter else 200)


@require_GET
def slo_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    slo, membership = slo_for_user(request.user, pk)
    context = _page_context(slo, membership, at=timezone.now(), form=WhatIfForm())
    return render(request, "slos/slo_detail.html", context)


@require_GET
def slo_what_if(request: AuthedRequest, pk: int) -> HttpResponse:
    """The budget at another target, computed from the same hours; nothing is saved, so
    viewers may use it. htmx gets the what-if region; a plain GET the whole page."""
    slo, membership = slo_for_user(request.user, pk)
    form = WhatIfForm(request.GET)
    partial = wants_partial(request)
    context = _page_context(slo, membership, at=timezone.now(), form=form, charts=not partial)
    # The region answers 200 even for bad input: htmx swaps only successful answers, and
    # the message belongs in the region.
    return render_page_or_partial(
        request,
        "slos/slo_detail.html",
        context,
        partial="what_if",
        status=200 if partial or form.is_valid() else 400,
    )


def _form_page(request: AuthedRequest, *, form, team, title: str, save) -> HttpResponse:
    """GET shows the form; a valid POST hands cleaned_data to `save`, which answers."""
    if request.method == "POST" and form.is_valid():
        return save(form.cleaned_data)
    return render(
        request,
        "slos/form.html",
        {"form": form, "team": team, "title": title},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def service_create(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.MEMBER)

    def save(data: dict) -> HttpResponse:
        service = services.service_create(team=team, **data)
        messages.success(request, _("Service “%(name)s” added.") % {"name": service.name})
        return redirect("team_detail", slug=team.slug)

    form = ServiceForm(request.POST or None, team=team)
    return _form_page(request, form=form, team=team, title=_("New service"), save=save)
