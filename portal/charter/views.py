"""The charter page and the hearings. Anyone in the team reads; admins edit the charter;
members and admins record hearings and turn their features into SLOs; anyone outside
the team gets 404. Bad input answers 400 with the page and its messages, and nothing is
written."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import AuthedRequest, team_membership_or_404, team_object_for_user
from portal.charter import selectors, services
from portal.charter.defaults import DEFAULT_RESPONSIBILITIES
from portal.charter.forms import (
    CandidateForm,
    CandidateFormSet,
    CharterForm,
    FeatureEditFormSet,
    HearingForm,
    ResponsibilityForm,
)
from portal.confirm import after_delete, delete_confirmation, delete_confirmed
from portal.formatting import day_text
from portal.models import (
    SRE_SHAPE_EXPLANATIONS,
    CharterChange,
    CharterChangeKind,
    Hearing,
    Membership,
    Responsibility,
    ResponsibleParty,
    Role,
    SLICandidate,
    SREShape,
)


@dataclass(frozen=True)
class ShapeOption:
    value: str
    label: str
    explanation: str
    chosen: bool


@dataclass(frozen=True)
class ChangeRow:
    """A history entry as the reader sees it: codes shown by their labels; `subject`:
    the responsibility it is about, when `before` and `after` do not already say it."""

    change: CharterChange
    subject: str
    before: str
    after: str


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _change_row(change: CharterChange) -> ChangeRow:
    kind, before, after = change.kind, change.before, change.after
    if kind == CharterChangeKind.SRE_SHAPE:
        return ChangeRow(change, "", _label(SREShape, before), _label(SREShape, after))
    if kind == CharterChangeKind.RESPONSIBILITIES_ADOPTED:
        count = len(after.splitlines())
        return ChangeRow(
            change,
            "",
            "",
            ngettext("%(count)d responsibility", "%(count)d responsibilities", count)
            % {"count": count},
        )
    if kind in (CharterChangeKind.HEARING_CHANGED, CharterChangeKind.HEARING_DELETED):
        return ChangeRow(change, change.subject, before, after)  # stored as written
    if kind in (CharterChangeKind.MISSION,):
        return ChangeRow(change, "", before, after)
    party_change = before in ResponsibleParty.values or after in ResponsibleParty.values
    if kind == CharterChangeKind.RESPONSIBILITY_CHANGED and not party_change:
        return ChangeRow(change, "", before, after)  # renamed: old and new name say it
    return ChangeRow(
        change, change.subject, _label(ResponsibleParty, before), _label(ResponsibleParty, after)
    )


def _row_form(responsibility: Responsibility, data=None) -> ResponsibilityForm:
    return ResponsibilityForm(
        data,
        initial={"description": responsibility.description, "party": responsibility.party},
        auto_id=f"id_r{responsibility.pk}_%s",
    )


def new_slo_url(team_slug: str, candidate: SLICandidate) -> str:
    return reverse("slos:create", args=[team_slug]) + f"?candidate={candidate.pk}"


def _charter_page(
    request: AuthedRequest,
    membership: Membership,
    *,
    charter_form: CharterForm | None = None,
    add_form: ResponsibilityForm | None = None,
    failed_row: tuple[int, ResponsibilityForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    team = membership.team
    page = selectors.charter_page(team)
    can_admin = membership.allows(Role.ADMIN)
    rows = []
    for responsibility in page.responsibilities:
        form = None
        if can_admin:
            failed = failed_row is not None and failed_row[0] == responsibility.pk
            form = failed_row[1] if failed else _row_form(responsibility)
        rows.append((responsibility, form))
    return render(
        request,
        "portal/charter.html",
        {
            "team": team,
            "membership": membership,
            "can_admin": can_admin,
            "can_edit": membership.allows(Role.MEMBER),
            "page": page,
            "shapes": [
                ShapeOption(
                    value, str(label), str(SRE_SHAPE_EXPLANATIONS[value]), value == page.sre_shape
                )
                for value, label in SREShape.choices
            ],
            "rows": rows,
            "suggestions": DEFAULT_RESPONSIBILITIES if not page.responsibilities else [],
            "changes": [_change_row(change) for change in page.changes],
            "unmeasured": [(c, new_slo_url(team.slug, c)) for c in page.unmeasured],
            "charter_form": charter_form
            or CharterForm(initial={"mission": team.mission, "sre_shape": page.sre_shape}),
            "add_form": add_form or ResponsibilityForm(auto_id="id_new_%s"),
            "parties": ResponsibleParty.choices,
        },
        status=status,
    )


@require_GET
def charter_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    return _charter_page(request, team_membership_or_404(request.user, slug))


def _to_charter(slug: str, anchor: str = "") -> HttpResponse:
    return redirect(reverse("charter:detail", args=[slug]) + (f"#{anchor}" if anchor else ""))


@require_POST
def charter_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug, Role.ADMIN)
    form = CharterForm(request.POST)
    if not form.is_valid():
        return _charter_page(request, membership, charter_form=form, status=400)
    changes = services.charter_update(
        team=membership.team, by=request.user, at=timezone.now(), **form.cleaned_data
    )
    if changes:
        messages.success(request, _("Charter saved."))
    else:
        messages.info(request, _("Nothing changed."))
    return _to_charter(slug)


@require_POST
def responsibility_add(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug, Role.ADMIN)
    form = ResponsibilityForm(request.POST, auto_id="id_new_%s")
    if form.is_valid():
        try:
            services.responsibility_add(
                team=membership.team, by=request.user, at=timezone.now(), **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error("description", error.messages)
        else:
            messages.success(request, _("Responsibility added."))
            return _to_charter(slug, "responsibilities")
    return _charter_page(request, membership, add_form=form, status=400)


@require_POST
def responsibility_edit(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    responsibility, membership = team_object_for_user(
        request.user, slug, Responsibility.objects, needed=Role.ADMIN, pk=pk
    )
    form = _row_form(responsibility, request.POST)
    if form.is_valid():
        try:
            services.responsibility_update(
                responsibility=responsibility,
                by=request.user,
                at=timezone.now(),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error("description", error.messages)
        else:
            messages.success(request, _("Responsibility saved."))
            return _to_charter(slug, "responsibilities")
    return _charter_page(request, membership, failed_row=(responsibility.pk, form), status=400)


@require_POST
def responsibility_delete(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Removes once confirmed (portal/confirm.py); else the page that asks."""
    responsibility, membership = team_object_for_user(
        request.user, slug, Responsibility.objects, needed=Role.ADMIN, pk=pk
    )
    back_to = reverse("charter:detail", args=[slug]) + "#responsibilities"
    if not delete_confirmed(request):
        return delete_confirmation(
            request,
            question=_("Remove “%(text)s” from the charter?")
            % {"text": responsibility.description},
            details=[
                _("The charter's history keeps a note that it was removed, by whom and when.")
            ],
            action=request.path,
            cancel_url=back_to,
            button=_("Remove the responsibility"),
        )
    services.responsibility_remove(
        responsibility=responsibility, by=request.user, at=timezone.now()
    )
    messages.success(request, _("Responsibility removed."))
    return after_delete(request, back_to)


@require_POST
def responsibilities_adopt(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug, Role.ADMIN)
    try:
        services.responsibilities_adopt_defaults(
            team=membership.team, by=request.user, at=timezone.now()
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _charter_page(request, membership, status=400)
    messages.success(request, _("The suggested split is on the charter: adjust it to your team."))
    return _to_charter(slug, "responsibilities")


# Hearings ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def hearing_create(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug, Role.MEMBER)
    team = membership.team
    data = request.POST if request.method == "POST" else None
    today = timezone.localtime(timezone.now(), ZoneInfo(team.time_zone)).date()
    form = HearingForm(data, initial={"held_on": today})
    features = CandidateFormSet(data, prefix="features")
    if data is not None and form.is_valid() and features.is_valid():
        hearing = services.hearing_record(
            team=team,
            by=request.user,
            at=timezone.now(),
            features=features.features_heard(),
            **form.cleaned_data,
        )
        messages.success(request, _("Hearing recorded."))
        return redirect("charter:hearing", slug=slug, pk=hearing.pk)
    return render(
        request,
        "portal/hearing_form.html",
        {
            "team": team,
            "form": form,
            "features": features,
            "service_names": selectors.team_service_names(team),
        },
        status=400 if data is not None else 200,
    )


def _hearing_page(
    request: AuthedRequest,
    hearing: Hearing,
    membership: Membership,
    *,
    candidate_form: CandidateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    team = membership.team
    can_edit = membership.allows(Role.MEMBER)
    candidates = selectors.hearing_with_candidates(hearing)
    return render(
        request,
        "portal/hearing.html",
        {
            "team": team,
            "hearing": hearing,
            "can_edit": can_edit,
            "candidates": [(c, new_slo_url(team.slug, c)) for c in candidates],
            "candidate_form": candidate_form or CandidateForm(),
            "service_names": selectors.team_service_names(team) if can_edit else [],
        },
        status=status,
    )


@require_GET
def hearing_detail(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    hearing, membership = team_object_for_user(
        request.user, slug, Hearing.objects.select_related("recorded_by"), pk=pk
    )
    return _hearing_page(request, hearing, membership)


@require_POST
def candidate_add(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    hearing, membership = team_object_for_user(
        request.user, slug, Hearing.objects.select_related("recorded_by"), needed=Role.MEMBER, pk=pk
    )
    form = CandidateForm(request.POST)
    if not form.is_valid():
        return _hearing_page(request, hearing, membership, candidate_form=form, status=400)
    services.candidate_add(hearing=hearing, feature=form.feature_heard())
    messages.success(request, _("Feature added."))
    return redirect(reverse("charter:hearing", args=[slug, hearing.pk]) + "#candidates")


def _hearing_for(request: AuthedRequest, slug: str, pk: int, needed: str | None = None):
    return team_object_for_user(
        request.user,
        slug,
        Hearing.objects.select_related("recorded_by", "team"),
        pk=pk,
        **({"needed": needed} if needed else {}),
    )


@require_http_methods(["GET", "POST"])
def hearing_edit(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Who, when, the pains and the features. A feature made into an SLO can be reworded
    but not removed (the SLO points to it); the change goes to the charter's history."""
    hearing, membership = _hearing_for(request, slug, pk, Role.MEMBER)
    team = membership.team
    candidates = selectors.hearing_with_candidates(hearing)
    data = request.POST if request.method == "POST" else None
    # Not bound to the instance: the service writes it (and compares with what was).
    form = HearingForm(
        data, initial={"held_on": hearing.held_on, "heard": hearing.heard, "pains": hearing.pains}
    )
    features = FeatureEditFormSet(
        data,
        prefix="features",
        initial=[
            {
                "candidate": c.pk,
                "feature": c.feature,
                "working_means": c.working_means,
                "service_name": c.service_name,
            }
            for c in candidates
        ],
    )
    error = ""
    if data is not None and form.is_valid() and features.is_valid():
        try:
            changed = services.hearing_update(
                hearing=hearing,
                by=request.user,
                at=timezone.now(),
                edits=features.edits(),
                added=features.added(),
                **form.cleaned_data,
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            if changed:
                messages.success(request, _("Hearing saved."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("charter:hearing", slug=slug, pk=hearing.pk)
    with_slos = {c.pk for c in candidates if c.measured_by}
    return render(
        request,
        "portal/hearing_edit.html",
        {
            "team": team,
            "hearing": hearing,
            "form": form,
            "features": features,
            "rows": [(row, _int(row["candidate"].value()) in with_slos) for row in features],
            "error": error,
            "service_names": selectors.team_service_names(team),
        },
        status=400 if data is not None else 200,
    )


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@require_POST
def hearing_delete(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Deletes once confirmed (portal/confirm.py); else the page that asks. The SLOs
    made from its features stay."""
    hearing, membership = _hearing_for(request, slug, pk, Role.MEMBER)
    if not delete_confirmed(request):
        measured = SLICandidate.objects.filter(hearing=hearing, slos__isnull=False).distinct()
        slo_count = measured.count()
        return delete_confirmation(
            request,
            question=_("Delete the hearing of %(date)s (%(heard)s)?")
            % {"date": day_text(hearing.held_on), "heard": hearing.heard},
            details=[
                _("Its pains and the features heard go with it."),
                ngettext(
                    "%(count)d feature became an SLO: the SLO stays, with its own "
                    "“why it matters”; it just no longer links to this hearing.",
                    "%(count)d features became SLOs: the SLOs stay, each with its own "
                    "“why it matters”; they just no longer link to this hearing.",
                    slo_count,
                )
                % {"count": slo_count}
                if slo_count
                else "",
                _("The charter's history keeps a note that it was deleted, by whom and when."),
            ],
            action=request.path,
            cancel_url=reverse("charter:hearing", args=[slug, hearing.pk]),
            button=_("Delete the hearing"),
        )
    services.hearing_delete(hearing=hearing, by=request.user, at=timezone.now())
    messages.success(request, _("Hearing deleted."))
    return after_delete(request, reverse("charter:detail", args=[slug]) + "#hearings")
