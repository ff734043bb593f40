"""The SLO registry's write side: create and edit an SLO, record reviews, keep the
error-budget policy and the annotations, and list each team's SLOs due for review.

Members and admins write; viewers get 403; anyone outside the team gets 404. Every bad
input answers 400 with the form and its messages, and nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.messages.utils import get_level_tags
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import AuthedRequest, team_membership_or_404, team_or_404
from portal.confirm import after_delete, delete_confirmation, delete_confirmed
from portal.formatting import target_text, time_text
from portal.models import Role, SLICandidate, Team
from slos.access import annotation_for_user, slo_for_user
from slos.models import (
    MEASUREMENT_FIELDS,
    SLO,
    WINDOW_FIELDS,
    BudgetPolicyStep,
    PullRun,
    PullStatus,
)
from slos.registry import services
from slos.registry.forms import (
    AnnotationForm,
    PolicyStepFormSet,
    SLOEditForm,
    SLOForm,
    SLOReviewForm,
    candidate_initial,
)
from slos.registry.selectors import (
    slo_annotations_latest,
    slo_last_run,
    slo_review_history,
    slo_with_budget,
    team_annotations_since,
    team_slos,
    team_slos_due_for_review,
)

RECENT_ANNOTATIONS = timedelta(days=30)
ANNOTATIONS_SHOWN = 100


def _refused(form, error: ValidationError) -> None:
    """A service refused what the form let through (e.g. a concurrent change)."""
    form.add_error(None, error.messages)


# A failed pull's reason, as the message at the top of the page quotes it: the run's
# record on the same page has the whole text.
REASON_CHARS = 300


def _backfill_run(slo: SLO, *, since: datetime) -> PullRun | None:
    """The pull that a save at `since` started for the SLO (its backfill, or a pull of
    its whole source that began after): None while it has not begun (a worker has it)."""
    run = slo_last_run(slo)
    return run if run is not None and run.started_at >= since else None


def _run_reason(run: PullRun) -> str:
    reasons = "; ".join(o["message"] for o in run.outcomes if o.get("message")) or run.message
    return Truncator(reasons.strip().rstrip(".")).chars(REASON_CHARS)


def _backfill_note(run: PullRun | None) -> tuple[int, str]:
    """What became of a backfill, and the level of the message that says so; `run` is
    None while no worker has begun it."""
    if run is None or run.status == PullStatus.RUNNING:
        return messages.INFO, _(
            "Its backfill is running in the background; its progress shows on this page."
        )
    if run.status == PullStatus.QUEUED:
        return messages.WARNING, _(
            "Its backfill is delayed: the task queue cannot be reached right now. The "
            "SLO is saved and the backfill starts on its own once the queue is back."
        )
    if run.status == PullStatus.SKIPPED:
        return messages.INFO, _(
            "Another pull of its data source was running, so its backfill did not start: "
            "the next pull fetches its hours, or use “Pull now”."
        )
    if run.status == PullStatus.FAILED:
        return messages.ERROR, _(
            "But its backfill failed, so it has no data yet (%(reason)s). Check the "
            "queries and the data source, then use “Pull now”."
        ) % {"reason": _run_reason(run)}
    if run.status == PullStatus.PARTIAL:
        return messages.WARNING, _(
            "But its backfill stored only %(stored)d of %(missing)d hours (%(reason)s)."
        ) % {"stored": run.hours_stored, "missing": run.hours_missing, "reason": _run_reason(run)}
    if run.hours_missing and not run.hours_stored:
        return messages.WARNING, _(
            "But its backfill found no data in the SLO's window: check the queries' "
            "metric names and labels."
        )
    return messages.SUCCESS, ngettext(
        "Its backfill stored %(count)d hour of data.",
        "Its backfill stored %(count)d hours of data.",
        run.hours_stored,
    ) % {"count": run.hours_stored}


# What a save said, named in the URL its message asks while the backfill runs.
SAVED_WORDS = ("created", "saved")


def _saved_text(slo: SLO, saved: str) -> str:
    if saved == "created":
        return _("SLO “%(name)s” created.") % {"name": slo.name}
    return _("SLO “%(name)s” saved.") % {"name": slo.name}


def _saved_message(slo: SLO, *, saved: str, run: PullRun | None) -> tuple[int, str]:
    """The save (`saved`: one of SAVED_WORDS), and what became of the backfill it started
    at that news's level, so a failed backfill never shows as a green "created". Short
    of success it links to the run's record lower on the page (#pull-progress)."""
    level, note = _backfill_note(run)
    if level == messages.SUCCESS:
        return level, format_html("{} {}", _saved_text(slo, saved), note)
    details = format_html('<a href="#pull-progress">{}</a>', _("Details below."))
    return level, format_html("{} {} {}", _saved_text(slo, saved), note, details)


def _backfill_live_url(slo: SLO, run: PullRun, saved: str) -> str:
    query = urlencode({"run": run.pk, "saved": saved})
    return f"{reverse('slos:backfill_live', args=[slo.pk])}?{query}"


def _report_saved(
    request: AuthedRequest, slo: SLO, *, saved: str, since: datetime, backfill: bool
) -> None:
    """One message at the top of the SLO's page: the save (`saved`: one of SAVED_WORDS)
    and, if it started a backfill (`backfill`), what became of it. A backfill running in
    the background (the embedded default) is followed there until it ends
    (slo_backfill_live)."""
    source = slo.data_source
    if not backfill or source is None or not source.is_pulled:
        messages.success(request, _saved_text(slo, saved))
        return
    run = _backfill_run(slo, since=since)
    level, text = _saved_message(slo, saved=saved, run=run)
    if run is not None and run.status == PullStatus.RUNNING:
        live = render_to_string(
            "slos/pull_progress.html#live",
            {"run": run, "live_url": _backfill_live_url(slo, run, saved)},
            request=request,
        )
        text = format_html("{} {}", text, live)
    messages.add_message(request, level, text)


@require_GET
def slo_backfill_live(request: AuthedRequest, pk: int) -> HttpResponse:
    """The message of a save whose backfill runs in the background, asked for every
    second by the page: the backfill's progress, then how it ended."""
    slo, membership = slo_for_user(request.user, pk)
    saved = request.GET.get("saved", "")
    run_id = request.GET.get("run", "")
    if saved not in SAVED_WORDS or not run_id.isdigit():
        return HttpResponseBadRequest(_("Name a run and what the save did."))
    run = get_object_or_404(PullRun, pk=int(run_id), data_source_id=slo.data_source_id)
    level, text = _saved_message(slo, saved=saved, run=run)
    return render(
        request,
        "slos/pull_progress.html#message",
        {
            "run": run,
            "level": get_level_tags()[level],
            "text": text,
            "live_url": _backfill_live_url(slo, run, saved),
        },
    )


def _form_context(*, form: SLOForm, team: Team, title: str, cancel_url: str = "") -> dict:
    return {
        "form": form,
        "team": team,
        "title": title,
        "cancel_url": cancel_url,
        "trial_url": reverse("slos:queries_try", args=[team.slug]),
    }


def _candidate_in(team: Team, raw: str | None) -> SLICandidate | None:
    """The hearing's feature named by `?candidate=` (kept in the form's URL, so the post
    carries it too), if it belongs to `team`; 404 for any other value."""
    if raw is None:
        return None
    if not raw.isdigit():
        raise Http404(_("No such SLI candidate."))
    return get_object_or_404(
        SLICandidate.objects.select_related("hearing"), pk=int(raw), hearing__team=team
    )


@require_http_methods(["GET", "POST"])
def slo_create(request: AuthedRequest, slug: str) -> HttpResponse:
    """A new SLO; with `?candidate=<id>`, one made from a hearing's feature: the form
    starts from it (candidate_initial) and the SLO remembers it."""
    team = team_or_404(request.user, slug, Role.MEMBER)
    candidate = _candidate_in(team, request.GET.get("candidate"))
    initial = candidate_initial(candidate, team) if candidate else None
    form = SLOForm(request.POST or None, team=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        requested_at = timezone.now()
        try:
            slo = services.slo_create(**form.cleaned_data, candidate=candidate)
        except ValidationError as error:
            _refused(form, error)
        else:
            _report_saved(request, slo, saved="created", since=requested_at, backfill=True)
            return redirect("slos:detail", pk=slo.pk)
    return render(
        request,
        "slos/form.html",
        _form_context(
            form=form,
            team=team,
            title=_("New SLO for “%(feature)s”") % {"feature": candidate.feature}
            if candidate
            else _("New SLO"),
            cancel_url=reverse("charter:hearing", args=[team.slug, candidate.hearing_id])
            if candidate
            else "",
        ),
        status=400 if form.is_bound else 200,
    )


# What, changed, makes a save pull the SLO's window again (services.slo_update).
REFETCHED_ON_CHANGE = MEASUREMENT_FIELDS | WINDOW_FIELDS


@require_http_methods(["GET", "POST"])
def slo_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    slo, membership = slo_for_user(request.user, pk, Role.MEMBER)
    team = slo.service.team
    title = _("Edit “%(name)s”") % {"name": slo.name}
    # The form writes the posted values onto its instance while validating; the service
    # reads the stored SLO afresh, so the old target is the one in the database.
    form = SLOEditForm(request.POST or None, instance=slo, team=team)
    if request.method == "POST":
        if form.is_valid():
            requested_at = timezone.now()
            try:
                updated = services.slo_update(
                    slo=slo, user=request.user, at=requested_at, **form.cleaned_data
                )
            except ValidationError as error:
                _refused(form, error)
            else:
                _report_saved(
                    request,
                    updated,
                    saved="saved",
                    since=requested_at,
                    backfill=bool(REFETCHED_ON_CHANGE & set(form.changed_data)),
                )
                return redirect("slos:detail", pk=updated.pk)
    return render(
        request,
        "slos/form.html",
        _form_context(
            form=form, team=team, title=title, cancel_url=reverse("slos:detail", args=[pk])
        ),
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def slo_review(request: AuthedRequest, pk: int) -> HttpResponse:
    slo, membership = slo_for_user(request.user, pk, Role.MEMBER)
    form = SLOReviewForm(request.POST or None, slo=slo)
    if request.method == "POST":
        if form.is_valid():
            try:
                review = services.slo_review_record(
                    slo=slo, user=request.user, at=timezone.now(), **form.cleaned_data
                )
            except ValidationError as error:
                _refused(form, error)
            else:
                messages.success(
                    request,
                    _("Review recorded: %(decision)s.")
                    % {"decision": review.get_decision_display()},
                )
                return redirect("slos:detail", pk=slo.pk)
    history = slo_review_history(slo)
    return render(
        request,
        "slos/registry/review.html",
        {"slo": slo, "team": slo.service.team, "form": form, "history": history},
        status=400 if form.is_bound else 200,
    )


def _steps_in_effect(steps: list[BudgetPolicyStep], remaining: float | None) -> set[int]:
    """The steps whose level the remaining budget (in %) has fallen below."""
    if remaining is None:
        return set()
    return {step.pk for step in steps if remaining < step.below_percent}


@require_http_methods(["GET", "POST"])
def policy_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    slo, membership = slo_for_user(request.user, pk, Role.MEMBER)
    steps = list(slo.policy_steps.all())
    initial = [
        {
            "below_percent": step.below_percent,
            "action": step.action,
            "freezes_releases": step.freezes_releases,
        }
        for step in steps
    ]
    formset = PolicyStepFormSet(
        request.POST if request.method == "POST" else None, initial=initial, prefix="steps"
    )
    if request.method == "POST":
        if formset.is_valid():
            kept = {(step.below_percent, step.action) for step in formset.steps()}
            removed = [step for step in steps if (step.below_percent, step.action) not in kept]
            # Removing a step of the policy the team agreed asks first (portal.confirm).
            if removed and not delete_confirmed(request):
                return delete_confirmation(
                    request,
                    question=ngettext(
                        "Remove this step from the error-budget policy?",
                        "Remove these %(count)d steps from the error-budget policy?",
                        len(removed),
                    )
                    % {"count": len(removed)},
                    details=[
                        _("Below %(level)s%% left: %(action)s")
                        % {"level": target_text(step.below_percent), "action": step.action}
                        for step in removed
                    ],
                    action=reverse("slos:policy", args=[slo.pk]),
                    cancel_url=reverse("slos:policy", args=[slo.pk]),
                    button=_("Save the policy"),
                    fields={
                        key: value
                        for key, value in request.POST.items()
                        if key != "csrfmiddlewaretoken"
                    },
                )
            try:
                services.policy_steps_replace(slo=slo, steps=formset.steps())
            except ValidationError as error:
                formset.non_form_errors().extend(error.messages)
            else:
                messages.success(request, _("Error-budget policy saved."))
                return redirect("slos:policy", pk=slo.pk)
    remaining = slo_with_budget(slo.pk, at=timezone.now()).budget.error_budget_remaining_percent
    return render(
        request,
        "slos/registry/policy.html",
        {
            "slo": slo,
            "team": slo.service.team,
            "formset": formset,
            "steps": steps,
            "remaining": remaining,
            "in_effect": _steps_in_effect(steps, remaining),
        },
        status=400 if formset.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def annotation_create(request: AuthedRequest, pk: int) -> HttpResponse:
    slo, membership = slo_for_user(request.user, pk, Role.MEMBER)
    team = slo.service.team
    form = AnnotationForm(request.POST or None, slo=slo, at=timezone.now())
    if request.method == "POST":
        if form.is_valid():
            try:
                services.annotation_create(**form.annotation_data(), created_by=request.user)
            except ValidationError as error:
                _refused(form, error)
            else:
                messages.success(request, _("Annotation added."))
                return redirect("slos:detail", pk=slo.pk)
    annotations = slo_annotations_latest(slo, limit=ANNOTATIONS_SHOWN)
    return render(
        request,
        "slos/registry/annotation_form.html",
        {
            "slo": slo,
            "team": team,
            "form": form,
            "annotations": annotations,
            "can_edit": True,
            "back_to": request.path,
        },
        status=400 if form.is_bound else 200,
    )


@require_POST
def annotation_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Deletes once confirmed (portal/confirm.py); else the page that asks."""
    annotation, membership = annotation_for_user(request.user, pk, Role.MEMBER)
    slo_id, team = annotation.slo_id, annotation.team
    back_to = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back_to = (
            reverse("slos:detail", args=[slo_id])
            if slo_id is not None
            else reverse("slos:due", args=[team.slug]) + "#annotations"
        )
    if not delete_confirmed(request):
        return delete_confirmation(
            request,
            question=_("Delete the annotation “%(text)s”?") % {"text": annotation.text},
            details=[
                _("%(kind)s, %(start)s – %(end)s (%(zone)s)")
                % {
                    "kind": annotation.get_kind_display(),
                    "start": time_text(annotation.starts_at, team.time_zone),
                    "end": time_text(annotation.ends_at, team.time_zone),
                    "zone": team.time_zone,
                },
                _("An excluded maintenance: its hours count in the error budget again.")
                if annotation.excluded
                else "",
            ],
            action=request.path,
            cancel_url=back_to,
            button=_("Delete the annotation"),
            fields={"next": back_to},
        )
    services.annotation_delete(annotation=annotation)
    messages.success(request, _("Annotation deleted."))
    return after_delete(request, back_to)


@dataclass(frozen=True)
class DueRow:
    slo: SLO
    days_overdue: int


@require_GET
def due_for_review(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's SLOs due for review today (team time zone) or overdue, most overdue
    first; then its recent annotations. A fixed number of queries for any count."""
    membership = team_membership_or_404(request.user, slug)
    team = membership.team
    now = timezone.now()
    today: date = services.team_today(team, at=now)
    due = team_slos_due_for_review(team, on=today)
    annotations = team_annotations_since(
        team, since=now - RECENT_ANNOTATIONS, limit=ANNOTATIONS_SHOWN
    )
    can_edit = membership.allows(Role.MEMBER)
    return render(
        request,
        "slos/registry/due.html",
        {
            "team": team,
            "today": today,
            "rows": [DueRow(slo, (today - slo.next_review_on).days) for slo in due],
            "annotations": annotations,
            "all_slos": team_slos(team) if can_edit else [],
            "can_edit": can_edit,
            "back_to": reverse("slos:due", args=[team.slug]) + "#annotations",
        },
    )
