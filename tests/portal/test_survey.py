"""The expectations survey: the arithmetic on hand-made answers (pure), the statements
and their defaults, rounds that keep the statements they asked, one answer per person,
anonymity (no page, CSV or row order ties an answer to a person), roles and isolation,
bad input refused with a 400 and nothing changed, and pages with a fixed query count."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from portal.formatting import share_change_text, share_text
from portal.models import (
    Role,
    SurveyAnswer,
    SurveyParticipation,
    SurveyRound,
    SurveySettings,
    SurveyStatement,
)
from portal.survey import selectors
from portal.survey.defaults import DEFAULT_STATEMENTS
from portal.survey.results import (
    AGREE,
    DISAGREE,
    UNSURE,
    StatementResult,
    Tally,
    attention_order,
    compare,
    misread,
    results_withheld,
    split,
)
from portal.survey.services import (
    round_answer,
    round_close,
    round_open,
    statement_add,
    statement_retire,
    statement_update,
)
from tests.conftest import client_for, utc
from tests.factories import MembershipFactory

NOW = utc(2026, 11, 2, 9, 30)
LATER = utc(2026, 12, 2, 9, 30)


# --- The arithmetic, on hand-made answers ------------------------------------------


def test_a_tally_gives_shares_and_the_spread():
    tally = Tally.of([AGREE] * 4 + [DISAGREE] * 2 + [UNSURE])
    assert (tally.agree, tally.disagree, tally.unsure, tally.total) == (4, 2, 1, 7)
    assert tally.shares == {AGREE: 4 / 7, DISAGREE: 2 / 7, UNSURE: 1 / 7}
    assert tally.spread == pytest.approx(3 / 7)  # 1 − the largest share
    assert tally.leading == (AGREE,)

    assert Tally.of([DISAGREE] * 5).spread == 0  # everyone gave the same answer
    assert Tally(agree=3, disagree=3).spread == pytest.approx(0.5)  # two halves
    assert Tally(agree=2, disagree=2, unsure=2).spread == pytest.approx(2 / 3)  # the most
    assert Tally(agree=2, disagree=2).leading == (AGREE, DISAGREE)
    empty = Tally()
    assert empty.spread is None and empty.share(AGREE) is None and empty.leading == ()


def test_a_statement_is_misread_when_the_majority_gives_another_answer_than_expected():
    assert misread(Tally(agree=4, disagree=2), DISAGREE)
    assert not misread(Tally(agree=1, disagree=5), DISAGREE)
    assert misread(Tally(agree=3, disagree=3), DISAGREE)  # no clear majority
    assert misread(Tally(unsure=4, disagree=3), DISAGREE)
    assert not misread(Tally(agree=4, disagree=2), "")  # no expected answer
    assert not misread(Tally(), DISAGREE)  # nobody answered


def test_split_starts_at_a_third_of_the_team_answering_otherwise():
    assert split(Tally(agree=4, disagree=2))  # 1 − 4/6 = 1/3
    assert not split(Tally(agree=5, disagree=1))
    assert not split(Tally())


def _result(key, tally, expected="", position=0):
    return StatementResult(key, f"statement {key}", expected, position, tally)


def test_misunderstandings_come_first_then_the_most_split():
    agreed = _result("agreed", Tally(agree=6), AGREE, 0)
    split_open = _result("split", Tally(agree=3, disagree=3), "", 1)
    slightly_misread = _result("slightly", Tally(agree=3, disagree=2, unsure=1), DISAGREE, 2)
    badly_misread = _result("badly", Tally(agree=6), DISAGREE, 3)
    mild = _result("mild", Tally(agree=5, unsure=1), "", 4)
    ordered = attention_order([agreed, split_open, slightly_misread, badly_misread, mild])
    assert [r.key for r in ordered] == ["badly", "slightly", "split", "mild", "agreed"]


def test_two_rounds_compare_statement_by_statement():
    before = [
        _result(1, Tally(agree=6, disagree=2), DISAGREE, 0),
        _result(2, Tally(agree=4), AGREE, 1),
        _result("gone", Tally(unsure=4), "", 2),
    ]
    after = [
        _result(1, Tally(agree=2, disagree=6), DISAGREE, 0),
        _result(2, Tally(agree=4), AGREE, 1),
        _result(3, Tally(agree=1, disagree=1), "", 2),
    ]
    rows = compare(before, after)
    assert [row.text for row in rows] == [
        "statement 3",  # split, first in the later round's order
        "statement 1",
        "statement 2",
        "statement gone",  # asked only in the earlier round, last
    ]
    first = rows[1]
    assert first.change(AGREE) == pytest.approx(-0.5)
    assert first.change(DISAGREE) == pytest.approx(0.5)
    assert first.change(UNSURE) == 0
    assert first.spread_change == 0  # 25% either way
    assert rows[0].before is None and rows[0].change(AGREE) is None
    assert rows[3].after is None and rows[3].spread_change is None


def test_anonymous_results_wait_for_three_people():
    assert results_withheld(anonymous=True, respondents=2)
    assert not results_withheld(anonymous=True, respondents=3)
    assert not results_withheld(anonymous=False, respondents=1)


def test_shares_read_in_whole_percent_and_changes_in_signed_points():
    assert share_text(4 / 7) == "57" and share_text(1) == "100" and share_text(None) == ""
    assert share_change_text(0.143) == "+14"
    assert share_change_text(-0.1) == "\u221210"
    assert share_change_text(0.001) == "0" and share_change_text(None) == ""


# --- Helpers --------------------------------------------------------------------------


def survey_url(team, name="home", *args):
    return reverse(f"survey:{name}", args=[team.slug, *args])


def answer_all(survey_round, user, choice=AGREE, **by_text):
    """`user` answers every statement of the round: `choice`, or by_text[text]."""
    answers = {
        statement.pk: by_text.get(statement.text, choice)
        for statement in survey_round.statements.all()
    }
    round_answer(survey_round=survey_round, user=user, answers=answers)


def people(team, *names, role=Role.MEMBER):
    return [MembershipFactory(team=team, user__username=name, role=role).user for name in names]


def statements(team, *texts):
    """The team's own statements; its defaults taken care of already (none seeded)."""
    SurveySettings.objects.get_or_create(team=team, defaults={"seeded_at": NOW})
    return [
        statement_add(team=team, at=NOW, text=text, expected=expected) for text, expected in texts
    ]


# --- Statements -----------------------------------------------------------------------


def test_the_first_visit_seeds_the_default_statements_once(client, team, viewer):
    client_for(client, viewer)
    page = client.get(survey_url(team)).content.decode()
    assert SurveyStatement.objects.filter(team=team).count() == len(DEFAULT_STATEMENTS)
    assert "The SRE is on call for our services." in page
    assert "An SLO of 100% is the goal." in page
    client.get(survey_url(team))
    assert SurveyStatement.objects.filter(team=team).count() == len(DEFAULT_STATEMENTS)
    assert 10 <= len(DEFAULT_STATEMENTS) <= 12
    # Most of them have an expected answer: they test a reading of the role.
    assert sum(1 for _text, expected in DEFAULT_STATEMENTS if expected) >= 10

    # Retired, they stay retired: the defaults are offered once.
    for statement in SurveyStatement.objects.filter(team=team):
        statement_retire(statement=statement, at=NOW)
    client.get(survey_url(team))
    assert not SurveyStatement.objects.filter(team=team, retired_at__isnull=True).exists()


def test_an_admin_adds_edits_and_retires_statements(client, team, owner):
    client_for(client, owner)
    response = client.post(
        survey_url(team, "statement_add"),
        {"text": "  The SRE writes our runbooks.  ", "expected": DISAGREE},
    )
    assert response.status_code == 302
    statement = SurveyStatement.objects.get(team=team, text="The SRE writes our runbooks.")
    assert statement.expected == DISAGREE
    response = client.post(
        survey_url(team, "statement_edit", statement.pk),
        {"text": "The SRE writes every runbook.", "expected": ""},
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert (statement.text, statement.expected) == ("The SRE writes every runbook.", "")
    retire = survey_url(team, "statement_retire", statement.pk)
    page = client.get(survey_url(team)).content.decode()
    assert 'hx-confirm="Retire “The SRE writes every runbook.”? It leaves the list' in page
    # Unconfirmed, the post changes nothing and asks first.
    response = client.post(retire)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Retire “The SRE writes every runbook.”?" in page
    assert "Earlier rounds keep it with their answers." in page
    assert 'name="confirm" value="yes"' in page and f'action="{retire}"' in page
    assert 'id="confirm-delete-button"' in page
    statement.refresh_from_db()
    assert statement.retired_at is None
    assert client.post(retire, {"confirm": "yes"}).status_code == 302
    statement.refresh_from_db()
    assert statement.retired_at is not None
    page = client.get(survey_url(team)).content.decode()
    assert "The SRE writes every runbook." not in page
    # A retired statement can be written again as a new one.
    statements(team, ("The SRE writes every runbook.", ""))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "   ", "expected": ""}, "Write the statement."),
        ({"text": "x" * 201, "expected": ""}, "at most 200 characters"),
        ({"text": "New one", "expected": "maybe"}, "Choose agree, disagree or no expected answer."),
        ({"text": "the sre is on call.", "expected": ""}, "The survey already has that statement."),
    ],
)
def test_bad_statements_are_refused_and_change_nothing(client, team, owner, data, message):
    (kept,) = statements(team, ("The SRE is on call.", DISAGREE))
    (other,) = statements(team, ("Developers fix what the SRE finds.", AGREE))
    before = list(SurveyStatement.objects.values_list("pk", "text", "expected", "retired_at"))
    client_for(client, owner)
    response = client.post(survey_url(team, "statement_add"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    response = client.post(survey_url(team, "statement_edit", other.pk), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    after = list(SurveyStatement.objects.values_list("pk", "text", "expected", "retired_at"))
    assert after == before


# --- Rounds: the snapshot rule, one answer per person -----------------------------------


def test_a_round_keeps_the_statements_it_asked(client, team, owner, teammate, viewer):
    on_call, fixes, slo = statements(
        team,
        ("The SRE is on call.", DISAGREE),
        ("Developers fix what the SRE finds.", AGREE),
        ("An SLO of 100% is the goal.", DISAGREE),
    )
    first = round_open(team=team, by=owner, at=NOW, anonymous=False)
    asked = list(first.statements.values_list("text", "expected"))
    for user in (owner, teammate, viewer):
        answer_all(first, user, AGREE)
    round_close(survey_round=first, at=NOW)
    results_before = selectors.round_results(first)

    # Later edits: a rewording, a new expected answer, a retirement and a new statement.
    statement_update(statement=on_call, text="The SRE carries the pager.", expected=AGREE)
    statement_retire(statement=slo, at=LATER)
    statements(team, ("Postmortems find who made the mistake.", DISAGREE))

    assert list(first.statements.values_list("text", "expected")) == asked
    assert selectors.round_results(first) == results_before
    page = client_for(client, viewer).get(survey_url(team, "round", 1)).content.decode()
    assert "The SRE is on call." in page and "An SLO of 100% is the goal." in page
    assert "The SRE carries the pager." not in page

    second = round_open(team=team, by=owner, at=LATER, anonymous=True)
    assert list(second.statements.values_list("text", flat=True)) == [
        "The SRE carries the pager.",
        "Developers fix what the SRE finds.",
        "Postmortems find who made the mistake.",
    ]
    # The reworded statement is still the same statement from one round to the next.
    for user in (owner, teammate, viewer):
        answer_all(second, user, DISAGREE)
    round_close(survey_round=second, at=LATER)
    rows = compare(selectors.round_results(first), selectors.round_results(second))
    pager = next(row for row in rows if row.text == "The SRE carries the pager.")
    assert pager.before.text == "The SRE is on call." and pager.change(AGREE) == -1


def test_one_answer_per_person_and_it_can_change_while_open(client, team, owner, teammate):
    statements(team, ("The SRE is on call.", DISAGREE), ("Toil should be automated.", AGREE))
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=True)
    rows = list(survey_round.statements.all())
    client_for(client, teammate)
    url = survey_url(team, "answer", 1)
    response = client.post(url, {f"s{rows[0].pk}": AGREE, f"s{rows[1].pk}": AGREE})
    assert response.status_code == 302
    page = client.get(survey_url(team, "round", 1)).content.decode()
    assert "You have answered this round." in page
    assert f'value="{AGREE}" id="id_s{rows[0].pk}_0" required checked' in page
    response = client.post(url, {f"s{rows[0].pk}": DISAGREE, f"s{rows[1].pk}": AGREE})
    assert response.status_code == 302

    assert SurveyParticipation.objects.filter(round=survey_round).count() == 1
    answers = SurveyAnswer.objects.filter(statement__round=survey_round)
    assert answers.count() == 2
    assert dict(answers.values_list("statement__text", "choice")) == {
        "The SRE is on call.": DISAGREE,
        "Toil should be automated.": AGREE,
    }
    # Another person's answers are theirs: they do not see the teammate's.
    client_for(client, owner)
    page = client.get(survey_url(team, "round", 1)).content.decode()
    assert "You have answered this round." not in page and "checked" not in page


@pytest.mark.parametrize(
    "answers",
    [
        {0: AGREE},  # a statement left out
        {0: AGREE, 1: "strongly agree"},
        {0: "", 1: AGREE},
    ],
)
def test_an_incomplete_or_bad_answer_is_refused_and_stores_nothing(
    client, team, owner, teammate, answers
):
    statements(team, ("The SRE is on call.", DISAGREE), ("Toil should be automated.", AGREE))
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=False)
    rows = list(survey_round.statements.all())
    data = {f"s{rows[index].pk}": choice for index, choice in answers.items()}
    response = client_for(client, teammate).post(survey_url(team, "answer", 1), data)
    assert response.status_code == 400
    assert "Nothing was saved: answer every statement." in response.content.decode()
    assert not SurveyAnswer.objects.exists() and not SurveyParticipation.objects.exists()


def test_a_closed_round_takes_no_answer_and_only_one_round_is_open(client, team, owner, teammate):
    statements(team, ("The SRE is on call.", DISAGREE))
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=False)
    client_for(client, owner)
    response = client.post(survey_url(team, "round_open"), {"anonymous": "on"})
    assert response.status_code == 400
    assert "A round is already open: close it first." in response.content.decode()
    assert SurveyRound.objects.count() == 1

    assert client.post(survey_url(team, "close", 1), {"confirm": "yes"}).status_code == 302
    (row,) = survey_round.statements.all()
    response = client_for(client, teammate).post(
        survey_url(team, "answer", 1), {f"s{row.pk}": AGREE}
    )
    assert response.status_code == 400
    assert "This round is closed" in response.content.decode()
    assert not SurveyAnswer.objects.exists()
    response = client_for(client, owner).post(survey_url(team, "close", 1), {"confirm": "yes"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("anonymous", "what"),
    [
        (True, "the answers are kept without names."),
        (False, "the team sees each answer with the name of the person who gave it."),
    ],
)
def test_closing_a_round_asks_first_and_says_what_happens(
    client, team, owner, teammate, anonymous, what
):
    statements(team, ("The SRE is on call.", DISAGREE))
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=anonymous)
    answer_all(survey_round, teammate, AGREE)
    client_for(client, owner)
    close = survey_url(team, "close", 1)
    question = f"Close round 1? People can no longer answer or change their answers; {what}"
    # The round page's button asks in the browser (htmx) with the same question.
    page = client.get(survey_url(team, "round", 1)).content.decode()
    assert f'hx-confirm="{question} 1 person answered so far."' in page
    assert """hx-vals='{"confirm": "yes"}'""" in page

    before = _state()
    response = client.post(close)
    assert response.status_code == 200
    page = response.content.decode()
    assert question in page and "1 person answered so far." in page
    assert 'name="confirm" value="yes"' in page and f'action="{close}"' in page
    assert 'id="confirm-delete-button"' in page and "Close the round" in page
    assert _state() == before
    survey_round.refresh_from_db()
    assert survey_round.is_open
    # Anything but yes is no.
    assert client.post(close, {"confirm": "no"}).status_code == 200
    assert _state() == before

    response = client.post(close, {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == survey_url(team, "round", 1)
    survey_round.refresh_from_db()
    assert not survey_round.is_open
    assert SurveyAnswer.objects.count() == 1
    # With htmx (the browser asked already), the whole page loads afterwards.
    second = round_open(team=team, by=owner, at=LATER, anonymous=anonymous)
    response = client.post(
        survey_url(team, "close", 2), {"confirm": "yes"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == survey_url(team, "round", 2)
    second.refresh_from_db()
    assert not second.is_open


def test_an_admin_opens_a_round_anonymous_as_the_team_setting_says(client, team, owner):
    statements(team, ("The SRE is on call.", DISAGREE))
    client_for(client, owner)
    page = client.get(survey_url(team)).content.decode()
    assert 'name="anonymous" id="id_anonymous" checked' in page  # anonymous by default
    client.post(survey_url(team, "settings"), {})  # unticked: named by default
    assert SurveySettings.objects.get(team=team).anonymous_by_default is False
    page = client.get(survey_url(team)).content.decode()
    assert 'name="anonymous" id="id_anonymous" checked' not in page
    response = client.post(survey_url(team, "round_open"), {})
    assert response["Location"] == survey_url(team, "round", 1)
    survey_round = SurveyRound.objects.get(team=team)
    assert (survey_round.anonymous, survey_round.opened_by, survey_round.number) == (
        False,
        owner,
        1,
    )
    assert list(survey_round.statements.values_list("text", flat=True)) == ["The SRE is on call."]


def test_a_round_opened_before_anyone_visited_asks_the_defaults(team, owner):
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=True)
    assert survey_round.statements.count() == len(DEFAULT_STATEMENTS)


def test_results_show_once_closed_and_admins_see_a_live_count(
    client, team, owner, teammate, viewer
):
    statements(team, ("The SRE is on call.", DISAGREE))
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=False)
    answer_all(survey_round, teammate, AGREE)
    answer_all(survey_round, viewer, DISAGREE)
    admin_page = client_for(client, owner).get(survey_url(team, "round", 1)).content.decode()
    assert "2 people answered so far." in admin_page
    member_page = client_for(client, teammate).get(survey_url(team, "round", 1)).content.decode()
    assert "answered so far" not in member_page
    for page in (admin_page, member_page):
        assert 'id="results"' not in page and "Spread" not in page
    assert client.get(survey_url(team, "csv", 1)).status_code == 400

    round_close(survey_round=survey_round, at=NOW)
    page = client.get(survey_url(team, "round", 1)).content.decode()
    assert 'id="results"' in page and "2 people answered." in page
    assert "Agree 1 (50%) · Disagree 1 (50%) · Unsure 0 (0%) · Spread 50%" in page
    assert "misread" in page  # no clear majority for the expected "disagree"
    assert "100% minus the share of the most given answer" in page
    # A named round shows who answered what, to everyone in the team.
    assert "Agree: teammate" in page and "Disagree: viewer" in page


def test_results_list_misunderstandings_first(client, team, owner):
    statements(
        team,
        ("Toil should be automated.", AGREE),
        ("The SRE is on call.", DISAGREE),
        ("I know what to do at night.", ""),
    )
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=False)
    for index, user in enumerate(people(team, "a1", "a2", "a3", "a4")):
        answer_all(
            survey_round,
            user,
            AGREE,
            **{"I know what to do at night.": [AGREE, DISAGREE][index % 2]},
        )
    round_close(survey_round=survey_round, at=NOW)
    page = client_for(client, owner).get(survey_url(team, "round", 1)).content.decode()
    positions = [
        page.index(text)
        for text in ("The SRE is on call.", "I know what to do at night.", "Toil should be")
    ]
    assert positions == sorted(positions)


# --- Anonymity --------------------------------------------------------------------------

RESPONDENTS = ("aiko-respondent", "botan-respondent", "chiyo-respondent")


@pytest.fixture
def anonymous_round(team, owner):
    """An anonymous round answered by three people with distinctive names and ids."""
    statements(team, ("The SRE is on call.", DISAGREE), ("Toil should be automated.", AGREE))
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=True)
    users = []
    for offset, name in enumerate(RESPONDENTS):
        user = MembershipFactory(
            team=team, user__username=name, user__id=987650 + offset, role=Role.MEMBER
        ).user
        users.append(user)
    answer_all(survey_round, users[0], AGREE)
    answer_all(survey_round, users[1], DISAGREE)
    answer_all(survey_round, users[2], UNSURE)
    return survey_round, users


def _leaks(text: str, users) -> list[str]:
    return [token for user in users for token in (user.username, str(user.pk)) if token in text]


def test_anonymous_answers_are_stored_without_their_person(anonymous_round):
    survey_round, users = anonymous_round
    answers = SurveyAnswer.objects.filter(statement__round=survey_round)
    assert answers.count() == 6
    assert not answers.filter(respondent__isnull=False).exists()
    # No time and no sequential id on an answer: nothing to line it up with who answered.
    fields = {field.name: field for field in SurveyAnswer._meta.concrete_fields}
    assert fields["id"].get_internal_type() == "UUIDField"
    assert not [
        f for f in fields.values() if f.get_internal_type() in {"DateTimeField", "DateField"}
    ]
    assert not [
        f
        for f in SurveyParticipation._meta.concrete_fields
        if f.get_internal_type() in {"DateTimeField", "DateField"}
    ]
    # While open, a ballot (a keyed hash) finds a person's own answers; it names nobody.
    for ballot in answers.values_list("ballot", flat=True):
        assert ballot and not _leaks(ballot, users)
    before = set(answers.values_list("pk", flat=True))
    kept = sorted(answers.values_list("statement_id", "choice"))

    round_close(survey_round=survey_round, at=NOW)
    answers = SurveyAnswer.objects.filter(statement__round=survey_round)
    # Closing drops the ballots and writes the answers again (in a random order): the
    # same answers, none of the ids they had while people could be told apart.
    assert not answers.filter(ballot__isnull=False).exists()
    assert sorted(answers.values_list("statement_id", "choice")) == kept
    assert not before & set(answers.values_list("pk", flat=True))
    assert SurveyParticipation.objects.filter(round=survey_round).count() == 3
    # Not even the person's own answers can be found again.
    assert selectors.my_answers(survey_round, users[0]) == {}
    # An account that goes leaves its answers counted and the count of people right.
    users[0].delete()
    assert selectors.respondents(survey_round) == 3
    assert {r.tally.total for r in selectors.round_results(survey_round)} == {3}


def test_no_page_or_export_of_an_anonymous_round_names_who_answered(
    client, team, owner, viewer, anonymous_round
):
    survey_round, users = anonymous_round
    client_for(client, owner)
    open_page = client.get(survey_url(team, "round", 1)).content.decode()
    assert "3 people answered so far." in open_page
    assert not _leaks(open_page, users)
    round_close(survey_round=survey_round, at=NOW)
    second = round_open(team=team, by=owner, at=LATER, anonymous=True)
    for user in users:
        answer_all(second, user, DISAGREE)
    round_close(survey_round=second, at=LATER)

    for user in (owner, viewer):
        client_for(client, user)
        urls = [
            survey_url(team),
            survey_url(team, "round", 1),
            survey_url(team, "round", 2),
            survey_url(team, "compare") + "?before=1&after=2",
            survey_url(team, "csv", 1),
            survey_url(team, "csv", 2),
        ]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert not _leaks(response.content.decode(), users), url
    page = client.get(survey_url(team, "round", 1)).content.decode()
    assert "Agree 1 (33%) · Disagree 1 (33%) · Unsure 1 (33%) · Spread 67%" in page
    assert "survey-names" not in page

    rows = list(csv.reader(io.StringIO(client.get(survey_url(team, "csv", 1)).content.decode())))
    assert rows[0] == [
        "statement", "expected", "answers", "agree", "disagree", "unsure",
        "agree_share", "disagree_share", "unsure_share", "spread", "misread",
    ]  # fmt: skip
    assert sorted(row[:6] for row in rows[1:]) == [
        ["The SRE is on call.", DISAGREE, "3", "1", "1", "1"],
        ["Toil should be automated.", AGREE, "3", "1", "1", "1"],
    ]


def test_an_anonymous_round_with_too_few_answers_shows_no_results(client, team, owner, teammate):
    statements(team, ("The SRE is on call.", DISAGREE))
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=True)
    answer_all(survey_round, owner, AGREE)
    answer_all(survey_round, teammate, DISAGREE)
    round_close(survey_round=survey_round, at=NOW)
    client_for(client, teammate)
    page = client.get(survey_url(team, "round", 1)).content.decode()
    assert "Fewer than 3 people answered this anonymous round" in page
    assert "Agree 1" not in page
    response = client.get(survey_url(team, "csv", 1))
    assert response.status_code == 400
    assert "Fewer than 3 people answered" in response.content.decode()


# --- Compare ----------------------------------------------------------------------------


def _two_closed_rounds(team, owner):
    statements(team, ("The SRE is on call.", DISAGREE), ("Toil should be automated.", AGREE))
    users = people(team, "p1", "p2", "p3", "p4")
    first = round_open(team=team, by=owner, at=NOW, anonymous=True)
    for user in users:
        answer_all(first, user, AGREE)
    round_close(survey_round=first, at=NOW)
    second = round_open(team=team, by=owner, at=LATER, anonymous=False)
    for index, user in enumerate(users):
        answer_all(second, user, AGREE, **{"The SRE is on call.": [DISAGREE, AGREE][index == 0]})
    round_close(survey_round=second, at=LATER)
    return users


def test_two_rounds_side_by_side(client, team, owner, viewer):
    _two_closed_rounds(team, owner)
    client_for(client, viewer)
    page = client.get(survey_url(team)).content.decode()
    # Newest round first; the comparison offered is the last round against the one before.
    assert page.index(">Round 2</a>") < page.index(">Round 1</a>")
    form = page[page.index('id="compare-form"') :]
    before, after = form.split('id="id_after"')
    assert '<option value="1" selected>Round 1</option>' in before
    assert '<option value="2" selected>Round 2</option>' in after
    response = client.get(survey_url(team, "compare") + "?before=2&after=1")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Survey round 1 against round 2" in page  # earlier first, whichever order
    assert "Agree \u221275 · Disagree +75 · Unsure 0 · Spread +25 (points)" in page
    assert "Agree 0 · Disagree 0 · Unsure 0 · Spread 0 (points)" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Choose two closed rounds."),
        ("?before=1", "Choose two closed rounds."),
        ("?before=1&after=1", "Choose two different rounds."),
        ("?before=1&after=9", "Choose a closed round of this team."),
        ("?before=1&after=3", "Choose a closed round of this team."),  # still open
        ("?before=x&after=2", "Choose a closed round of this team."),
    ],
)
def test_a_bad_comparison_is_refused(client, team, owner, query, message):
    _two_closed_rounds(team, owner)
    round_open(team=team, by=owner, at=LATER, anonymous=True)
    response = client_for(client, owner).get(survey_url(team, "compare") + query)
    assert response.status_code == 400
    assert message in response.content.decode()


# --- Roles and isolation ----------------------------------------------------------------


def test_outsiders_get_404_on_every_url_and_nothing_changes(client, team, owner, outsider):
    (statement,) = statements(team, ("The SRE is on call.", DISAGREE))
    first = round_open(team=team, by=owner, at=NOW, anonymous=False)
    answer_all(first, owner, AGREE)
    round_close(survey_round=first, at=NOW)
    round_open(team=team, by=owner, at=LATER, anonymous=False)
    (row,) = SurveyRound.objects.get(number=2).statements.all()
    before = _state()
    client_for(client, outsider)
    gets = [
        survey_url(team),
        survey_url(team, "round", 1),
        survey_url(team, "round", 2),
        survey_url(team, "csv", 1),
        survey_url(team, "compare") + "?before=1&after=2",
    ]
    posts = [
        (survey_url(team, "statement_add"), {"text": "x"}),
        (survey_url(team, "statement_edit", statement.pk), {"text": "x"}),
        (survey_url(team, "statement_retire", statement.pk), {}),
        (survey_url(team, "statement_retire", statement.pk), {"confirm": "yes"}),
        (survey_url(team, "settings"), {}),
        (survey_url(team, "round_open"), {}),
        (survey_url(team, "answer", 2), {f"s{row.pk}": AGREE}),
        (survey_url(team, "close", 2), {}),
        (survey_url(team, "close", 2), {"confirm": "yes"}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert _state() == before
    client.logout()
    assert client.get(survey_url(team, "csv", 1))["Location"].startswith("/accounts/login/")


def _state():
    return (
        list(SurveyStatement.objects.values_list("pk", "text", "retired_at").order_by("pk")),
        list(SurveyRound.objects.values_list("pk", "closed_at", "anonymous").order_by("pk")),
        sorted(SurveyAnswer.objects.values_list("statement_id", "choice", "respondent_id")),
        list(SurveySettings.objects.values_list("anonymous_by_default", flat=True)),
    )


def test_members_and_viewers_answer_and_read_but_only_admins_run_the_survey(
    client, team, owner, teammate, viewer
):
    (statement,) = statements(team, ("The SRE is on call.", DISAGREE))
    round_open(team=team, by=owner, at=NOW, anonymous=False)
    (row,) = SurveyRound.objects.get(number=1).statements.all()
    for user in (teammate, viewer):
        client_for(client, user)
        before = _state()
        for url, data in [
            (survey_url(team, "statement_add"), {"text": "x", "expected": ""}),
            (survey_url(team, "statement_edit", statement.pk), {"text": "x", "expected": ""}),
            (survey_url(team, "statement_retire", statement.pk), {}),
            (survey_url(team, "statement_retire", statement.pk), {"confirm": "yes"}),
            (survey_url(team, "settings"), {}),
            (survey_url(team, "round_open"), {}),
            (survey_url(team, "close", 1), {}),
            (survey_url(team, "close", 1), {"confirm": "yes"}),
        ]:
            assert client.post(url, data).status_code == 403, url
        assert _state() == before
        page = client.get(survey_url(team)).content.decode()
        assert 'id="statements-edit"' not in page and 'id="survey-settings"' not in page
        # Viewers answer too: a viewer is usually a stakeholder whose expectations count.
        response = client.post(survey_url(team, "answer", 1), {f"s{row.pk}": AGREE})
        assert response.status_code == 302
    assert SurveyParticipation.objects.count() == 2


def test_the_charter_and_the_team_page_link_to_the_survey(client, team, viewer):
    client_for(client, viewer)
    for url in (
        reverse("charter:detail", args=[team.slug]),
        reverse("team_detail", args=[team.slug]),
    ):
        assert f'href="{survey_url(team)}"' in client.get(url).content.decode()


# --- Fixed query counts -----------------------------------------------------------------


def _filled_round(team, owner, size: int) -> SurveyRound:
    statements(team, *[(f"Statement {i}", AGREE if i % 2 else DISAGREE) for i in range(size)])
    survey_round = round_open(team=team, by=owner, at=NOW, anonymous=False)
    for user in people(team, *[f"person{size}-{i}" for i in range(size)]):
        answer_all(survey_round, user, DISAGREE)
    return survey_round


@pytest.mark.parametrize("size", [1, 12])
def test_the_round_pages_read_a_fixed_number_of_queries(
    client, team, owner, size, django_assert_num_queries
):
    survey_round = _filled_round(team, owner, size)
    client_for(client, owner)
    # session, user, team, membership, round; respondents, my answers, statements
    with django_assert_num_queries(8):
        assert client.get(survey_url(team, "round", 1)).status_code == 200
    round_close(survey_round=survey_round, at=NOW)
    # session, user, team, membership, round; respondents, named answers, results,
    # my answers
    with django_assert_num_queries(9):
        response = client.get(survey_url(team, "round", 1))
    assert response.content.decode().count('<li class="survey-result') == size


@pytest.mark.parametrize("size", [1, 12])
def test_the_survey_and_compare_pages_read_a_fixed_number_of_queries(
    client, team, owner, size, django_assert_num_queries
):
    round_close(survey_round=_filled_round(team, owner, size), at=NOW)
    second = round_open(team=team, by=owner, at=LATER, anonymous=False)
    round_close(survey_round=second, at=LATER)
    client_for(client, owner)
    client.get(survey_url(team))  # the first visit seeds the defaults
    # session, user, team, membership; settings, statements, rounds
    with django_assert_num_queries(7):
        assert client.get(survey_url(team)).status_code == 200
    # session, user, team, membership; closed rounds, both rounds' results
    with django_assert_num_queries(6):
        response = client.get(survey_url(team, "compare") + "?before=1&after=2")
    assert response.status_code == 200
