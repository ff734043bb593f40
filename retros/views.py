from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.access import AuthedRequest, object_for_user, team_or_404, teams_allowing
from portal.models import Role
from retros import services
from retros.models import RetroSession


@require_GET
def retro_list(request: AuthedRequest) -> HttpResponse:
    sessions = RetroSession.objects.visible_to(request.user).for_page()
    return render(
        request,
        "retros/list.html",
        {"startable_teams": teams_allowing(request.user, Role.MEMBER), "sessions": sessions},
    )


@require_POST
def retro_start(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.MEMBER)
    session = services.retro_start(team=team, user=request.user, at=timezone.now())
    messages.success(request, _("Retro started; the budgets below are frozen as of now."))
    return redirect("retros:detail", pk=session.pk)


@require_GET
def retro_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    session, membership = object_for_user(request.user, RetroSession.objects.for_page(), pk=pk)
    return render(
        request,
        "retros/detail.html",
        {"session": session, "snapshots": session.snapshots.all()},
    )
