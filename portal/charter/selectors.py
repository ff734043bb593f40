"""Reads of the charter page and the hearings: a fixed number of queries whatever the
number of responsibilities, changes, hearings or candidates."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from portal.models import Charter, CharterChange, Hearing, Responsibility, SLICandidate, Team
from slos.models import SLO, Service

CHANGES_SHOWN = 50
HEARINGS_SHOWN = 20

# A candidate is measured while a live (not retired) SLO points to it.
_LIVE_SLOS = Count("slos", filter=Q(slos__retired_at__isnull=True))


@dataclass(frozen=True)
class CharterPage:
    charter: Charter | None
    responsibilities: list[Responsibility]
    changes: list[CharterChange]
    unmeasured: list[SLICandidate]
    hearings: list[Hearing]

    @property
    def sre_shape(self) -> str:
        return self.charter.sre_shape if self.charter else ""


def charter_page(team: Team) -> CharterPage:
    return CharterPage(
        charter=Charter.objects.filter(team=team).select_related("updated_by").first(),
        responsibilities=list(team.responsibilities.all()),
        changes=list(
            CharterChange.objects.filter(team=team).select_related("changed_by")[:CHANGES_SHOWN]
        ),
        unmeasured=list(candidates_unmeasured(team)),
        hearings=list(
            team.hearings.select_related("recorded_by").annotate(
                candidate_count=Count("candidates", distinct=True),
            )[:HEARINGS_SHOWN]
        ),
    )


def candidates_unmeasured(team: Team) -> QuerySet[SLICandidate]:
    """The features heard that no live SLO measures yet, oldest hearing first."""
    return (
        SLICandidate.objects.filter(hearing__team=team)
        .annotate(live_slos=_LIVE_SLOS)
        .filter(live_slos=0)
        .select_related("hearing")
        .order_by("hearing__held_on", "hearing_id", "position", "pk")
    )


def hearing_with_candidates(hearing: Hearing) -> list[SLICandidate]:
    """The hearing's candidates, each with the SLOs made from it (retired ones too)."""
    return list(
        hearing.candidates.annotate(live_slos=_LIVE_SLOS).prefetch_related(
            Prefetch(
                "slos",
                queryset=SLO.objects.select_related("service").order_by("name"),
                to_attr="measured_by",
            )
        )
    )


def team_service_names(team: Team) -> list[str]:
    return list(Service.objects.filter(team=team).order_by("name").values_list("name", flat=True))
