"""Notification intake: webhooks from Alertmanager, Sentry and a generic JSON shape.

The order is the contract (slos/notifications/api.py follows it):

1. the source is found by the token in the URL; a wrong token stores nothing;
2. oversized, unsigned (Sentry) or malformed bodies are refused and kept as a rejected
   IntakeRequest, the body cut short, with the reason, for whoever debugs the sender;
3. an accepted body is stored as an IntakeRequest in the same transaction as what it
   carries, committed before the 2xx, so a delivery the sender saw answered 2xx is
   never lost; if processing it fails, the raw body is committed all the same;
4. its notifications are deduplicated by fingerprint (Alertmanager's alert fingerprint,
   Sentry's issue id, the generic `key`) into one Notification per source and
   fingerprint, counting deliveries, first and last seen, firing or resolved;
5. a notification seen for the first time is classified by the team's routing policy
   (slos/notifications/routing.py) into alert / ticket / log, with the deciding rule and the reason;
   later deliveries keep that class and the ticket's decision.
6. the Slack messages new alerts (and tickets, if the team wants each one) call for are
   queued in the outbox in that same transaction (slos/notifications/delivery.py sends them).

Parsing (slos/notifications/parsers.py) is pure: bytes in, `Incoming` values out, or
IntakeProblem.

The generic JSON shape, one notification or {"notifications": [...]} of them:

    {
      "key": "nightly-backup",          required: the same key is the same notification
      "title": "Nightly backup failed", required
      "status": "firing",               or "resolved"; default "firing"
      "severity": "ticket",             free text; "page" / "ticket" matter with an SLO
      "error": true,                    an error (tickets when tied to a known service)
      "service": "Clock-in API",        a service of the team, by name or OpenSLO name
      "slo": "clock-in-availability",   an SLO of the team, by id or OpenSLO name
      "text": "…", "url": "https://…", "labels": {"env": "prod"}
    }
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction

from portal.api_tokens import token_digest
from slos.models import (
    SLO,
    IntakeRequest,
    IntakeSource,
    IntakeStatus,
    Notification,
    NotificationClass,
    NotificationState,
    RoutingRule,
    Service,
)
from slos.notifications import routing
from slos.notifications.parsers import (
    Incoming,
    merge_repeats,
    stored_text,
)

REJECTED_BODY_KEPT = 4096
INTAKE_TOKEN_SCHEME = "rpi_"
INTAKE_TOKEN_PREFIX_LENGTH = len(INTAKE_TOKEN_SCHEME) + 8


# --- Parsing (pure) ----------------------------------------------------------------


# --- Sources and their tokens ------------------------------------------------------


@dataclass(frozen=True)
class NewIntakeSource:
    source: IntakeSource
    token: str


def intake_source_create(
    *, team, name: str, kind: str, service: Service | None = None, client_secret: str = ""
) -> NewIntakeSource:
    """A new source; `token` is the only copy of the URL's secret there will be."""
    raw = INTAKE_TOKEN_SCHEME + secrets.token_urlsafe(32)
    source = IntakeSource.objects.create(
        team=team,
        name=name.strip(),
        kind=kind,
        service=service,
        client_secret=client_secret.strip(),
        token_hash=token_digest(raw),
        token_prefix=raw[:INTAKE_TOKEN_PREFIX_LENGTH],
    )
    return NewIntakeSource(source=source, token=raw)


def intake_source_for_token(*, raw: str, kind: str) -> IntakeSource | None:
    return (
        IntakeSource.objects.select_related("team")
        .filter(token_hash=token_digest(raw.strip()), kind=kind)
        .first()
    )


# --- Storing and classifying -------------------------------------------------------


def intake_reject(
    *, source: IntakeSource, body: bytes, body_bytes: int, http_status: int, reason: str, at
) -> IntakeRequest:
    return IntakeRequest.objects.create(
        source=source,
        received_at=at,
        status=IntakeStatus.REJECTED,
        http_status=http_status,
        reason=reason,
        body=stored_text(body[:REJECTED_BODY_KEPT]),
        body_bytes=body_bytes,
    )


@dataclass(frozen=True)
class IntakeOutcome:
    created: int
    updated: int
    classes: dict[str, int]


@dataclass(frozen=True)
class Accepted:
    request: IntakeRequest
    outcome: IntakeOutcome


def intake_accept(
    *, source: IntakeSource, body: bytes, incoming: Sequence[Incoming], at: datetime
) -> Accepted:
    """Store an accepted delivery and what it carries, in one transaction, before the
    2xx: the raw body, its notifications deduplicated and classified, and the Slack
    messages they call for (the outbox). A fixed number of queries whatever the number
    of notifications in it.

    The processing runs in a savepoint: if it fails, it is undone, and the raw delivery
    is still committed (status "received", for whoever debugs it) before the error
    propagates and the sender, answered 500, retries."""
    merged = merge_repeats(incoming)
    failure: Exception | None = None
    with transaction.atomic():
        request = IntakeRequest.objects.create(
            source=source,
            received_at=at,
            status=IntakeStatus.PROCESSED,
            http_status=200,
            body=stored_text(body),
            body_bytes=len(body),
            notification_count=len(merged),
        )
        try:
            outcome = _ingest(request=request, merged=merged, at=at)
        except Exception as exc:  # noqa: BLE001 - re-raised once the raw body is committed
            failure = exc
            IntakeRequest.objects.filter(pk=request.pk).update(
                status=IntakeStatus.RECEIVED, http_status=500, notification_count=0
            )
    if failure is not None:
        raise failure
    return Accepted(request=request, outcome=outcome)


def _ingest(
    *, request: IntakeRequest, merged: list[tuple[Incoming, int]], at: datetime
) -> IntakeOutcome:
    try:
        with transaction.atomic():
            return _ingest_once(request=request, merged=merged, at=at)
    except IntegrityError:
        # Another delivery created one of these fingerprints at the same moment: those
        # rows exist now, so a second pass counts them as repeats.
        with transaction.atomic():
            return _ingest_once(request=request, merged=merged, at=at)


@dataclass(frozen=True)
class _SLORef:
    pk: int
    name: str
    service_id: int


@dataclass
class _Lookup:
    slos: dict[str, _SLORef]
    services: dict[str, int]
    service_names: dict[int, str]
    rules: list[routing.Rule]
    # Patterns cut off at the time limit in this delivery: no match for its other alerts.
    regex_cut_off: set[str] = field(default_factory=set)


# Intake's hot path: the team's SLOs, services and rules, read in plain SQL (the ORM's
# query building was most of a delivery's CPU time).
_LOOKUP_SLOS = f"""
    SELECT slo.id, slo.name, slo.openslo_name, slo.service_id
    FROM {SLO._meta.db_table} slo JOIN {Service._meta.db_table} service
        ON service.id = slo.service_id
    WHERE service.team_id = %s AND slo.retired_at IS NULL"""
_LOOKUP_SERVICES = f"SELECT id, name, openslo_name FROM {Service._meta.db_table} WHERE team_id = %s"
_LOOKUP_RULES = f"""
    SELECT id, name, outcome, conditions, source_kind, slo_id
    FROM {RoutingRule._meta.db_table}
    WHERE team_id = %s AND enabled
    ORDER BY position, id"""


def _lookup(source: IntakeSource) -> _Lookup:
    slos: dict[str, _SLORef] = {}
    services: dict[str, int] = {}
    service_names: dict[int, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP_SLOS, [source.team_id])
        for pk, name, openslo_name, service_id in cursor.fetchall():
            slo = _SLORef(pk=pk, name=name, service_id=service_id)
            slos[str(pk)] = slo
            slos[name.casefold()] = slo
            if openslo_name:
                slos[openslo_name.casefold()] = slo
        cursor.execute(_LOOKUP_SERVICES, [source.team_id])
        for pk, name, openslo_name in cursor.fetchall():
            service_names[pk] = name
            services[name.casefold()] = pk
            if openslo_name:
                services[openslo_name.casefold()] = pk
        cursor.execute(_LOOKUP_RULES, [source.team_id])
        rules = _rules(cursor.fetchall())
    return _Lookup(slos=slos, services=services, service_names=service_names, rules=rules)


def team_rules(team_id: int) -> list[routing.Rule]:
    """The team's enabled rules in order, as pure values."""
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP_RULES, [team_id])
        return _rules(cursor.fetchall())


def _rules(rows) -> list[routing.Rule]:
    """A rule whose stored conditions no longer parse is skipped rather than failing
    every delivery."""
    rules = []
    for pk, name, outcome, conditions, source_kind, slo_id in rows:
        if isinstance(conditions, str):  # the driver may hand JSON back as text
            conditions = json.loads(conditions)
        try:
            parsed = routing.conditions_from_json(conditions)
        except ValueError:
            continue
        rules.append(
            routing.Rule(
                name=name,
                outcome=routing.Outcome(outcome),
                conditions=parsed,
                source_kind=source_kind,
                slo_id=slo_id,
                rule_id=pk,
            )
        )
    return rules


def candidate_for(item: Incoming, *, source: IntakeSource, lookup: _Lookup) -> routing.Candidate:
    slo = lookup.slos.get(item.slo_ref.casefold()) if item.slo_ref else None
    if slo is not None:
        service_id = slo.service_id
    elif item.service_ref:
        service_id = lookup.services.get(item.service_ref.casefold())
    else:
        service_id = source.service_id
    return routing.Candidate(
        source_kind=source.kind,
        fields=routing.candidate_fields(
            item.labels, title=item.title, severity=item.severity, state=str(item.state)
        ),
        severity=item.severity,
        is_error=item.is_error,
        slo_id=slo.pk if slo else None,
        service_id=service_id,
    )


def _ingest_once(
    *, request: IntakeRequest, merged: list[tuple[Incoming, int]], at: datetime
) -> IntakeOutcome:
    source = request.source
    repeated = _repeats_update(request=request, merged=merged, at=at)
    fresh = [(item, times) for item, times in merged if item.fingerprint not in repeated]
    created: list[Notification] = []
    if fresh:
        lookup = _lookup(source)
        created = [
            _new_notification(item, times, request=request, lookup=lookup, at=at)
            for item, times in fresh
        ]
        Notification.objects.bulk_create(created)
        _queue_slack(created, team=source.team, lookup=lookup, at=at)
    classes: dict[str, int] = {}
    for notification_class in [row.notification_class for row in created] + list(repeated.values()):
        classes[notification_class] = classes.get(notification_class, 0) + 1
    return IntakeOutcome(created=len(created), updated=len(repeated), classes=classes)


def _repeats_update(
    *, request: IntakeRequest, merged: list[tuple[Incoming, int]], at: datetime
) -> dict[str, str]:
    """Count a delivery of the notifications the source sent before, in one statement:
    deliveries, last seen, title and text, firing or resolved. Returns the class of
    each one updated, by fingerprint; the rest are new. Rows are taken in fingerprint
    order, so concurrent deliveries lock them in the same order."""
    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    column = {
        name: quote(Notification._meta.get_field(name).column)
        for name in (
            "count",
            "last_seen_at",
            "last_request",
            "title",
            "text",
            "state",
            "resolved_at",
            "source",
            "fingerprint",
            "notification_class",
        )
    }
    moment = connection.ops.adapt_datetimefield_value(at)
    rows = sorted(merged, key=lambda pair: pair[0].fingerprint)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params: list[object] = [moment, request.pk, moment]
    for item, times in rows:
        params += [item.fingerprint, times, item.title, item.text, str(item.state)]
    params.append(request.source_id)
    sql = f"""
        UPDATE {table} SET
            {column["count"]} = {table}.{column["count"]} + v.column2,
            {column["last_seen_at"]} = %s,
            {column["last_request"]} = %s,
            {column["title"]} = v.column3,
            {column["text"]} = v.column4,
            {column["resolved_at"]} = CASE
                WHEN v.column5 = 'resolved' AND {table}.{column["state"]} <> 'resolved' THEN %s
                WHEN v.column5 = 'firing' THEN NULL
                ELSE {table}.{column["resolved_at"]} END,
            {column["state"]} = v.column5
        FROM (VALUES {values}) AS v
        WHERE {table}.{column["source"]} = %s AND {table}.{column["fingerprint"]} = v.column1
        RETURNING {table}.{column["fingerprint"]}, {table}.{column["notification_class"]}"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _new_notification(
    item: Incoming, times: int, *, request: IntakeRequest, lookup: _Lookup, at: datetime
) -> Notification:
    source = request.source
    candidate = candidate_for(item, source=source, lookup=lookup)
    decision = routing.route(candidate, lookup.rules, cut_off=lookup.regex_cut_off)
    return Notification(
        team_id=source.team_id,
        source=source,
        fingerprint=item.fingerprint,
        title=item.title,
        text=item.text,
        url=item.url,
        severity=item.severity,
        labels=item.labels,
        service_id=candidate.service_id,
        slo_id=candidate.slo_id,
        state=item.state,
        count=times,
        first_seen_at=at,
        last_seen_at=at,
        resolved_at=at if item.state == NotificationState.RESOLVED else None,
        notification_class=NotificationClass(decision.outcome),
        rule_id=decision.rule_id,
        decided_by_rule=decision.rule_name[:120],
        reason=decision.reason,
        last_request=request,
    )


def _queue_slack(created: list[Notification], *, team, lookup: _Lookup, at: datetime) -> None:
    """The outbox, in the intake's own transaction: a new alert (or ticket, if the team
    wants each one) is queued with the notification it is about, or not at all. The
    delivery task is enqueued once both are committed; if the broker is down then, the
    beat's minutely run sends it."""
    from slos.notifications.delivery import outbox_messages_create
    from slos.tasks import deliver_outbox, task_enqueue

    slos_by_id = {slo.pk: slo.name for slo in lookup.slos.values()}
    messages = outbox_messages_create(
        created,
        team=team,
        service_names=lookup.service_names,
        slo_names=slos_by_id,
        at=at,
    )
    if messages:
        ids = [message.pk for message in messages]
        transaction.on_commit(lambda: task_enqueue(deliver_outbox, message_ids=ids), robust=True)


# --- The ticket queue --------------------------------------------------------------


def ticket_decide(*, ticket: Notification, status: str, note: str, user, at: datetime) -> None:
    """Record a member's decision on a ticket: who, when, what, and why."""
    ticket.ticket_status = status
    ticket.ticket_note = note.strip()
    ticket.ticket_decided_by = user
    ticket.ticket_decided_at = at
    ticket.save(
        update_fields=["ticket_status", "ticket_note", "ticket_decided_by", "ticket_decided_at"]
    )
