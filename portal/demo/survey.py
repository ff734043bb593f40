"""The demo team's expectations survey: two closed rounds two months apart, the first
anonymous, the second named, and a third open now. The first shows the misreadings a
team starts with (the SRE is on call, every message in the error channel needs a look,
an SLO is the customers' contract); by the second most of them are gone, and the
contract one is still split. Between the two, a statement was reworded and one added.
Five developers beyond the demo's three people answer, so the results read like a team's.
Rebuilt from scratch on every run."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model

from portal.demo.base import Demo
from portal.models import Membership, Role, SurveyRound, SurveySettings, SurveyStatement, Team
from portal.survey.results import AGREE, DISAGREE, UNSURE
from portal.survey.services import (
    round_answer,
    round_close,
    round_open,
    statement_add,
    statement_update,
    survey_settings_ensure,
)

# Team members who never sign in to the demo (no password): the survey's other voices.
SURVEY_PEOPLE = ["haruka", "kenta", "mio", "sota", "yui"]

REWORDED_FROM = "Developers fix what the SRE finds."
REWORDED_TO = "Developers fix the reliability problems the SRE helps them find."
ADDED = ("The SRE decides alone whether a release goes out.", DISAGREE)

# One letter a person (A agree, D disagree, U unsure), by statement in the default
# order; the statement added before round 2 last.
FIRST_ROUND = [
    "AAAAADUA",  # the SRE is on call: misread
    "AAAAUUDA",
    "AADDUUAD",  # an SLO of 100%: split
    "AAAAAADU",  # every message needs a look: misread
    "AAUUDDDU",
    "AUUUDDUA",  # slowing releases when the budget is out: unsure
    "AAAAAUUD",
    "DDDDDAUD",
    "AAAUUUDD",  # an SLO is the contract: misread
    "UUUAADDU",
    "AAAAAAAD",
    "DDDUUUAD",
]
SECOND_ROUND = [
    "DDDDDAD",
    "AAAAAAU",
    "DDDDDAU",
    "DDDDAUD",
    "DDDDDDU",
    "AAAAUUD",
    "AAAAAAU",
    "DDDDDDD",
    "AAUUDDD",  # still split
    "AAAAUUD",
    "AAAAAAA",
    "AAAAUDD",
    "DDDAUDD",
]
THIRD_ROUND_SO_FAR = 3
LETTERS = {"A": AGREE, "D": DISAGREE, "U": UNSURE}


def demo_survey_people(team: Team) -> list:
    User = get_user_model()
    people = []
    for username in SURVEY_PEOPLE:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        Membership.objects.update_or_create(team=team, user=user, defaults={"role": Role.MEMBER})
        people.append(user)
    return people


def _answer(survey_round: SurveyRound, users: list, grid: list[str]) -> None:
    statements = list(survey_round.statements.all())
    for column, user in enumerate(users):
        round_answer(
            survey_round=survey_round,
            user=user,
            answers={s.pk: LETTERS[grid[row][column]] for row, s in enumerate(statements)},
        )


def demo_survey_fill(demo: Demo) -> None:
    team, now, admin = demo.team, demo.now, demo.users["demo"]
    SurveyRound.objects.filter(team=team).delete()
    SurveyStatement.objects.filter(team=team).delete()
    SurveySettings.objects.filter(team=team).delete()
    people = [demo.users["demo"], demo.users["dev"], demo.users["pm"], *demo_survey_people(team)]

    survey_settings_ensure(team=team, at=now - timedelta(days=75))
    first = round_open(team=team, by=admin, at=now - timedelta(days=70), anonymous=True)
    _answer(first, people, FIRST_ROUND)
    round_close(survey_round=first, at=now - timedelta(days=63))

    reworded = SurveyStatement.objects.get(team=team, text=REWORDED_FROM)
    statement_update(statement=reworded, text=REWORDED_TO, expected=reworded.expected)
    statement_add(team=team, at=now - timedelta(days=30), text=ADDED[0], expected=ADDED[1])
    SurveySettings.objects.filter(team=team).update(anonymous_by_default=False)

    second = round_open(team=team, by=admin, at=now - timedelta(days=14), anonymous=False)
    _answer(second, people[1:], SECOND_ROUND)  # the SRE left this one to the team
    round_close(survey_round=second, at=now - timedelta(days=7))

    third = round_open(team=team, by=admin, at=now - timedelta(days=1), anonymous=True)
    _answer(third, people[3 : 3 + THIRD_ROUND_SO_FAR], SECOND_ROUND)
