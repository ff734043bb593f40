"""The survey pages. Anyone in the team reads them and answers an open round (viewers
too: a viewer is usually a stakeholder, a PM or a support lead, whose expectations of
the SRE are the ones the survey is for); admins edit the statements, open and close
rounds; anyone outside the team gets 404 on every URL. Bad input answers 400 with the
page and its message, and nothing is written."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from portal.access import AuthedRequest, team_membership_or_404, team_object_for_user
from portal.confirm import after_delete, delete_confirmation, delete_confirmed
from portal.models import (
    ExpectedAnswer,
    Membership,
    Role,
    SurveyChoice,
    SurveyRound,
    SurveyStatement,
)
from portal.survey import selectors, services
from portal.survey.forms import (
    AnswerForm,
    CompareForm,
    RoundOpenForm,
    StatementForm,
    SurveySettingsForm,
)
from portal.survey.results import (
    ANONYMOUS_MIN_RESPONDENTS,
    CHOICES,
    SPLIT_AT,
    StatementResult,
    attention_order,
    compare,
    results_withheld,
)


@dataclass(frozen=True)
class ResultRow:
    result: StatementResult
    expected_label: str
    names: dict[str, list[str]]  # by answer, a named round's only

    @property
    def names_by_choice(self) -> list[tuple[str, str, list[str]]]:
        """(answer, its label, who gave it) for each answer someone gave."""
        return [
            (choice, str(SurveyChoice(choice).label), self.names[choice])
            for choice in CHOICES
            if self.names.get(choice)
        ]


def _expected_label(expected: str) -> str:
    return str(ExpectedAnswer(expected).label) if expected else ""


def _survey_url(slug: str, anchor: str = "") -> str:
    return reverse("survey:home", args=[slug]) + (f"#{anchor}" if anchor else "")


def _round_url(slug: str, number: int) -> str:
    return reverse("survey:round", args=[slug, number])


def _row_form(statement: SurveyStatement, data=None) -> StatementForm:
    return StatementForm(
        data,
        initial={"text": statement.text, "expected": statement.expected},
        auto_id=f"id_st{statement.pk}_%s",
    )


def _survey_page(
    request: AuthedRequest,
    membership: Membership,
    *,
    add_form: StatementForm | None = None,
    failed_row: tuple[int, StatementForm] | None = None,
    settings_form: SurveySettingsForm | None = None,
    compare_form: CompareForm | None = None,
    page: selectors.SurveyPage | None = None,
    status: int = 200,
) -> HttpResponse:
    team = membership.team
    page = page or selectors.survey_page(team)
    can_admin = membership.allows(Role.ADMIN)
    anonymous_by_default = page.settings.anonymous_by_default if page.settings else True
    rows = []
    for statement in page.statements:
        form = None
        if can_admin:
            failed = failed_row is not None and failed_row[0] == statement.pk
            form = failed_row[1] if failed else _row_form(statement)
        rows.append((statement, form, _expected_label(statement.expected)))
    closed = [r.number for r in page.closed_rounds]
    if compare_form is None and len(closed) >= 2:
        compare_form = CompareForm(closed, initial={"before": closed[1], "after": closed[0]})
    return render(
        request,
        "portal/survey.html",
        {
            "team": team,
            "membership": membership,
            "can_admin": can_admin,
            "page": page,
            "rows": rows,
            "add_form": add_form or StatementForm(auto_id="id_new_%s"),
            "settings_form": settings_form
            or SurveySettingsForm(initial={"anonymous_by_default": anonymous_by_default}),
            "open_form": RoundOpenForm(initial={"anonymous": anonymous_by_default}),
            "compare_form": compare_form,
        },
        status=status,
    )


@require_GET
def survey_home(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug)
    page = selectors.survey_page(membership.team)
    if page.settings is None or page.settings.seeded_at is None:
        # The first visit puts the default statements on the team's list.
        services.survey_settings_ensure(team=membership.team, at=timezone.now())
        page = selectors.survey_page(membership.team)
    return _survey_page(request, membership, page=page)


def _admin(request: AuthedRequest, slug: str) -> Membership:
    return team_membership_or_404(request.user, slug, Role.ADMIN)


@require_POST
def statement_add(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = _admin(request, slug)
    form = StatementForm(request.POST, auto_id="id_new_%s")
    if form.is_valid():
        try:
            services.statement_add(team=membership.team, at=timezone.now(), **form.cleaned_data)
        except ValidationError as error:
            form.add_error("text", error.messages)
        else:
            messages.success(request, _("Statement added."))
            return redirect(_survey_url(slug, "statements"))
    return _survey_page(request, membership, add_form=form, status=400)


def _statement(request: AuthedRequest, slug: str, pk: int) -> tuple[SurveyStatement, Membership]:
    return team_object_for_user(
        request.user,
        slug,
        SurveyStatement.objects.filter(retired_at__isnull=True),
        needed=Role.ADMIN,
        pk=pk,
    )


@require_POST
def statement_edit(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    statement, membership = _statement(request, slug, pk)
    form = _row_form(statement, request.POST)
    if form.is_valid():
        try:
            services.statement_update(statement=statement, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("text", error.messages)
        else:
            messages.success(request, _("Statement saved."))
            return redirect(_survey_url(slug, "statements"))
    return _survey_page(request, membership, failed_row=(statement.pk, form), status=400)


@require_POST
def statement_retire(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Retires once confirmed (portal/confirm.py); else the page that asks."""
    statement, _membership = _statement(request, slug, pk)
    back_to = _survey_url(slug, "statements")
    if not delete_confirmed(request):
        return delete_confirmation(
            request,
            question=_("Retire “%(text)s”?") % {"text": statement.text},
            details=[
                _(
                    "It leaves the list: the rounds to come no longer ask it. Earlier rounds "
                    "keep it with their answers."
                )
            ],
            action=request.path,
            cancel_url=back_to,
            button=_("Retire the statement"),
        )
    services.statement_retire(statement=statement, at=timezone.now())
    messages.success(
        request, _("Statement retired: the rounds to come leave it out, earlier rounds keep it.")
    )
    return after_delete(request, back_to)


@require_POST
def settings_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = _admin(request, slug)
    form = SurveySettingsForm(request.POST)
    if not form.is_valid():  # a checkbox cannot be wrong; kept for the contract
        return _survey_page(request, membership, settings_form=form, status=400)
    services.survey_settings_update(team=membership.team, at=timezone.now(), **form.cleaned_data)
    messages.success(request, _("Survey setting saved."))
    return redirect(_survey_url(slug, "rounds"))


@require_POST
def round_open(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = _admin(request, slug)
    form = RoundOpenForm(request.POST)
    form.is_valid()
    try:
        survey_round = services.round_open(
            team=membership.team,
            by=request.user,
            at=timezone.now(),
            anonymous=form.cleaned_data["anonymous"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _survey_page(request, membership, status=400)
    messages.success(request, _("Round %(number)s is open.") % {"number": survey_round.number})
    return redirect(_round_url(slug, survey_round.number))


def _round(
    request: AuthedRequest, slug: str, number: int, needed: Role = Role.VIEWER
) -> tuple[SurveyRound, Membership]:
    return team_object_for_user(
        request.user, slug, SurveyRound.objects.all(), needed=needed, number=number
    )


def _round_page(
    request: AuthedRequest,
    survey_round: SurveyRound,
    membership: Membership,
    *,
    answer_form: AnswerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    team = membership.team
    count = selectors.respondents(survey_round)
    context = {
        "team": team,
        "membership": membership,
        "can_admin": membership.allows(Role.ADMIN),
        "round": survey_round,
        "respondents": count,
        "choices": CHOICES,
        "split_at": SPLIT_AT,
        "min_respondents": ANONYMOUS_MIN_RESPONDENTS,
    }
    if survey_round.is_open:
        mine = selectors.my_answers(survey_round, request.user)
        if answer_form is None:
            answer_form = AnswerForm(
                selectors.round_statements(survey_round),
                initial={f"s{pk}": choice for pk, choice in mine.items()},
            )
        context |= {
            "answer_form": answer_form,
            "answered": bool(mine),
            "close_question": f"{close_question(survey_round)} {_answered_so_far(count)}",
        }
    else:
        withheld = results_withheld(anonymous=survey_round.anonymous, respondents=count)
        rows = []
        if not withheld:
            names = selectors.named_answers(survey_round)
            rows = [
                ResultRow(result, _expected_label(result.expected), names.get(result.key, {}))
                for result in attention_order(selectors.round_results(survey_round))
            ]
        context |= {
            "withheld": withheld,
            "rows": rows,
            "mine": selectors.my_answers(survey_round, request.user),
        }
    return render(request, "portal/survey_round.html", context, status=status)


@require_GET
def round_detail(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    survey_round, membership = _round(request, slug, number)
    return _round_page(request, survey_round, membership)


@require_POST
def round_answer(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    survey_round, membership = _round(request, slug, number)
    if not survey_round.is_open:
        messages.error(request, _("This round is closed: its answers can no longer change."))
        return _round_page(request, survey_round, membership, status=400)
    form = AnswerForm(selectors.round_statements(survey_round), request.POST)
    if not form.is_valid():
        return _round_page(request, survey_round, membership, answer_form=form, status=400)
    try:
        services.round_answer(survey_round=survey_round, user=request.user, answers=form.answers())
    except ValidationError as error:  # closed or changed in between
        messages.error(request, " ".join(error.messages))
        return _round_page(request, survey_round, membership, status=400)
    messages.success(
        request, _("Your answers are recorded. You can change them until the round closes.")
    )
    return redirect(_round_url(slug, number))


def _answered_so_far(count: int) -> str:
    return ngettext(
        "%(counter)s person answered so far.", "%(counter)s people answered so far.", count
    ) % {"counter": count}


def close_question(survey_round: SurveyRound) -> str:
    """What closing the round does, asked before it is closed (here and by the browser)."""
    if survey_round.anonymous:
        return _(
            "Close round %(number)s? People can no longer answer or change their answers; "
            "the answers are kept without names."
        ) % {"number": survey_round.number}
    return _(
        "Close round %(number)s? People can no longer answer or change their answers; "
        "the team sees each answer with the name of the person who gave it."
    ) % {"number": survey_round.number}


@require_POST
def round_close(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    """Closes once confirmed (portal/confirm.py); else the page that asks."""
    survey_round, membership = _round(request, slug, number, Role.ADMIN)
    if survey_round.is_open and not delete_confirmed(request):
        count = selectors.respondents(survey_round)
        return delete_confirmation(
            request,
            question=close_question(survey_round),
            details=[
                _answered_so_far(count),
                _("The results show once you close the round."),
            ],
            action=request.path,
            cancel_url=_round_url(slug, number),
            button=_("Close the round"),
        )
    try:
        services.round_close(survey_round=survey_round, at=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _round_page(request, survey_round, membership, status=400)
    messages.success(
        request,
        _("Round %(number)s is closed: here are its results.") % {"number": survey_round.number},
    )
    return after_delete(request, _round_url(slug, number))


def _refusal(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


@require_GET
def round_csv(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    """The round's results per statement: counts, shares and spread, never a person."""
    survey_round, membership = _round(request, slug, number)
    if survey_round.is_open:
        return _refusal(_("The round is still open: its results show once it is closed."))
    count = selectors.respondents(survey_round)
    if results_withheld(anonymous=survey_round.anonymous, respondents=count):
        return _refusal(_withheld_message())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["statement", "expected", "answers", *CHOICES]
        + [f"{choice}_share" for choice in CHOICES]
        + ["spread", "misread"]
    )
    for result in attention_order(selectors.round_results(survey_round)):
        tally = result.tally
        writer.writerow(
            [result.text, result.expected, tally.total]
            + [tally.count(choice) for choice in CHOICES]
            + [_share(tally.share(choice)) for choice in CHOICES]
            + [_share(tally.spread), "yes" if result.misread else "no"]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"survey-{membership.team.slug}-round-{survey_round.number}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _withheld_message() -> str:
    return _(
        "Fewer than %(count)s people answered this anonymous round: its results are not "
        "shown, so nobody's answers can be worked out."
    ) % {"count": ANONYMOUS_MIN_RESPONDENTS}


@require_GET
def rounds_compare(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug)
    team = membership.team
    rounds = {r.number: r for r in selectors.closed_rounds_with_respondents(team)}
    form = CompareForm(list(rounds), request.GET)
    if not form.is_valid():
        return _survey_page(request, membership, compare_form=form, status=400)
    before = rounds[form.cleaned_data["before"]]
    after = rounds[form.cleaned_data["after"]]
    if before.number > after.number:
        before, after = after, before
    withheld = [
        r
        for r in (before, after)
        if results_withheld(anonymous=r.anonymous, respondents=r.respondents)
    ]
    if withheld:
        form.add_error(None, _withheld_message())
        return _survey_page(request, membership, compare_form=form, status=400)
    by_round = selectors.rounds_results([before, after])
    return render(
        request,
        "portal/survey_compare.html",
        {
            "team": team,
            "before": before,
            "after": after,
            "rows": [
                (row, _expected_label(row.expected))
                for row in compare(by_round[before.pk], by_round[after.pk])
            ],
            "choices": CHOICES,
            "form": form,
        },
    )
