"""Writes for retros. Keyword-only, typed; views and commands call these.

A session is planned (its agenda a live preview), then started (live: the agenda is
frozen into rows), then closed (read-only, with its summary). Every write to a live
session bumps its `version`, which the meeting screen's followers poll; a write to a
closed session is refused with a message for people."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portal.models import Team
from portal.weeks import week_monday
from retros.agenda import SECTION_SLUGS, SECTIONS, session_time
from retros.models import (
    ActionOutcome,
    ActionReview,
    ActionStatus,
    BudgetSnapshot,
    HierarchyPractice,
    Kudos,
    ReleaseDecision,
    RetroAction,
    RetroSession,
    ReviewItem,
    SessionNote,
    SessionStatus,
    TicketDecision,
    TicketDecisionKind,
)
from retros.selectors import retro_agenda, retro_freeze_plan, week_retro
from retros.summary import session_markdown, summary_from_agenda
from slos.models import NotificationClass, RoutingRule, TicketStatus
from slos.notifications.delivery import summary_enqueue
from slos.notifications.intake import ticket_decide
from slos.notifications.services import routing_rule_create, routing_rule_update
from slos.registry.services import slo_review_record
from toil.models import BacklogItem, Effort, Impact, Kind, Likelihood
from toil.services import backlog_item_create

User = AbstractBaseUser


def _bump(session: RetroSession) -> None:
    """A write the followers must see: their poll compares versions."""
    RetroSession.objects.filter(pk=session.pk).update(version=F("version") + 1)


def _locked(session: RetroSession) -> RetroSession:
    return (
        RetroSession.objects.select_for_update(of=("self",))
        .select_related("team")
        .get(pk=session.pk)
    )


def _writable(session: RetroSession) -> None:
    """Refuse writes to a closed session (the views answer 409 with the message)."""
    if session.status == SessionStatus.CLOSED:
        raise ValueError(_("This retro is closed: it can no longer be changed."))


def _live(session: RetroSession) -> None:
    _writable(session)
    if session.status != SessionStatus.LIVE:
        raise ValueError(_("This retro has not started yet."))


def _refresh(session: RetroSession) -> None:
    """The caller's instance follows what was written (status, version, section)."""
    session.refresh_from_db(
        fields=[
            "status",
            "version",
            "current_section",
            "section_started_at",
            "facilitator",
            "started_at",
            "closed_at",
            "summary",
            "frozen",
            "started_by",
        ]
    )


# --- Sessions ----------------------------------------------------------------------


class RetroWeekRefused(ValueError):
    """A session may be started only in its own week (one retro a team and week);
    `week_retro` is the retro of the week it was tried in, if there is one."""

    def __init__(self, message: str, *, week_retro: RetroSession | None):
        super().__init__(message)
        self.week_retro = week_retro


def retro_session_plan(*, team: Team, at: datetime) -> RetroSession:
    """The team's next session, made if missing: the session of the first week, from
    this one on, whose retro is not closed yet. One retro a team and week, so a closed
    one makes the next week's the next session. Idempotent."""
    monday = week_monday(at, team.time_zone)
    statuses = dict(
        RetroSession.objects.filter(
            team=team, week_of__gte=monday, extra_in_week=False
        ).values_list("week_of", "status")
    )
    while statuses.get(monday) == SessionStatus.CLOSED:
        monday = date.fromordinal(monday.toordinal() + 7)
    existing = week_retro(team=team, week_of=monday) if monday in statuses else None
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return RetroSession.objects.create(
                team=team,
                week_of=monday,
                status=SessionStatus.PLANNED,
                scheduled_at=session_time(
                    monday, weekday=team.retro_weekday, at=team.retro_time, time_zone=team.time_zone
                ),
                length_minutes=team.retro_minutes,
            )
    except IntegrityError:
        # Another request planned it meanwhile (one retro per team and week).
        return RetroSession.objects.get(team=team, week_of=monday, extra_in_week=False)


def _in_its_week(session: RetroSession, *, at: datetime) -> None:
    """Refuse to hold a session outside its own week: a second retro in this week."""
    this_monday = week_monday(at, session.team.time_zone)
    if session.week_of == this_monday:
        return
    held = week_retro(team=session.team, week_of=this_monday)
    if session.week_of > this_monday:
        message = _(
            "This is the retro of the week of %(week)s: it can be started from that "
            "Monday. A team holds one retro a week."
        )
    else:
        message = _(
            "The week of %(week)s is over and its retro was not held: it can no longer "
            "be started. A team holds one retro a week."
        )
    raise RetroWeekRefused(
        message % {"week": date_format(session.week_of, "DATE_FORMAT")}, week_retro=held
    )


def retro_session_start(*, session: RetroSession, user: User, at: datetime) -> RetroSession:
    """Planned → live, in the session's own week (RetroWeekRefused otherwise):
    everything the agenda shows is frozen as it stands at `at`."""
    with transaction.atomic():
        current = _locked(session)
        if current.status != SessionStatus.PLANNED:
            _writable(current)
            raise ValueError(_("This retro has already started."))
        _in_its_week(current, at=at)
        plan = retro_freeze_plan(current, at=at)
        current.status = SessionStatus.LIVE
        current.started_at = at
        current.started_by = user
        current.facilitator = user
        current.current_section = 0
        current.section_started_at = at
        current.version = F("version") + 1
        current.frozen = {"work": plan.work, "previous_session_id": plan.previous_session_id}
        current.save(
            update_fields=[
                "status",
                "started_at",
                "started_by",
                "facilitator",
                "current_section",
                "section_started_at",
                "version",
                "frozen",
            ]
        )
        if user is not None:
            current.attendees.add(user)
        for row in plan.snapshots:
            row.session = current
        BudgetSnapshot.objects.bulk_create(plan.snapshots)
        for row in plan.tickets:
            row.session = current
        TicketDecision.objects.bulk_create(plan.tickets)
        for row in plan.reviews:
            row.session = current
        ReviewItem.objects.bulk_create(plan.reviews)
        ActionReview.objects.bulk_create(
            [ActionReview(session=current, action=action) for action in plan.actions]
        )
        Kudos.objects.filter(pk__in=[kudos.pk for kudos in plan.kudos], session=None).update(
            session=current
        )
    _refresh(session)
    return session


def retro_session_close(*, session: RetroSession, user: User, at: datetime) -> RetroSession:
    """Live → closed, with its summary; queued to the team's Slack when it has one (the
    delivery task runs after commit)."""
    with transaction.atomic():
        current = _locked(session)
        _live(current)
        current.closed_at = at
        text = session_markdown(summary_from_agenda(retro_agenda(current, at=at)))
        RetroSession.objects.filter(pk=current.pk).update(
            status=SessionStatus.CLOSED,
            closed_at=at,
            summary=text,
            version=F("version") + 1,
        )
        summary_enqueue(team=current.team, key=f"retro-summary-{current.pk}", text=text, at=at)
    _refresh(session)
    return session


def retro_section_move(
    *, session: RetroSession, user: User, index: int, at: datetime
) -> RetroSession:
    """The facilitator's section; whoever moves becomes the facilitator."""
    if not 0 <= index < len(SECTIONS):
        raise ValueError(_("There is no such section."))
    with transaction.atomic():
        current = _locked(session)
        _live(current)
        RetroSession.objects.filter(pk=current.pk).update(
            current_section=index,
            section_started_at=at,
            facilitator=user,
            version=F("version") + 1,
        )
        if user is not None:
            current.attendees.add(user)
    _refresh(session)
    return session


def retro_attend(*, session: RetroSession, user: User) -> None:
    """Record that the user attends (idempotent)."""
    _writable(session)
    session.attendees.add(user)


def retro_note_add(
    *, session: RetroSession, user: User, section: str, text: str, at: datetime
) -> SessionNote:
    if section not in SECTION_SLUGS:
        raise ValueError(_("There is no such section."))
    text = text.strip()
    if not text:
        raise ValueError(_("Write the note first."))
    with transaction.atomic():
        current = _locked(session)
        _live(current)
        note = SessionNote.objects.create(
            session=current, section=section, author=user, text=text, created_at=at
        )
        _bump(current)
    return note


# --- Decisions -----------------------------------------------------------------------


def retro_release_decide(
    *, snapshot: BudgetSnapshot, user: User, decision: str, at: datetime
) -> None:
    if decision not in ReleaseDecision.values:
        raise ValueError(_("Choose keep shipping, slow down or reliability first."))
    with transaction.atomic():
        current = _locked(snapshot.session)
        _live(current)
        BudgetSnapshot.objects.filter(pk=snapshot.pk).update(release_decision=decision)
        _bump(current)
    snapshot.release_decision = decision


def _escalate(item: TicketDecision, *, user: User, at: datetime) -> None:
    """Such notifications become alerts: the rule that decided this one now says so, or a
    new first rule for its source kind and title does."""
    notification = item.notification
    team = notification.team
    rule = (
        RoutingRule.objects.filter(team=team, pk=notification.rule_id).first()
        if notification.rule_id
        else None
    )
    if rule is not None:
        routing_rule_update(
            team=team,
            rule_id=rule.pk,
            user=user,
            at=at,
            name=rule.name,
            source_kind=rule.source_kind,
            slo=rule.slo,
            conditions=rule.conditions,
            outcome=NotificationClass.ALERT,
        )
    else:
        routing_rule_create(
            team=team,
            user=user,
            at=at,
            name=(_("Alert: %(title)s") % {"title": notification.title})[:120],
            position=1,
            source_kind=notification.source.kind,
            slo=None,
            conditions=[{"field": "title", "op": "equals", "value": notification.title}],
            outcome=NotificationClass.ALERT,
        )


def retro_ticket_decide(
    *, item: TicketDecision, user: User, decision: str, note: str, at: datetime
) -> TicketDecision:
    """Decide an error ticket in the retro, with its effect: dismissed (with a note),
    the rule to tune (the page opens its editor), escalated to an alert, or a backlog
    item made and linked to the ticket and its SLO."""
    if decision not in TicketDecisionKind.values or decision == TicketDecisionKind.UNDECIDED:
        raise ValueError(_("Choose dismiss, tune, escalate or backlog."))
    note = note.strip()
    if decision == TicketDecisionKind.DISMISS and not note:
        raise ValueError(_("Say why the ticket is dismissed."))
    with transaction.atomic():
        current = _locked(item.session)
        _live(current)
        item = (
            TicketDecision.objects.select_for_update(of=("self",))
            .select_related("notification__source", "notification__team", "notification__slo")
            .get(pk=item.pk)
        )
        if item.decision:
            raise ValueError(_("This ticket has already been decided."))
        notification = item.notification
        if notification is None and decision != TicketDecisionKind.TUNE:
            raise ValueError(_("The ticket no longer exists; only a note can be kept."))
        if decision == TicketDecisionKind.DISMISS:
            ticket_decide(
                ticket=notification, status=TicketStatus.DISMISSED, note=note, user=user, at=at
            )
        elif decision == TicketDecisionKind.ESCALATE:
            _escalate(item, user=user, at=at)
            ticket_decide(
                ticket=notification, status=TicketStatus.ESCALATED, note=note, user=user, at=at
            )
        elif decision == TicketDecisionKind.BACKLOG:
            item.backlog_item = backlog_item_create(
                team=current.team,
                title=notification.title[:200],
                description=note or notification.text,
                kind=Kind.RELIABILITY,
                impact=Impact.SOME_USERS,
                likelihood=Likelihood.MAY_HAPPEN,
                effort=Effort.M,
                slo=notification.slo
                if notification.slo is not None
                and notification.slo.service.team_id == current.team_id
                else None,
                ticket=notification,
                created_by=user,
                at=at,
            )
            ticket_decide(
                ticket=notification, status=TicketStatus.BACKLOGGED, note=note, user=user, at=at
            )
        item.decision = decision
        item.note = note
        item.decided_by = user
        item.decided_at = at
        item.save(update_fields=["decision", "note", "backlog_item", "decided_by", "decided_at"])
        _bump(current)
    return item


def retro_review_record(
    *,
    item: ReviewItem,
    user: User,
    decision: str,
    note: str,
    new_target: Decimal | None,
    at: datetime,
) -> ReviewItem:
    """The SLO's registry review, recorded from the retro and linked on the item.
    ValidationError (from the registry) when the new target does not fit the decision."""
    with transaction.atomic():
        current = _locked(item.session)
        _live(current)
        item = ReviewItem.objects.select_for_update(of=("self",)).get(pk=item.pk)
        if item.review_id is not None:
            raise ValueError(_("This SLO has already been reviewed in this retro."))
        if item.slo_id is None:
            raise ValueError(_("The SLO no longer exists."))
        review = slo_review_record(
            slo=item.slo, user=user, decision=decision, note=note, new_target=new_target, at=at
        )
        item.review = review
        item.save(update_fields=["review"])
        _bump(current)
    return item


def retro_action_add(
    *,
    session: RetroSession,
    user: User,
    text: str,
    owner: User | None,
    due_on: date | None,
    backlog_item: BacklogItem | None = None,
    at: datetime,
) -> RetroAction:
    text = text.strip()
    if not text:
        raise ValueError(_("Say what the action is."))
    with transaction.atomic():
        current = _locked(session)
        _live(current)
        if backlog_item is not None and backlog_item.team_id != current.team_id:
            raise ValueError(_("Choose one of the team's open backlog items."))
        action = RetroAction.objects.create(
            team=current.team,
            opened_in=current,
            text=text,
            owner=owner,
            due_on=due_on,
            backlog_item=backlog_item,
            created_by=user,
            created_at=at,
        )
        _bump(current)
    return action


def retro_action_review(*, review: ActionReview, user: User, outcome: str, at: datetime) -> None:
    """Done and dropped close the action; carried keeps it open for next week."""
    if outcome not in ActionOutcome.values:
        raise ValueError(_("Choose done, carried or dropped."))
    with transaction.atomic():
        current = _locked(review.session)
        _live(current)
        ActionReview.objects.filter(pk=review.pk).update(
            outcome=outcome, reviewed_by=user, reviewed_at=at
        )
        if outcome == ActionOutcome.CARRIED:
            RetroAction.objects.filter(pk=review.action_id).update(
                status=ActionStatus.OPEN, closed_at=None
            )
        else:
            RetroAction.objects.filter(pk=review.action_id).update(status=outcome, closed_at=at)
        _bump(current)
    review.outcome, review.reviewed_by, review.reviewed_at = outcome, user, at


# --- Kudos ---------------------------------------------------------------------------


def kudos_add(
    *,
    team: Team,
    user: User,
    person: User | None,
    person_name: str,
    what: str,
    practice: str,
    at: datetime,
) -> Kudos:
    """SRE work someone noticed. Shown in the team's next retro; if one is live now,
    the big screen shows it at once."""
    if practice not in HierarchyPractice.values:
        raise ValueError(_("Choose a practice of the reliability hierarchy."))
    what = what.strip()
    if not what:
        raise ValueError(_("Say what they did."))
    name = person_name.strip() or (person.get_username() if person is not None else "")
    if not name:
        raise ValueError(_("Say who did it."))
    with transaction.atomic():
        live = (
            RetroSession.objects.select_for_update()
            .filter(team=team, status=SessionStatus.LIVE)
            .order_by("-started_at")
            .first()
        )
        kudos = Kudos.objects.create(
            team=team,
            person=person,
            person_name=name[:150],
            what=what,
            practice=practice,
            noted_by=user,
            noted_at=at,
            session=live,
        )
        if live is not None:
            _bump(live)
    return kudos
