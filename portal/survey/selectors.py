"""Reads of the survey pages, each a fixed number of queries whatever the number of
statements, rounds or answers. Nothing here returns a person with an answer of an
anonymous round."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q

from portal.models import (
    RoundStatement,
    SurveyAnswer,
    SurveyParticipation,
    SurveyRound,
    SurveySettings,
    SurveyStatement,
    Team,
)
from portal.survey.results import CHOICES, StatementResult, Tally
from portal.survey.services import ballot_of


@dataclass(frozen=True)
class SurveyPage:
    settings: SurveySettings | None
    statements: list[SurveyStatement]
    rounds: list[SurveyRound]  # newest first, each with `respondents`

    @property
    def open_round(self) -> SurveyRound | None:
        return next((r for r in self.rounds if r.is_open), None)

    @property
    def closed_rounds(self) -> list[SurveyRound]:
        return [r for r in self.rounds if not r.is_open]


def survey_page(team: Team) -> SurveyPage:
    return SurveyPage(
        settings=SurveySettings.objects.filter(team=team).first(),
        statements=list(SurveyStatement.objects.filter(team=team, retired_at__isnull=True)),
        rounds=list(
            SurveyRound.objects.filter(team=team)
            .annotate(respondents=Count("participations", distinct=True))
            .order_by("-number")
        ),
    )


def respondents(survey_round: SurveyRound) -> int:
    return SurveyParticipation.objects.filter(round=survey_round).count()


def _results(rows) -> list[StatementResult]:
    return [
        StatementResult(
            key=row.statement_id if row.statement_id is not None else row.text,
            text=row.text,
            expected=row.expected,
            position=row.position,
            tally=Tally(**{choice: getattr(row, choice) for choice in CHOICES}),
        )
        for row in rows
    ]


def _tallied(statements):
    counts = {choice: Count("answers", filter=Q(answers__choice=choice)) for choice in CHOICES}
    # An aggregate drops Meta.ordering (Django 3.1+): the order is said again.
    return statements.annotate(**counts).order_by("position", "pk")


def round_results(survey_round: SurveyRound) -> list[StatementResult]:
    """Every statement the round asked with its tally, as the round listed them."""
    return _results(_tallied(RoundStatement.objects.filter(round=survey_round)))


def rounds_results(rounds: list[SurveyRound]) -> dict[int, list[StatementResult]]:
    """round_results of several rounds at once, by round id."""
    rows = _tallied(RoundStatement.objects.filter(round__in=rounds))
    by_round: dict[int, list] = {r.pk: [] for r in rounds}
    for row in rows:
        by_round[row.round_id].append(row)
    return {pk: _results(found) for pk, found in by_round.items()}


def named_answers(survey_round: SurveyRound) -> dict[object, dict[str, list[str]]]:
    """Who gave which answer, by statement key: a named round's only. An anonymous
    round's answers hold no person, so it gives nothing."""
    if survey_round.anonymous:
        return {}
    found: dict[object, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    answers = (
        SurveyAnswer.objects.filter(statement__round=survey_round, respondent__isnull=False)
        .select_related("statement", "respondent")
        .order_by("respondent__username")
    )
    for answer in answers:
        key = answer.statement.statement_id or answer.statement.text
        found[key][answer.choice].append(answer.respondent.get_username())
    return {key: dict(by_choice) for key, by_choice in found.items()}


def my_answers(survey_round: SurveyRound, user) -> dict[int, str]:
    """The person's own answers by round statement id: found by their ballot while the
    round is open; after it, in a named round only."""
    answers = SurveyAnswer.objects.filter(statement__round=survey_round)
    if survey_round.is_open:
        answers = answers.filter(ballot=ballot_of(survey_round.pk, user.pk))
    elif not survey_round.anonymous:
        answers = answers.filter(respondent=user)
    else:
        return {}
    return dict(answers.values_list("statement_id", "choice"))


def round_statements(survey_round: SurveyRound) -> list[RoundStatement]:
    return list(RoundStatement.objects.filter(round=survey_round))


def closed_rounds_with_respondents(team: Team) -> list[SurveyRound]:
    return list(
        SurveyRound.objects.filter(team=team, closed_at__isnull=False)
        .annotate(respondents=Count("participations", distinct=True))
        .order_by("-number")
    )
