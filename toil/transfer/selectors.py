"""Reads for the CSV export and import: the team's ranking with its weights, and what
an import checks its rows against (members, SLOs, open titles), each fetched once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from portal.models import Team
from slos.models import SLO
from toil.models import BacklogItem
from toil.scoring import Weights
from toil.selectors import RankedItem, backlog_settings, ranked_backlog


def backlog_export(team: Team, *, at: datetime) -> tuple[list[RankedItem], Weights]:
    """The team's open backlog in ranking order, and the weights it was ranked with."""
    ranked = ranked_backlog(BacklogItem.objects.filter(team=team), at=at)
    return ranked, backlog_settings(team).weights()


@dataclass(frozen=True)
class ImportLookups:
    members: dict[str, AbstractBaseUser]  # by username
    slos: dict[str, SLO]  # by name
    open_titles: list[str]


def import_lookups(team: Team) -> ImportLookups:
    return ImportLookups(
        members={
            user.get_username(): user
            for user in get_user_model().objects.filter(memberships__team=team)
        },
        slos={slo.name: slo for slo in SLO.objects.filter(service__team=team)},
        open_titles=list(
            BacklogItem.objects.filter(team=team).open().values_list("title", flat=True)
        ),
    )
