"""Writes of the survey: the team's statements, its setting, rounds opened (with their
copy of the statements) and closed, and answers. An answer in an anonymous round is
stored without its person (see the note above the survey's models)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from portal.models import (
    RoundStatement,
    SurveyAnswer,
    SurveyParticipation,
    SurveyRound,
    SurveySettings,
    SurveyStatement,
    Team,
)
from portal.survey.defaults import DEFAULT_STATEMENTS
from portal.survey.results import CHOICES

_BALLOT_SALT = "portal.survey.ballot"


def ballot_of(round_id: int, user_id: int) -> str:
    """The key that finds a person's answers in an open round. A keyed hash: the rows
    alone (a dump of the database) do not say whose it is."""
    return salted_hmac(_BALLOT_SALT, f"{round_id}:{user_id}", algorithm="sha256").hexdigest()


@transaction.atomic
def survey_settings_ensure(*, team: Team, at: datetime) -> SurveySettings:
    """The team's survey settings, made on first use together with the default
    statements (in the language of the person who opened the survey first)."""
    SurveySettings.objects.get_or_create(team=team)
    settings = SurveySettings.objects.select_for_update().get(team=team)
    if settings.seeded_at is None:
        start = _next_position(team)
        SurveyStatement.objects.bulk_create(
            SurveyStatement(team=team, text=str(text), expected=expected, position=start + i)
            for i, (text, expected) in enumerate(DEFAULT_STATEMENTS)
            if not SurveyStatement.objects.filter(
                team=team, text=str(text), retired_at__isnull=True
            ).exists()
        )
        settings.seeded_at = at
        settings.save(update_fields=["seeded_at"])
    return settings


def survey_settings_update(*, team: Team, at: datetime, anonymous_by_default: bool) -> None:
    settings = survey_settings_ensure(team=team, at=at)
    settings.anonymous_by_default = anonymous_by_default
    settings.save(update_fields=["anonymous_by_default"])


def _next_position(team: Team) -> int:
    last = SurveyStatement.objects.filter(team=team).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def _refuse_duplicate(team: Team, text: str, *, other_than: int | None = None) -> None:
    same = SurveyStatement.objects.filter(team=team, text__iexact=text, retired_at__isnull=True)
    if other_than is not None:
        same = same.exclude(pk=other_than)
    if same.exists():
        raise ValidationError(_("The survey already has that statement."), code="duplicate")


@transaction.atomic
def statement_add(*, team: Team, at: datetime, text: str, expected: str) -> SurveyStatement:
    survey_settings_ensure(team=team, at=at)
    text = text.strip()
    _refuse_duplicate(team, text)
    return SurveyStatement.objects.create(
        team=team, text=text, expected=expected, position=_next_position(team)
    )


@transaction.atomic
def statement_update(*, statement: SurveyStatement, text: str, expected: str) -> SurveyStatement:
    """New wording or expected answer for the rounds to come; rounds already opened keep
    the statement as they asked it."""
    stored = SurveyStatement.objects.select_for_update().get(pk=statement.pk)
    if stored.retired_at is not None:
        raise ValidationError(_("That statement is retired."), code="retired")
    text = text.strip()
    _refuse_duplicate(stored.team, text, other_than=stored.pk)
    stored.text, stored.expected = text, expected
    stored.save(update_fields=["text", "expected"])
    return stored


def statement_retire(*, statement: SurveyStatement, at: datetime) -> None:
    """Off the list for the rounds to come; the rounds that asked it keep it."""
    SurveyStatement.objects.filter(pk=statement.pk, retired_at__isnull=True).update(retired_at=at)


@transaction.atomic
def round_open(*, team: Team, by, at: datetime, anonymous: bool) -> SurveyRound:
    """A new round asking the team's live statements as they read now."""
    survey_settings_ensure(team=team, at=at)  # also locks the team's survey
    if SurveyRound.objects.filter(team=team, closed_at__isnull=True).exists():
        raise ValidationError(_("A round is already open: close it first."), code="open")
    statements = list(SurveyStatement.objects.filter(team=team, retired_at__isnull=True))
    if not statements:
        raise ValidationError(_("Add a statement before opening a round."), code="empty")
    last = SurveyRound.objects.filter(team=team).aggregate(last=Max("number"))["last"]
    survey_round = SurveyRound.objects.create(
        team=team, number=(last or 0) + 1, anonymous=anonymous, opened_at=at, opened_by=by
    )
    RoundStatement.objects.bulk_create(
        RoundStatement(
            round=survey_round,
            statement=statement,
            text=statement.text,
            expected=statement.expected,
            position=position,
        )
        for position, statement in enumerate(statements)
    )
    return survey_round


def _locked_open_round(survey_round: SurveyRound) -> SurveyRound:
    stored = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
    if not stored.is_open:
        raise ValidationError(_("This round is closed."), code="closed")
    return stored


@transaction.atomic
def round_close(*, survey_round: SurveyRound, at: datetime) -> SurveyRound:
    """Closes the round. The ballots that let people change their answers go; in an
    anonymous round the answers are written again, in a random order, so not even the
    order of the rows tells who answered first."""
    stored = _locked_open_round(survey_round)
    answers = SurveyAnswer.objects.filter(statement__round=stored)
    if stored.anonymous:
        kept = [
            (statement_id, choice)
            for statement_id, choice in answers.values_list("statement_id", "choice")
        ]
        random.SystemRandom().shuffle(kept)
        answers.delete()
        SurveyAnswer.objects.bulk_create(
            SurveyAnswer(statement_id=statement_id, choice=choice) for statement_id, choice in kept
        )
    else:
        answers.update(ballot=None)
    stored.closed_at = at
    stored.save(update_fields=["closed_at"])
    return stored


@transaction.atomic
def round_answer(*, survey_round: SurveyRound, user, answers: Mapping[int, str]) -> None:
    """The person's answer to every statement of the open round (by round statement
    id); answering again changes their answers."""
    stored = _locked_open_round(survey_round)
    statement_ids = set(stored.statements.values_list("pk", flat=True))
    if set(answers) != statement_ids or not set(answers.values()) <= set(CHOICES):
        raise ValidationError(_("Answer every statement."), code="incomplete")
    SurveyParticipation.objects.get_or_create(round=stored, user=user)
    ballot = ballot_of(stored.pk, user.pk)
    respondent = None if stored.anonymous else user
    for statement_id, choice in answers.items():
        SurveyAnswer.objects.update_or_create(
            statement_id=statement_id,
            ballot=ballot,
            defaults={"choice": choice, "respondent": respondent},
        )
