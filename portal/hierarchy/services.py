"""Writes of the hierarchy assessment: a round is recorded whole (every level answered
once) or not at all, and never changed afterwards: the next round is a new one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.hierarchy.levels import (
    ENABLEMENT_MAX,
    ENABLEMENT_MIN,
    LEVEL_KEYS,
    LEVELS_BY_KEY,
    NOTE_MAX_CHARS,
)
from portal.hierarchy.rules import LevelAnswer
from portal.models import HierarchyAnswer, HierarchyAssessment
from slos.models import Service


def _problems(answers: Sequence[LevelAnswer]) -> list[str]:
    problems = []
    levels = [answer.level for answer in answers]
    if sorted(levels) != sorted(LEVEL_KEYS):
        problems.append(_("A round answers every level of the hierarchy once."))
    for answer in answers:
        level = LEVELS_BY_KEY.get(answer.level)
        if level is None:
            continue
        if not ENABLEMENT_MIN <= answer.enablement <= ENABLEMENT_MAX:
            problems.append(
                _("%(level)s: the enablement level is 0, 1, 2 or 3.") % {"level": level.label}
            )
        if not answer.checked <= set(level.item_keys):
            problems.append(
                _("%(level)s: tick items of its own checklist only.") % {"level": level.label}
            )
        if len(answer.note) > NOTE_MAX_CHARS:
            problems.append(
                _("%(level)s: keep the note under %(max)d characters.")
                % {"level": level.label, "max": NOTE_MAX_CHARS}
            )
    return problems


@transaction.atomic
def hierarchy_assessment_record(
    *,
    service: Service,
    by,
    at: datetime,
    assessed_on: date,
    answers: Sequence[LevelAnswer],
) -> HierarchyAssessment:
    """A new round for `service`; earlier rounds stay as they were (they are the trend)."""
    problems = _problems(answers)
    if problems:
        raise ValidationError(problems)
    assessment = HierarchyAssessment.objects.create(
        service=service, assessed_on=assessed_on, recorded_by=by, recorded_at=at
    )
    order = {key: position for position, key in enumerate(LEVEL_KEYS)}
    HierarchyAnswer.objects.bulk_create(
        HierarchyAnswer(
            assessment=assessment,
            level=answer.level,
            enablement=answer.enablement,
            # In the checklist's order, so a stored round reads the way the page does.
            checked=[key for key in LEVELS_BY_KEY[answer.level].item_keys if key in answer.checked],
            note=answer.note.strip(),
        )
        for answer in sorted(answers, key=lambda answer: order[answer.level])
    )
    return assessment
