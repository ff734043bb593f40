from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import AuthedRequest, team_or_404, teams_allowing
from portal.models import Role
from toil import services
from toil.items.forms import BacklogItemForm
from toil.models import BacklogItem
from toil.selectors import ranked_backlog


@require_GET
def backlog_list(request: AuthedRequest) -> HttpResponse:
    at = timezone.now()
    rows = ranked_backlog(BacklogItem.objects.visible_to(request.user), at=at)
    return render(
        request,
        "toil/list.html",
        {"rows": rows, "at": at, "writable_teams": teams_allowing(request.user, Role.MEMBER)},
    )


@require_http_methods(["GET", "POST"])
def backlog_item_create(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.MEMBER)
    form = BacklogItemForm(request.POST if request.method == "POST" else None, team=team)
    if form.is_bound:
        if form.is_valid():
            item = services.backlog_item_create(
                team=team, created_by=request.user, at=timezone.now(), **form.cleaned_data
            )
            messages.success(request, _("Backlog item “%(title)s” added.") % {"title": item.title})
            return redirect("toil:list")
        messages.error(
            request, _("The item was not saved. Please correct the fields marked below.")
        )
    return render(
        request,
        "toil/form.html",
        {"form": form, "team": team},
        status=400 if form.is_bound else 200,
    )
