"""The team's hierarchy page and a service's assessment page. Anyone in the team reads;
members and admins record a round; anyone outside the team gets 404. Bad input answers
400 with the page and its messages, and nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import AuthedRequest, team_membership_or_404, team_object_for_user
from portal.hierarchy import charts, rules, selectors, services
from portal.hierarchy.forms import AssessmentForm
from portal.hierarchy.levels import ENABLEMENT_MET, ENABLEMENTS, LEVELS, ChecklistItem, Level
from portal.models import Membership, Role
from slos.models import Service


@dataclass(frozen=True)
class ItemRow:
    item: ChecklistItem
    checked: bool
    seen: rules.Finding | None  # what the portal sees of it, if it can tell


@dataclass(frozen=True)
class LevelRow:
    """One level on a service's page: the team's latest answer beside the evidence."""

    level: Level
    position: int
    answer: rules.LevelAnswer | None
    met: bool
    items: list[ItemRow]
    evidence: rules.LevelEvidence
    disagreement: str
    fields: tuple | None  # the form's (checklist, enablement, note) for this level

    @property
    def boxes(self) -> list[tuple]:
        """The checklist's checkboxes, each with its item and what the portal sees."""
        return list(zip(self.fields[0], self.items, strict=True)) if self.fields else []

    @property
    def enablement_label(self) -> str:
        return str(ENABLEMENTS[self.answer.enablement].label) if self.answer else ""


def _level_rows(page: selectors.ServiceHierarchy, form: AssessmentForm | None) -> list[LevelRow]:
    latest = page.latest.answers if page.latest else {}
    rows = []
    for position, level in enumerate(LEVELS, start=1):
        answer = latest.get(level.key)
        evidence = page.evidence[level.key]
        checked = answer.checked if answer else frozenset()
        rows.append(
            LevelRow(
                level=level,
                position=position,
                answer=answer,
                met=rules.level_met(answer),
                items=[
                    ItemRow(item, item.key in checked, evidence.for_item(item.key))
                    for item in level.checklist
                ],
                evidence=evidence,
                disagreement=rules.answer_vs_evidence(answer, evidence),
                fields=form.level_fields(level) if form is not None else None,
            )
        )
    return rows


def _history(rounds: list[rules.Round]) -> list[tuple[rules.Round, list[int | None]]]:
    """Rounds newest first, each with its enablement per level."""
    return [
        (
            found,
            [
                found.answers[level.key].enablement if level.key in found.answers else None
                for level in LEVELS
            ],
        )
        for found in reversed(rounds)
    ]


def _service_page(
    request: AuthedRequest,
    service: Service,
    membership: Membership,
    *,
    form: AssessmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    team = membership.team
    page = selectors.service_hierarchy(service, at=timezone.now())
    can_edit = membership.allows(Role.MEMBER)
    if can_edit and form is None:
        form = AssessmentForm(today=page.today, previous=page.latest)
    return render(
        request,
        "portal/hierarchy_service.html",
        {
            "team": team,
            "service": service,
            "page": page,
            "can_edit": can_edit,
            "form": form if can_edit else None,
            "rows": _level_rows(page, form if can_edit else None),
            "focus": page.focus,
            "history": _history(page.rounds),
            "levels": LEVELS,
            "enablements": ENABLEMENTS,
            "met_at": ENABLEMENT_MET,
            "radar": charts.service_radar_figure(page.rounds).to_plotly_json()
            if page.rounds
            else None,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def service_hierarchy(request: AuthedRequest, slug: str, service_id: int) -> HttpResponse:
    needed = Role.MEMBER if request.method == "POST" else Role.VIEWER
    service, membership = team_object_for_user(
        request.user, slug, Service.objects.select_related("team"), needed=needed, pk=service_id
    )
    if request.method != "POST":
        return _service_page(request, service, membership)
    today = timezone.localtime(timezone.now(), ZoneInfo(membership.team.time_zone)).date()
    form = AssessmentForm(request.POST, today=today)
    if form.is_valid():
        try:
            services.hierarchy_assessment_record(
                service=service,
                by=request.user,
                at=timezone.now(),
                assessed_on=form.cleaned_data["assessed_on"],
                answers=form.answers(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Assessment recorded."))
            return redirect("hierarchy:service", slug=slug, service_id=service.pk)
    return _service_page(request, service, membership, form=form, status=400)


@dataclass(frozen=True)
class ServiceCell:
    level: Level
    enablement: int | None
    met: bool
    verdict: str


@require_GET
def team_hierarchy(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug)
    team = membership.team
    page = selectors.team_hierarchy(team, at=timezone.now())
    rows = []
    for standing in page.services:
        answers = standing.latest.answers if standing.latest else {}
        rows.append(
            (
                standing,
                [
                    ServiceCell(
                        level=level,
                        enablement=answers[level.key].enablement if level.key in answers else None,
                        met=rules.level_met(answers.get(level.key)),
                        verdict=standing.evidence[level.key].verdict,
                    )
                    for level in LEVELS
                ],
            )
        )
    previous_on, previous = page.trend[-2] if len(page.trend) > 1 else (None, ())
    figures = {}
    if page.profile:
        figures["radar"] = charts.team_radar_figure(
            page.profile, previous=previous, previous_on=previous_on
        ).to_plotly_json()
        figures["trend"] = charts.levels_over_rounds_figure(page.trend).to_plotly_json()
    return render(
        request,
        "portal/hierarchy_team.html",
        {
            "team": team,
            "page": page,
            "rows": rows,
            "levels": LEVELS,
            "enablements": ENABLEMENTS,
            "met_at": ENABLEMENT_MET,
            "figures": figures,
            "can_edit": membership.allows(Role.MEMBER),
        },
    )
