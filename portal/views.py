from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import AuthedRequest, team_membership_or_404, team_or_404
from portal.forms import TeamSettingsForm
from portal.models import Membership, Role
from retros.kudos import KUDOS_ON_TEAM_PAGE
from slos.budget import BURN_ALERTS, BudgetStatus
from slos.models import SLO
from slos.registry.selectors import slos_with_budgets


@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    rows = slos_with_budgets(SLO.objects.visible_to(request.user), at=timezone.now())
    # Burning: spending its budget fast enough that an alert would fire (the burn table),
    # pages before tickets. Running low: little budget left, whatever the pace now.
    burning = sorted(
        (row for row in rows if row.budget.burning is not None),
        key=lambda row: (BURN_ALERTS.index(row.budget.burning), -(row.budget.burn_rate_1d or 0)),
    )
    low = [
        row
        for row in rows
        if row.budget.burning is None
        and row.budget.status in {BudgetStatus.AT_RISK, BudgetStatus.EXHAUSTED}
    ]
    low.sort(key=lambda row: row.budget.error_budget_remaining or 0)
    memberships = Membership.objects.filter(user=request.user).select_related("team")
    return render(
        request,
        "portal/home.html",
        {"rows": rows, "burning": burning, "low": low, "memberships": memberships},
    )


@require_GET
def team_list(request: AuthedRequest) -> HttpResponse:
    memberships = Membership.objects.filter(user=request.user).select_related("team")
    return render(request, "portal/team_list.html", {"memberships": memberships})


@require_GET
def team_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug)
    team = membership.team
    return render(
        request,
        "portal/team_detail.html",
        {
            "team": team,
            "membership": membership,
            "can_edit": membership.allows(Role.MEMBER),
            "can_admin": membership.allows(Role.ADMIN),
            "members": team.memberships.select_related("user").order_by("user__username"),
            "services": team.services.all(),
            "data_sources": team.data_sources.all(),
            "recent_kudos": team.kudos.select_related("noted_by")[:KUDOS_ON_TEAM_PAGE],
        },
    )


@require_http_methods(["GET", "POST"])
def team_settings(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.ADMIN)
    form = TeamSettingsForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Team settings saved."))
        return redirect("team_detail", slug=team.slug)
    return render(
        request,
        "portal/team_settings.html",
        {"form": form, "team": team},
        status=400 if form.is_bound else 200,
    )
