"""The SLO registry's write side: edit an SLO, record reviews, keep the error-budget
policy and the annotations, and list each team's SLOs due for review.

Members and admins write; viewers get 403; anyone outside the team gets 404. Every bad
input answers 400 with the form and its messages, and nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import AuthedRequest, team_membership_or_404
from portal.models import Role
from slos.access import annotation_for_user, slo_for_user
from slos.models import SLO, BudgetPolicyStep
from slos.registry import services
from slos.registry.forms import AnnotationForm, PolicyStepFormSet, SLOEditForm, SLOReviewForm
from slos.registry.selectors import (
    slo_annotations_latest,
    slo_review_history,
    slo_with_budget,
    team_annotations_since,
    team_slos,
    team_slos_due_for_review,
)
from slos.registry.views import backfill_delayed_note

RECENT_ANNOTATIONS = timedelta(days=30)
ANNOTATIONS_SHOWN = 100


def _refused(form, error: ValidationError) -> None:
    """A service refused what the form let through (e.g. a concurrent change)."""
    form.add_error(None, error.messages)


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
            try:
                updated = services.slo_update(
                    slo=slo, user=request.user, at=timezone.now(), **form.cleaned_data
                )
            except ValidationError as error:
                _refused(form, error)
            else:
                messages.success(request, _("SLO “%(name)s” saved.") % {"name": updated.name})
                backfill_delayed_note(request, updated)
                return redirect("slos:detail", pk=updated.pk)
    return render(
        request,
        "slos/form.html",
        {
            "form": form,
            "team": team,
            "title": title,
            "cancel_url": reverse("slos:detail", args=[pk]),
        },
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
    annotation, membership = annotation_for_user(request.user, pk, Role.MEMBER)
    slo_id, team = annotation.slo_id, annotation.team
    services.annotation_delete(annotation=annotation)
    messages.success(request, _("Annotation deleted."))
    back_to = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back_to)
    if slo_id is not None:
        return redirect("slos:detail", pk=slo_id)
    return redirect(reverse("slos:due", args=[team.slug]) + "#annotations")


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
