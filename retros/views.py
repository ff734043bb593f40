"""The retro's screens: the list (each team's next session planned ahead), the session
page (the whole agenda, where members decide), the meeting screen the room follows, and
the writes they post. Writes answer htmx with the section they changed, or redirect;
bad input gets 400, a write the session's state refuses (closed, not started) 409, and
either changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import (
    AuthedRequest,
    membership_or_404,
    object_for_user,
    team_membership_or_404,
    team_or_404,
    teams_allowing,
)
from portal.htmx import render_page_or_partial, wants_partial
from portal.models import Membership, Role
from portal.weeks import week_monday
from retros import charts, forms, services
from retros.agenda import SECTION_SLUGS, SECTIONS, section_index
from retros.kudos import KudosForm, team_kudos
from retros.models import (
    ActionReview,
    BudgetSnapshot,
    RetroSession,
    ReviewItem,
    SessionStatus,
    TicketDecision,
)
from retros.screen import section_views
from retros.selectors import follow_state, retro_agenda, retros_held_this_week, week_retro
from retros.summary import session_markdown, summary_from_agenda
from retros.trends import retro_trends as trends_for

SESSION_PAGE = "retros/session.html"
PRESENT_PAGE = "retros/present.html"


def _session_for(request: AuthedRequest, pk: int, needed: Role = Role.VIEWER):
    return object_for_user(request.user, RetroSession.objects.for_page(), pk=pk, needed=needed)


def _row_for(request: AuthedRequest, objects: QuerySet, pk: int):
    """A frozen row of a session and the member's membership (404 / 403 as for sessions)."""
    return object_for_user(
        request.user,
        objects.select_related("session__team"),
        pk=pk,
        needed=Role.MEMBER,
        team_id_of=lambda row: row.session.team_id,
    )


@dataclass(frozen=True)
class WeekNotice:
    """Why a planned session cannot be started now: it is not its week. One retro a
    team and week, so the page links to the retro of this week when there is one."""

    early: bool  # its week is still to come (else it is over)
    this_week_retro: RetroSession | None


def _week_notice(session: RetroSession, *, at: datetime) -> WeekNotice | None:
    if not session.is_planned:
        return None
    this_monday = week_monday(at, session.team.time_zone)
    if session.week_of == this_monday:
        return None
    return WeekNotice(
        early=session.week_of > this_monday,
        this_week_retro=week_retro(team=session.team, week_of=this_monday),
    )


def _context(request: AuthedRequest, session: RetroSession, membership: Membership) -> dict:
    now = timezone.now()
    agenda = retro_agenda(session, at=now)
    member = membership.allows(Role.MEMBER)
    week_notice = _week_notice(session, at=now)
    return {
        "session": session,
        "team": session.team,
        "agenda": agenda,
        "sections": section_views(agenda),
        "is_member": member,
        # Only admins edit routing rules: the others' "tune" links open the policy.
        "is_admin": membership.allows(Role.ADMIN),
        "can_write": member and session.is_live,
        "can_start": member and session.is_planned and week_notice is None,
        "week_notice": week_notice,
        "action_form": forms.ActionForm(team=session.team),
        "release_choices": forms.ReleaseForm.base_fields["decision"].choices,
        "ticket_choices": forms.TICKET_DECISIONS,
        "review_choices": forms.ReviewForm.base_fields["decision"].choices,
        "outcome_choices": forms.ActionReviewForm.base_fields["outcome"].choices,
        # What closing would store and post, so the room reads it before it is sent.
        "summary_preview": (
            "" if session.is_closed else session_markdown(summary_from_agenda(agenda))
        ),
    }


def _attend(request: AuthedRequest, session: RetroSession) -> None:
    if session.is_live:
        services.retro_attend(session=session, user=request.user)


@require_GET
def retro_list(request: AuthedRequest) -> HttpResponse:
    """Each of the user's teams with its next session planned ahead, then the history."""
    now = timezone.now()
    teams = teams_allowing(request.user, Role.VIEWER)
    upcoming = [services.retro_session_plan(team=team, at=now) for team in teams]
    upcoming_ids = {session.pk for session in upcoming}
    live = list(
        RetroSession.objects.visible_to(request.user)
        .for_page()
        .filter(status=SessionStatus.LIVE)
        .exclude(pk__in=upcoming_ids)
    )
    # A team whose retro of this week is closed has next week's planned: say so, with
    # the link to the one held, rather than show a second retro of this week.
    held = retros_held_this_week(teams, at=now)
    history = (
        RetroSession.objects.visible_to(request.user)
        .for_page()
        .filter(status=SessionStatus.CLOSED)
        .select_related("facilitator")
    )
    return render(
        request,
        "retros/list.html",
        {
            "upcoming": [(session, None) for session in live]
            + [(session, held.get(session.team_id)) for session in upcoming],
            "history": history,
            "now": now,
        },
    )


@require_GET
def retro_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    session, membership = _session_for(request, pk)
    _attend(request, session)
    return render(request, SESSION_PAGE, _context(request, session, membership))


@require_GET
def retro_present(request: AuthedRequest, pk: int) -> HttpResponse:
    """The meeting screen: one section at a time. `?section=N` picks the shown section
    (a follower's own, or the facilitator's); htmx gets that section alone."""
    session, membership = _session_for(request, pk)
    if not wants_partial(request):
        _attend(request, session)
    context = _context(request, session, membership)
    raw = request.GET.get("section", "")
    shown = int(raw) if raw.isdecimal() and int(raw) < len(SECTIONS) else session.current_section
    context["section"] = context["sections"][shown]
    context["budgets"] = [section.budget_seconds for section in context["sections"]]
    if session.is_live and session.section_started_at is not None:
        on_section = timezone.now() - session.section_started_at
        context["elapsed"] = max(0, int(on_section.total_seconds()))
    return render_page_or_partial(request, PRESENT_PAGE, context, partial="stage")


@require_GET
def retro_follow(request: AuthedRequest, pk: int) -> JsonResponse:
    """What a follower polls every second: the version, the facilitator's section, the
    status and the time on the section. A fixed small number of queries."""
    now = timezone.now()
    try:
        state, team_id = follow_state(pk, at=now)
    except RetroSession.DoesNotExist:
        raise Http404("No such retro.") from None
    membership_or_404(request.user, team_id)
    response = JsonResponse(state.as_json())
    response["Cache-Control"] = "no-store"
    return response


# --- Writes ---------------------------------------------------------------------------


def _section_answer(
    request: AuthedRequest,
    session: RetroSession,
    membership: Membership,
    slug: str,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """htmx: the section, as it is now (with the error, if any). Otherwise a success
    goes back to the page at the section, and a refusal shows the page with the error."""
    if not wants_partial(request) and not error:
        return redirect(f"{reverse('retros:detail', args=[session.pk])}#section-{slug}")
    session.refresh_from_db()
    context = _context(request, session, membership)
    context["section"] = context["sections"][section_index(slug)]
    context["error"] = error
    context["error_section"] = slug
    context["mode"] = request.POST.get("mode", "page")
    return render_page_or_partial(request, SESSION_PAGE, context, partial="section", status=status)


def _write(
    request: AuthedRequest,
    session: RetroSession,
    membership: Membership,
    slug: str,
    form,
    write: Callable[[dict], object],
) -> HttpResponse:
    """Validate, write, and answer with the section; nothing is written on a refusal."""
    if not form.is_valid():
        return _section_answer(
            request, session, membership, slug, error=forms.first_error(form), status=400
        )
    try:
        write(form.cleaned_data)
    except ValidationError as refused:
        return _section_answer(
            request, session, membership, slug, error=" ".join(refused.messages), status=400
        )
    except ValueError as refused:
        return _section_answer(request, session, membership, slug, error=str(refused), status=409)
    return _section_answer(request, session, membership, slug)


@require_POST
def retro_start(request: AuthedRequest, pk: int) -> HttpResponse:
    session, membership = _session_for(request, pk, Role.MEMBER)
    try:
        services.retro_session_start(session=session, user=request.user, at=timezone.now())
    except services.RetroWeekRefused as refused:
        # The session page says why, and links to this week's retro when there is one.
        context = _context(request, session, membership) | {"refused": str(refused)}
        return render(request, SESSION_PAGE, context, status=409)
    except ValueError as refused:
        return HttpResponse(str(refused), status=409, content_type="text/plain; charset=utf-8")
    messages.success(request, _("Retro started: everything on the agenda is frozen as of now."))
    return redirect("retros:present", pk=session.pk)


@require_POST
def retro_close(request: AuthedRequest, pk: int) -> HttpResponse:
    session, _membership = _session_for(request, pk, Role.MEMBER)
    try:
        services.retro_session_close(session=session, user=request.user, at=timezone.now())
    except ValueError as refused:
        return HttpResponse(str(refused), status=409, content_type="text/plain; charset=utf-8")
    messages.success(request, _("Retro closed. Its summary is below."))
    return redirect(f"{reverse('retros:detail', args=[session.pk])}#section-summary")


@require_POST
def retro_move(request: AuthedRequest, pk: int) -> HttpResponse:
    """The facilitator's section (whoever moves leads from then on). The meeting
    screen's script gets the follow state back as JSON; a form goes to the screen."""
    session, _membership = _session_for(request, pk, Role.MEMBER)
    form = forms.MoveForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            forms.first_error(form), status=400, content_type="text/plain; charset=utf-8"
        )
    now = timezone.now()
    try:
        services.retro_section_move(
            session=session, user=request.user, index=form.cleaned_data["index"], at=now
        )
    except ValueError as refused:
        return HttpResponse(str(refused), status=409, content_type="text/plain; charset=utf-8")
    if "application/json" in request.headers.get("Accept", ""):
        state, _team_id = follow_state(session.pk, at=now)
        return JsonResponse(state.as_json())
    return redirect("retros:present", pk=session.pk)


@require_POST
def retro_note_add(request: AuthedRequest, pk: int) -> HttpResponse:
    session, membership = _session_for(request, pk, Role.MEMBER)
    form = forms.NoteForm(request.POST)
    slug = request.POST.get("section")
    slug = slug if slug in SECTION_SLUGS else "summary"
    return _write(
        request,
        session,
        membership,
        slug,
        form,
        lambda data: services.retro_note_add(
            session=session,
            user=request.user,
            section=data["section"],
            text=data["text"],
            at=timezone.now(),
        ),
    )


@require_POST
def retro_release_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    snapshot, membership = _row_for(request, BudgetSnapshot.objects, pk)
    return _write(
        request,
        snapshot.session,
        membership,
        "budgets",
        forms.ReleaseForm(request.POST),
        lambda data: services.retro_release_decide(
            snapshot=snapshot, user=request.user, decision=data["decision"], at=timezone.now()
        ),
    )


@require_POST
def retro_ticket_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    item, membership = _row_for(request, TicketDecision.objects, pk)
    return _write(
        request,
        item.session,
        membership,
        "tickets",
        forms.TicketDecisionForm(request.POST),
        lambda data: services.retro_ticket_decide(
            item=item,
            user=request.user,
            decision=data["decision"],
            note=data["note"],
            at=timezone.now(),
        ),
    )


@require_POST
def retro_review_record(request: AuthedRequest, pk: int) -> HttpResponse:
    item, membership = _row_for(request, ReviewItem.objects.select_related("slo"), pk)
    return _write(
        request,
        item.session,
        membership,
        "reviews",
        forms.ReviewForm(request.POST, slo=item.slo),
        lambda data: services.retro_review_record(
            item=item,
            user=request.user,
            decision=data["decision"],
            note=data["note"],
            new_target=data["new_target"],
            at=timezone.now(),
        ),
    )


@require_POST
def retro_action_add(request: AuthedRequest, pk: int) -> HttpResponse:
    session, membership = _session_for(request, pk, Role.MEMBER)
    return _write(
        request,
        session,
        membership,
        "actions",
        forms.ActionForm(request.POST, team=session.team),
        lambda data: services.retro_action_add(
            session=session,
            user=request.user,
            text=data["text"],
            owner=data["owner"],
            due_on=data["due_on"],
            backlog_item=data["backlog_item"],
            at=timezone.now(),
        ),
    )


@require_POST
def retro_action_review(request: AuthedRequest, pk: int) -> HttpResponse:
    review, membership = _row_for(request, ActionReview.objects, pk)
    return _write(
        request,
        review.session,
        membership,
        "actions",
        forms.ActionReviewForm(request.POST),
        lambda data: services.retro_action_review(
            review=review, user=request.user, outcome=data["outcome"], at=timezone.now()
        ),
    )


@require_GET
def retro_summary_download(request: AuthedRequest, pk: int) -> HttpResponse:
    """The summary as Markdown: a closed session's as stored at close, a live or planned
    one's as it would read now."""
    session, _membership = _session_for(request, pk)
    if session.is_closed and session.summary:
        text = session.summary
    else:
        agenda = retro_agenda(session, at=timezone.now())
        url = request.build_absolute_uri(reverse("retros:detail", args=[session.pk]))
        text = session_markdown(summary_from_agenda(agenda, url=url))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    filename = f"retro-{session.team.slug}-{session.week_of:%Y-%m-%d}.md"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Kudos and trends (the team's pages beside its sessions) -------------------------


@require_http_methods(["GET", "POST"])
def retro_kudos(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's kudos, and for members a form to add one (shown in the next retro)."""
    needed = Role.MEMBER if request.method == "POST" else Role.VIEWER
    membership = team_membership_or_404(request.user, slug, needed)
    team = membership.team
    form = KudosForm(request.POST or None, team=team)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            services.kudos_add(
                team=team,
                user=request.user,
                person=data["person"],
                person_name=data["person_name"],
                what=data["what"],
                practice=data["practice"],
                at=timezone.now(),
            )
            messages.success(request, _("Kudos noted: they will be read out at the next retro."))
            return redirect("retros:kudos", slug=team.slug)
        status = 400
    return render(
        request,
        "retros/kudos.html",
        {
            "team": team,
            "form": form,
            "can_add": membership.allows(Role.MEMBER),
            "kudos": team_kudos(team),
        },
        status=status,
    )


@require_GET
def retro_trends(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's retros week by week: budget status per SLO, tickets new vs decided,
    actions opened vs closed, kudos."""
    team = team_or_404(request.user, slug)
    trends = trends_for(team)
    weeks = trends.labels
    figures = {}
    if trends.weeks:
        figures = {
            "budgets": charts.budget_status_heatmap(
                weeks, trends.slos, title=_("Budget status at each retro")
            ).to_plotly_json(),
            "tickets": charts.tickets_figure(
                weeks,
                [week.tickets_new for week in trends.weeks],
                [week.tickets_decided for week in trends.weeks],
            ).to_plotly_json(),
            "actions": charts.actions_figure(
                weeks,
                [week.actions_opened for week in trends.weeks],
                [week.actions_closed for week in trends.weeks],
            ).to_plotly_json(),
            "kudos": charts.kudos_figure(
                weeks, [week.kudos for week in trends.weeks]
            ).to_plotly_json(),
        }
    return render(
        request,
        "retros/trends.html",
        {"team": team, "trends": trends, "figures": figures},
    )
