"""The PM's plan page: the team's ranking with every factor, pins, the week's capacity
and what fits it, and (for team admins) the weights and reserved time with a preview
of the moves before saving. Writes redirect back to the page; bad input is answered
with the page, its message and 400, and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from portal.access import AuthedRequest, team_membership_or_404, team_object_for_user
from portal.htmx import render_page_or_partial, wants_partial
from portal.models import Membership, Role
from toil import services
from toil.capacity import reserved_hours
from toil.models import BacklogItem
from toil.plan.cells import next_up_cells, row_cells
from toil.plan.charts import WeekBar, capacity_figure
from toil.plan.forms import BacklogSettingsForm, PinForm, PlanFilterForm, first_error
from toil.plan.selectors import PlanFilters, PlanPage, page_number, plan_page, top_for_page
from toil.selectors import weights_preview

PAGE = "toil/plan.html"


def _capacity_chart(page: PlanPage) -> dict:
    weeks = page.capacity.weeks
    bars = [
        WeekBar(
            label=date_format(week.monday, "MONTH_DAY_FORMAT"),
            backlog_hours=float(week.backlog_hours),
            this_week=index == len(weeks) - 1,
        )
        for index, week in enumerate(weeks)
    ]
    return capacity_figure(
        bars, reserved_hours=float(page.capacity.reserved_hours)
    ).to_plotly_json()


def _context(
    request: AuthedRequest,
    membership: Membership,
    page: PlanPage,
    *,
    settings_form: BacklogSettingsForm | None = None,
    preview: dict | None = None,
    pin_form: PinForm | None = None,
    pin_item: int | None = None,
    error: str = "",
) -> dict:
    filter_form = PlanFilterForm(request.GET or None, owners=page.owners, slos=page.slos)
    filters = filter_form.filters()
    shown = page.ranking_slice(filters, page_number(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    can_admin = membership.allows(Role.ADMIN)
    now = timezone.now()
    if can_admin and settings_form is None:
        settings_form = BacklogSettingsForm(settings=page.settings)
    return {
        "team": page.team,
        "page": page,
        "rows": row_cells(shown.rows, team=page.team, at=now, pin_item=pin_item),
        "next_up": next_up_cells(page.next_up, team=page.team, at=now),
        "matching": shown.matching,
        "shown": shown,
        "page_query": query.urlencode(),
        "filters": filters,
        "filter_form": filter_form,
        "query": request.GET.urlencode(),
        "weights": page.weights,
        "capacity": page.capacity,
        "cut": page.cut,
        "fitting": page.fitting,
        "chart": _capacity_chart(page),
        "can_pin": membership.allows(Role.MEMBER),
        "can_admin": can_admin,
        "settings_form": settings_form,
        "preview": preview,
        "pin_form": pin_form,
        "pin_item": pin_item,
        "error": error,
    }


def _filters(request: AuthedRequest) -> PlanFilters:
    """The filters asked for (the choices only label the selects: none are needed)."""
    return PlanFilterForm(request.GET or None, owners=[], slos=[]).filters()


def _plan_url(team_slug: str, query: str = "") -> str:
    url = reverse("toil:plan", args=[team_slug])
    return f"{url}?{query}" if query else url


@require_GET
def plan(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug)
    # Unfiltered, only the top of the ranking down to the page asked for is read; a
    # filtered page shows places in the whole ranking, so it reads the whole.
    top = None if _filters(request).active else top_for_page(page_number(request.GET.get("page")))
    page = plan_page(membership.team, at=timezone.now(), top=top)
    context = _context(request, membership, page)
    bad_filter = context["filter_form"].is_bound and not context["filter_form"].is_valid()
    if bad_filter:
        context["error"] = _("A filter was not understood and is ignored: %(error)s") % {
            "error": first_error(context["filter_form"])
        }
    return render_page_or_partial(
        request, PAGE, context, partial="ranking", status=400 if bad_filter else 200
    )


# --- Pins: members and admins ---------------------------------------------------------


def _item_for(request: AuthedRequest, slug: str, pk: int) -> tuple[BacklogItem, Membership]:
    return team_object_for_user(
        request.user, slug, BacklogItem.objects.select_related("team"), needed=Role.MEMBER, pk=pk
    )


@require_POST
def pin(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    item, membership = _item_for(request, slug, pk)
    form = PinForm(request.POST)
    status, error = 400, ""
    if form.is_valid():
        try:
            services.backlog_item_pin(
                item=item, reason=form.cleaned_data["reason"], by=request.user, at=timezone.now()
            )
        except services.BacklogError as refused:
            status, error = 409, str(refused)
        else:
            messages.success(
                request, _("“%(title)s” is pinned above the ranking.") % {"title": item.title}
            )
            return redirect(_plan_url(slug, request.POST.get("query", "")))
    page = plan_page(membership.team, at=timezone.now())
    context = _context(
        request,
        membership,
        page,
        pin_form=form,
        pin_item=item.pk,
        error=error
        or _("“%(title)s” was not pinned: %(error)s")
        % {"title": item.title, "error": first_error(form)},
    )
    return render_page_or_partial(request, PAGE, context, partial="ranking", status=status)


@require_POST
def unpin(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    item, _membership = _item_for(request, slug, pk)
    services.backlog_item_unpin(item=item, by=request.user, at=timezone.now())
    messages.success(
        request, _("“%(title)s” is unpinned: it takes its place by score.") % {"title": item.title}
    )
    return redirect(_plan_url(slug, request.POST.get("query", "")))


# --- Weights and reserved time: team admins --------------------------------------------


def _preview(page: PlanPage, form: BacklogSettingsForm) -> dict:
    """What saving the form would change: the moves of the ranking and the hours
    reserved a week. Nothing is written."""
    data = form.cleaned_data
    old_scores = {row.item.pk: row.breakdown.score for row in page.ranked}
    moves = weights_preview(page.ranked, form.weights())
    return {
        "moves": [
            {"move": move, "old_score": old_scores[move.row.item.pk], "down": -move.places}
            for move in moves
        ],
        "items": len(page.ranked),
        "reserved_now": page.capacity.reserved_hours,
        "reserved_after": reserved_hours(
            mode=data["reserved_mode"],
            hours=data["reserved_hours"],
            share_percent=data["reserved_share_percent"],
            team_hours=data["team_hours"],
        ),
    }


@require_POST
def settings_preview(request: AuthedRequest, slug: str) -> HttpResponse:
    """The moves the new weights would make, before saving. htmx gets the preview alone
    (200 even for bad input: htmx swaps only successful answers, and the message belongs
    in the preview); a plain POST gets the page, 400 for bad input."""
    membership = team_membership_or_404(request.user, slug, Role.ADMIN)
    page = plan_page(membership.team, at=timezone.now())
    form = BacklogSettingsForm(request.POST)
    valid = form.is_valid()
    context = _context(
        request,
        membership,
        page,
        settings_form=form,
        preview=_preview(page, form) if valid else None,
        error="" if valid or wants_partial(request) else _settings_error(form),
    )
    context["settings_error"] = "" if valid else _settings_error(form)
    return render_page_or_partial(
        request,
        PAGE,
        context,
        partial="preview",
        status=200 if valid or wants_partial(request) else 400,
    )


def _settings_error(form: BacklogSettingsForm) -> str:
    return _("Nothing was saved: %(error)s") % {"error": first_error(form)}


@require_POST
def settings_save(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug, Role.ADMIN)
    team = membership.team
    form = BacklogSettingsForm(request.POST)
    if not form.is_valid():
        page = plan_page(team, at=timezone.now())
        context = _context(
            request, membership, page, settings_form=form, error=_settings_error(form)
        )
        context["settings_error"] = context["error"]
        return render_page_or_partial(request, PAGE, context, partial="settings", status=400)
    now = timezone.now()
    before = plan_page(team, at=now)
    moved = len(weights_preview(before.ranked, form.weights()))
    try:
        change = services.backlog_settings_update(
            team=team, by=request.user, at=now, **form.cleaned_data
        )
    except (services.BacklogError, ValidationError) as refused:
        context = _context(request, membership, before, settings_form=form)
        context["error"] = context["settings_error"] = _("Nothing was saved: %(error)s") % {
            "error": " ".join(getattr(refused, "messages", [str(refused)]))
        }
        return render_page_or_partial(request, PAGE, context, partial="settings", status=400)
    if change is None:
        messages.info(request, _("Nothing changed: the settings were already these."))
    else:
        messages.success(
            request,
            ngettext(
                "Weights and reserved time saved: %(moved)d item moved in the ranking.",
                "Weights and reserved time saved: %(moved)d items moved in the ranking.",
                moved,
            )
            % {"moved": moved},
        )
    return redirect(_plan_url(slug))
