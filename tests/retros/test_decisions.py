"""Decisions taken in the retro take effect: tickets, releases, reviews and actions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from retros.models import TicketDecision
from retros.selectors import retro_agenda
from retros.services import (
    retro_action_add,
    retro_action_review,
    retro_release_decide,
    retro_review_record,
    retro_session_close,
    retro_session_plan,
    retro_session_start,
    retro_ticket_decide,
)
from slos.models import SLO, Notification, RoutingRule, SLOReview
from tests.conftest import utc
from tests.factories import (
    HandFedSLOFactory,
    IntakeSourceFactory,
    NotificationFactory,
    RoutingRuleFactory,
    hourly_buckets,
    hours_from,
)
from toil.models import BacklogItem

STARTED = utc(2025, 3, 12, 1, 30)  # Wednesday 10:30 in Tokyo
NEXT_WEEK = STARTED + timedelta(days=7)


@pytest.fixture
def slo(service):
    return HandFedSLOFactory(service=service, name="Clock-in availability")


@pytest.fixture
def source(team):
    return IntakeSourceFactory(team=team, kind="sentry")


def ticket(source, title: str, *, slo=None, rule=None) -> Notification:
    return NotificationFactory(
        source=source,
        title=title,
        notification_class="ticket",
        first_seen_at=STARTED - timedelta(hours=2),
        slo=slo,
        service=slo.service if slo else None,
        rule=rule,
        decided_by_rule=rule.name if rule else "default",
    )


def started(team, owner, at=STARTED):
    return retro_session_start(session=retro_session_plan(team=team, at=at), user=owner, at=at)


def item(session, notification) -> TicketDecision:
    return session.ticket_decisions.get(notification=notification)


def closed(session, owner):
    return retro_session_close(
        session=session, user=owner, at=session.started_at + timedelta(minutes=30)
    )


def test_dismiss_needs_a_note_and_dismisses_the_ticket(team, owner, source):
    noisy = ticket(source, "Timeout talking to the cache")
    session = started(team, owner)

    with pytest.raises(ValueError):
        retro_ticket_decide(
            item=item(session, noisy), user=owner, decision="dismiss", note=" ", at=STARTED
        )
    retro_ticket_decide(
        item=item(session, noisy), user=owner, decision="dismiss", note="Known flake", at=STARTED
    )

    noisy.refresh_from_db()
    assert (noisy.ticket_status, noisy.ticket_note, noisy.ticket_decided_by) == (
        "dismissed",
        "Known flake",
        owner,
    )
    decided = item(session, noisy)
    assert (decided.decision, decided.note, decided.decided_by) == ("dismiss", "Known flake", owner)
    with pytest.raises(ValueError):
        retro_ticket_decide(item=decided, user=owner, decision="tune", note="", at=STARTED)


def test_escalate_turns_the_deciding_rule_into_an_alert(team, owner, source):
    rule = RoutingRuleFactory(
        team=team, name="Sentry errors", source_kind="sentry", outcome="ticket"
    )
    errors = ticket(source, "Payroll export failed", rule=rule)
    session = started(team, owner)

    retro_ticket_decide(
        item=item(session, errors), user=owner, decision="escalate", note="", at=STARTED
    )

    rule.refresh_from_db()
    assert rule.outcome == "alert"
    assert RoutingRule.objects.count() == 1
    errors.refresh_from_db()
    assert errors.ticket_status == "escalated"


def test_escalate_without_a_rule_makes_a_first_rule(team, owner, source):
    RoutingRuleFactory(team=team, name="Everything else", position=1, outcome="log")
    errors = ticket(source, "Payroll export failed")
    session = started(team, owner)

    retro_ticket_decide(
        item=item(session, errors), user=owner, decision="escalate", note="", at=STARTED
    )

    first = RoutingRule.objects.filter(team=team).order_by("position").first()
    assert first.outcome == "alert"
    assert first.source_kind == "sentry"
    assert first.conditions == [
        {"field": "title", "op": "equals", "value": "Payroll export failed"}
    ]
    assert RoutingRule.objects.get(name="Everything else").position == 2


def test_backlog_makes_an_item_linked_to_the_ticket_and_its_slo(team, owner, source, slo):
    burning = ticket(source, "Clock-in 5xx above 1%", slo=slo)
    session = started(team, owner)

    decided = retro_ticket_decide(
        item=item(session, burning), user=owner, decision="backlog", note="", at=STARTED
    )

    backlog_item = BacklogItem.objects.get()
    assert decided.backlog_item == backlog_item
    assert (backlog_item.title, backlog_item.slo, backlog_item.kind, backlog_item.team) == (
        "Clock-in 5xx above 1%",
        slo,
        "reliability",
        team,
    )
    burning.refresh_from_db()
    assert burning.ticket_status == "backlogged"
    row = retro_agenda(session, at=STARTED).tickets[0]
    assert (row.backlog_item_id, row.slo_id, row.decision) == (backlog_item.pk, slo.pk, "backlog")


def test_tune_is_recorded_and_links_the_rule(team, owner, source):
    rule = RoutingRuleFactory(team=team, source_kind="sentry", outcome="ticket")
    noisy = ticket(source, "Slow query", rule=rule)
    session = started(team, owner)

    retro_ticket_decide(
        item=item(session, noisy),
        user=owner,
        decision="tune",
        note="Raise the threshold",
        at=STARTED,
    )

    row = retro_agenda(session, at=STARTED).tickets[0]
    assert (row.decision, row.rule_id, row.source_kind) == ("tune", rule.pk, "sentry")
    noisy.refresh_from_db()
    assert noisy.ticket_status == "open"


def test_undecided_tickets_are_carried_into_the_next_session(team, owner, source):
    decided, left = ticket(source, "Decided"), ticket(source, "Left over")
    first = started(team, owner)
    retro_ticket_decide(
        item=item(first, decided), user=owner, decision="dismiss", note="noise", at=STARTED
    )
    closed(first, owner)
    newer = NotificationFactory(
        source=source,
        title="New this week",
        notification_class="ticket",
        first_seen_at=NEXT_WEEK - timedelta(days=1),
    )

    second = started(team, owner, at=NEXT_WEEK)

    rows = [(row.title, row.carried) for row in retro_agenda(second, at=NEXT_WEEK).tickets]
    assert rows == [("Left over", True), ("New this week", False)]
    assert item(second, left).notification == left
    assert item(second, newer).carried is False


def test_carried_actions_come_back_and_closed_ones_do_not(team, owner, teammate):
    first = started(team, owner)
    due = date(2025, 3, 19)
    actions = {
        text: retro_action_add(
            session=first, user=owner, text=text, owner=teammate, due_on=due, at=STARTED
        )
        for text in ("Add a canary", "Write the runbook", "Drop the old dashboard")
    }
    closed(first, owner)

    second = started(team, owner, at=NEXT_WEEK)
    agenda = retro_agenda(second, at=NEXT_WEEK)
    assert [(row.text, row.owner_name, row.due_on) for row in agenda.actions] == [
        ("Add a canary", "teammate", due),
        ("Write the runbook", "teammate", due),
        ("Drop the old dashboard", "teammate", due),
    ]
    reviews = {review.action.text: review for review in second.action_reviews.all()}
    for text, outcome in (
        ("Add a canary", "carried"),
        ("Write the runbook", "done"),
        ("Drop the old dashboard", "dropped"),
    ):
        retro_action_review(review=reviews[text], user=owner, outcome=outcome, at=NEXT_WEEK)
    closed(second, owner)

    for action in actions.values():
        action.refresh_from_db()
    assert [action.status for action in actions.values()] == ["open", "done", "dropped"]
    third_week = NEXT_WEEK + timedelta(days=7)
    third = started(team, owner, at=third_week)
    assert [row.text for row in retro_agenda(third, at=third_week).actions] == ["Add a canary"]
    assert [row.outcome for row in retro_agenda(second, at=third_week).actions] == [
        "carried",
        "done",
        "dropped",
    ]


def test_release_decisions_are_recorded(team, owner, slo):
    # All bad for a day: the budget is spent, a release decision is due.
    hourly_buckets(slo, hours_from(STARTED - timedelta(days=1, hours=1), 24), good=900, valid=1000)
    session = started(team, owner)
    snapshot = session.snapshots.get()
    assert retro_agenda(session, at=STARTED).budgets[0].burning

    with pytest.raises(ValueError):
        retro_release_decide(snapshot=snapshot, user=owner, decision="ship it", at=STARTED)
    retro_release_decide(snapshot=snapshot, user=owner, decision="reliability", at=STARTED)

    row = retro_agenda(session, at=STARTED).budgets[0]
    assert (row.release_decision, row.release_decision_label) == (
        "reliability",
        "reliability first",
    )


def test_reviews_are_recorded_as_registry_reviews(team, owner, slo, service):
    not_due = HandFedSLOFactory(service=service, name="Reviewed lately")
    SLO.objects.filter(pk=not_due.pk).update(provisional=False, next_review_on=date(2025, 6, 1))
    session = started(team, owner)
    review_item = session.reviews.get()
    assert review_item.slo == slo and review_item.provisional

    retro_review_record(
        item=review_item,
        user=owner,
        decision="tighten",
        note="A quarter above target",
        new_target=Decimal("99.9"),
        at=STARTED,
    )

    review = SLOReview.objects.get(slo=slo)
    assert (review.decision, review.new_target, review.reviewed_by) == (
        "tighten",
        Decimal("99.9"),
        owner,
    )
    slo.refresh_from_db()
    assert (slo.target, slo.provisional) == (Decimal("99.9"), False)
    row = retro_agenda(session, at=STARTED).reviews[0]
    assert (row.review_id, row.decision, row.new_target) == (review.pk, "tighten", Decimal("99.9"))
    with pytest.raises(ValueError):
        retro_review_record(
            item=review_item, user=owner, decision="keep", note="", new_target=None, at=STARTED
        )
