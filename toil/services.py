"""Writes for the reliability backlog. Keyword-only, typed; views and commands call these."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from portal.models import Team
from slos.models import SLO
from toil.models import BacklogItem


def backlog_item_create(
    *,
    team: Team,
    title: str,
    kind: str,
    impact: int,
    likelihood: int,
    toil_relief: int,
    effort: str,
    description: str = "",
    slo: SLO | None = None,
    created_by: AbstractBaseUser | None,
) -> BacklogItem:
    if slo is not None and slo.service.team_id != team.pk:
        raise ValueError("the SLO belongs to another team")
    return BacklogItem.objects.create(
        team=team,
        title=title,
        description=description,
        kind=kind,
        impact=impact,
        likelihood=likelihood,
        toil_relief=toil_relief,
        effort=effort,
        slo=slo,
        created_by=created_by,
    )
