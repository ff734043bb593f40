"""The team's work log: public to the team, a feed with filters, each person's hours,
the toil share against the cap; members log work and delete their own entries."""

from __future__ import annotations

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.access import AuthedRequest, team_membership_or_404
from portal.confirm import after_delete, delete_confirmation, delete_confirmed
from portal.formatting import hours_text
from portal.htmx import render_page_or_partial
from portal.models import Membership, Role
from portal.weeks import week_monday
from toil import services
from toil.models import WorkLogEntry
from toil.worklog.charts import ToilWeek, toil_share_figure
from toil.worklog.forms import FeedFilterForm, WorkLogForm
from toil.worklog.selectors import WorkLogPage, work_log_page

PAGE = "toil/worklog.html"


def _chart(page: WorkLogPage) -> dict:
    return toil_share_figure(
        [
            ToilWeek(
                label=date_format(week.monday, "MONTH_DAY_FORMAT"),
                toil_percent=None if week.toil_share is None else float(week.toil_share * 100),
            )
            for week in page.weeks
        ],
        cap_percent=page.cap_percent,
    ).to_plotly_json()


def _render(
    request: AuthedRequest,
    membership: Membership,
    *,
    form: WorkLogForm | None = None,
    status: int = 200,
) -> HttpResponse:
    team = membership.team
    now = timezone.now()
    filters = FeedFilterForm(request.GET)
    # A filter that does not parse is dropped; the ones that do still apply.
    valid = filters.is_valid()
    cleaned = filters.cleaned_data
    page = work_log_page(
        team,
        at=now,
        person_id=cleaned.get("person"),
        item_id=cleaned.get("item"),
        page=cleaned.get("page") or 1,
    )
    can_log = membership.allows(Role.MEMBER)
    if can_log and form is None:
        local_today = timezone.localtime(now, timezone=ZoneInfo(team.time_zone)).date()
        form = WorkLogForm(team=team, initial={"on": local_today, "item": cleaned.get("item")})
    query = urlencode(
        {name: cleaned[name] for name in ("person", "item") if cleaned.get(name) is not None}
    )
    return render_page_or_partial(
        request,
        PAGE,
        {
            "team": team,
            "page": page,
            "chart": _chart(page),
            "form": form,
            "can_log": can_log,
            "is_admin": membership.allows(Role.ADMIN),
            "filter_error": "" if valid else _("A filter was not understood and is ignored."),
            "person_filter": cleaned.get("person"),
            "item_filter": cleaned.get("item"),
            "query": query,
            "this_monday": week_monday(now, team.time_zone),
        },
        partial="feed",
        status=status if valid else 400,
    )


@require_GET
def work_log(request: AuthedRequest, slug: str) -> HttpResponse:
    return _render(request, team_membership_or_404(request.user, slug))


@require_POST
def work_log_add(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug, Role.MEMBER)
    team = membership.team
    form = WorkLogForm(request.POST, team=team)
    if form.is_valid():
        try:
            entry = services.work_log_add(
                team=team, person=request.user, at=timezone.now(), **form.cleaned_data
            )
        except services.BacklogError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                _("Logged %(hours)s h on %(day)s.")
                % {"hours": hours_text(entry.hours), "day": date_format(entry.on, "DATE_FORMAT")},
            )
            return redirect(reverse("toil:worklog", args=[slug]))
    messages.error(request, _("Nothing was logged. Please correct the fields marked below."))
    return _render(request, membership, form=form, status=400)


def entry_delete_question(entry: WorkLogEntry) -> str:
    return _("Delete the entry of %(hours)s h on %(day)s?") % {
        "hours": hours_text(entry.hours),
        "day": date_format(entry.on, "DATE_FORMAT"),
    }


@require_POST
def work_log_delete(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Deletes once confirmed; a post without the confirmation gets the page that asks."""
    membership = team_membership_or_404(request.user, slug, Role.MEMBER)
    entry = get_object_or_404(
        WorkLogEntry.objects.select_related("person", "item"), team=membership.team, pk=pk
    )
    back_to = reverse("toil:worklog", args=[slug])
    if entry.person_id != request.user.pk and not membership.allows(Role.ADMIN):
        messages.error(request, _("Only the person who logged an entry, or an admin, deletes it."))
        return redirect(back_to)
    if not delete_confirmed(request):
        return delete_confirmation(
            request,
            question=entry_delete_question(entry),
            details=[
                _("Logged by %(person)s, on “%(item)s”.")
                % {
                    "person": entry.person.get_username(),
                    "item": entry.item.title if entry.item else _("other work"),
                },
                entry.note,
            ],
            action=request.path,
            cancel_url=back_to,
            button=_("Delete the entry"),
        )
    services.work_log_delete(entry=entry)
    messages.success(request, _("The entry is deleted."))
    return after_delete(request, back_to)
