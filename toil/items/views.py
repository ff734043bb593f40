"""The developers' backlog: every open item of the user's teams ranked, a new item, an
item's page with its breakdown and history, its edit and a quick status change."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import (
    AuthedRequest,
    object_for_user,
    team_or_404,
)
from portal.models import Membership, Role
from toil import services
from toil.items.forms import BacklogItemForm, StatusForm
from toil.items.selectors import item_page
from toil.models import BacklogItem, Status
from toil.selectors import ranked_backlog


@require_GET
def backlog_list(request: AuthedRequest) -> HttpResponse:
    at = timezone.now()
    rows = ranked_backlog(BacklogItem.objects.visible_to(request.user), at=at)
    memberships = Membership.objects.filter(user=request.user).select_related("team")
    memberships = sorted(memberships, key=lambda membership: membership.team.name.casefold())
    return render(
        request,
        "toil/list.html",
        {
            "rows": rows,
            "at": at,
            "teams": [membership.team for membership in memberships],
            "writable_teams": [
                membership.team for membership in memberships if membership.allows(Role.MEMBER)
            ],
            "status_choices": Status.choices,
            "back_to_list": StatusForm.BACK_TO_LIST,
        },
    )


@require_http_methods(["GET", "POST"])
def backlog_item_create(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.MEMBER)
    form = BacklogItemForm(
        request.POST if request.method == "POST" else None,
        team=team,
        initial={"status": Status.PROPOSED},
    )
    if form.is_bound:
        if form.is_valid():
            try:
                item = services.backlog_item_create(
                    team=team, created_by=request.user, at=timezone.now(), **form.cleaned_data
                )
            except services.BacklogError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(
                    request, _("Backlog item “%(title)s” added.") % {"title": item.title}
                )
                return redirect("toil:item", item.pk)
        messages.error(
            request, _("The item was not saved. Please correct the fields marked below.")
        )
    return render(
        request,
        "toil/form.html",
        {"form": form, "team": team, "item": None},
        status=400 if form.is_bound else 200,
    )


def _item_for(request: AuthedRequest, pk: int, needed: Role) -> tuple[BacklogItem, Membership]:
    return object_for_user(
        request.user,
        BacklogItem.objects.select_related(
            "team", "slo__service", "ticket", "owner", "closed_by", "pinned_by", "created_by"
        ),
        needed=needed,
        pk=pk,
    )


def _render_item(
    request: AuthedRequest,
    item: BacklogItem,
    membership: Membership,
    *,
    status_form: StatusForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "toil/item.html",
        {
            "page": item_page(item, at=timezone.now()),
            "item": item,
            "team": item.team,
            "can_edit": membership.allows(Role.MEMBER),
            "status_form": status_form or StatusForm(initial={"status": item.status}),
        },
        status=status,
    )


@require_GET
def backlog_item_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    item, membership = _item_for(request, pk, Role.VIEWER)
    return _render_item(request, item, membership)


@require_http_methods(["GET", "POST"])
def backlog_item_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    item, _membership = _item_for(request, pk, Role.MEMBER)
    form = BacklogItemForm(
        request.POST if request.method == "POST" else None, instance=item, team=item.team
    )
    if form.is_bound:
        # The ModelForm writes its cleaned values onto the instance; the service reads
        # the stored row, so a refused edit leaves nothing half-applied.
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                change = services.backlog_item_update(
                    item=BacklogItem.objects.get(pk=pk),
                    by=request.user,
                    at=timezone.now(),
                    **values,
                )
            except services.BacklogError as refused:
                form.add_error(None, str(refused))
            else:
                if change is None:
                    messages.info(request, _("Nothing changed."))
                else:
                    messages.success(request, _("Saved. The change is in the item's history."))
                return redirect("toil:item", pk)
        messages.error(
            request, _("The item was not saved. Please correct the fields marked below.")
        )
    item = BacklogItem.objects.select_related("team").get(pk=pk)
    return render(
        request,
        "toil/form.html",
        {"form": form, "team": item.team, "item": item},
        status=400 if form.is_bound else 200,
    )


@require_POST
def backlog_item_status(request: AuthedRequest, pk: int) -> HttpResponse:
    item, membership = _item_for(request, pk, Role.MEMBER)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The status was not changed: choose one of the statuses."))
        return _render_item(request, item, membership, status_form=form, status=400)
    services.backlog_item_update(
        item=item, by=request.user, at=timezone.now(), status=form.cleaned_data["status"]
    )
    messages.success(
        request,
        _("“%(title)s” is now %(status)s.")
        % {"title": item.title, "status": item.get_status_display().lower()},
    )
    # The list offers the same change on each row; it asks to come back to itself.
    if form.cleaned_data["back_to"] == StatusForm.BACK_TO_LIST:
        return redirect(reverse("toil:list") + f"#item-{item.pk}")
    return redirect("toil:item", pk)
