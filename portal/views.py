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
from portal.overview import home_page
from retros.kudos import KUDOS_ON_TEAM_PAGE


@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    """Where the person's teams stand and what comes next (portal/overview.py)."""
    return render(request, "portal/home.html", {"page": home_page(request.user, at=timezone.now())})


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
