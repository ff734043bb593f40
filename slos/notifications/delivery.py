"""Slack delivery: alerts with the team's mention, tickets without one (or in a daily
digest), logs never.

The outbox is the contract:

1. a new notification's message is queued as an OutboxMessage in the intake's own
   transaction (slos/notifications/intake.py), and the delivery task is enqueued once it is
   committed; the beat's minutely run sends whatever that missed;
2. a run claims due rows: `select_for_update(skip_locked)` where the database has it,
   then a compare-and-set on `next_attempt_at` that also pushes it past a lease, so two
   workers never post the same message and a worker that died frees its rows when the
   lease runs out;
3. every post is logged as a DeliveryAttempt; a failure (an error status, a refused
   connection, a timeout) moves `next_attempt_at` on with exponential backoff and
   jitter; after MAX_ATTEMPTS the row is failed, and kept.

Building messages (`slack_*`, `backoff_seconds`) is pure: values in, a dict out.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portal.models import Team, TicketDelivery
from slos.models import (
    DeliveryAttempt,
    Notification,
    NotificationClass,
    NotificationState,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)
from slos.notifications.webhooks import slack_webhook_refusal

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
# Longer than a post can take (the timeout), so a claimed row is not claimed again
# while its worker is still sending it.
LEASE_SECONDS = 120
SEND_TIMEOUT_SECONDS = 10
CLAIM_BATCH = 50
DIGEST_LOCAL_HOUR = 9
DIGEST_MAX_ITEMS = 30


# --- Pure: messages and backoff ----------------------------------------------------


@dataclass(frozen=True)
class SlackNotice:
    title: str
    text: str = ""
    url: str = ""
    severity: str = ""
    service: str = ""
    slo: str = ""
    resolved: bool = False


def backoff_seconds(attempts: int, *, jitter: float) -> float:
    """Seconds to wait after the `attempts`-th failure: 30 s doubling up to an hour,
    stretched by up to a quarter (`jitter` in [0, 1)) so failed rows do not all come
    back in the same second."""
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return delay * (1 + 0.25 * jitter)


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters; a title cannot smuggle in a <!channel>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title_line(notice: SlackNotice) -> str:
    title = slack_escape(notice.title)
    if notice.url:
        return f"<{notice.url}|{title}>"
    return title


def _context(notice: SlackNotice) -> str:
    parts = [
        part
        for part in (
            notice.service and _("service: %(name)s") % {"name": notice.service},
            notice.slo and _("SLO: %(name)s") % {"name": notice.slo},
            notice.severity and _("severity: %(severity)s") % {"severity": notice.severity},
        )
        if part
    ]
    return slack_escape(" · ".join(parts))


def slack_message(notice: SlackNotice, *, kind: str, mention: str = "") -> dict:
    """One alert or ticket as an incoming-webhook body. Only alerts carry the mention."""
    if kind == OutboxKind.ALERT:
        state = _("Resolved") if notice.resolved else _("Alert")
        head = f"{mention} " if mention else ""
        line = f"{head}:rotating_light: *{state}:* {_title_line(notice)}"
    else:
        line = f":ticket: *{_('Ticket')}:* {_title_line(notice)}"
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]
    if notice.text:
        text = slack_escape(notice.text[:2900])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    context = _context(notice)
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": line, "blocks": blocks}


def slack_digest(*, team_name: str, day: date, tickets: Sequence[SlackNotice]) -> dict:
    """The day's new tickets in one message, without a mention."""
    head = _(":ticket: *%(count)d new tickets for %(team)s* (%(day)s)") % {
        "count": len(tickets),
        "team": slack_escape(team_name),
        "day": date_format(day, "DATE_FORMAT"),
    }
    lines = [f"• {_title_line(ticket)}" for ticket in tickets[:DIGEST_MAX_ITEMS]]
    if len(tickets) > DIGEST_MAX_ITEMS:
        lines.append(_("…and %(more)d more.") % {"more": len(tickets) - DIGEST_MAX_ITEMS})
    return {
        "text": head,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": head}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        ],
    }


# Slack's limits on an incoming-webhook message: a section block's text, the blocks in
# one message (https://api.slack.com/reference/block-kit/blocks).
SLACK_SECTION_MAX = 3000
SLACK_BLOCKS_MAX = 50
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_MD_TABLE_RULE = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def _mrkdwn_inline(text: str) -> str:
    """One Markdown line's inline marks as Slack's: **bold** → *bold*, [text](url) →
    <url|text>; Slack's control characters escaped first, so text cannot mention."""
    text = slack_escape(text.replace("\\|", "|"))
    text = _MD_LINK.sub(lambda match: f"<{match.group(2)}|{match.group(1)}>", text)
    return _MD_BOLD.sub(r"*\1*", text)


def _table_rows(lines: Sequence[str]) -> list[str]:
    """A Markdown table as aligned monospace rows (Slack has no tables)."""
    rows = [
        [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        for line in lines
        if not _MD_TABLE_RULE.match(line.strip())
    ]
    columns = max(len(row) for row in rows)
    rows = [row + [""] * (columns - len(row)) for row in rows]
    widths = [max(len(row[column]) for row in rows) for column in range(columns)]
    return [
        slack_escape(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        for row in rows
    ]


def _mrkdwn_units(markdown: str) -> list[tuple[bool, list[str]]]:
    """Markdown as Slack mrkdwn, in units that are not split apart: (is code, lines)."""
    units: list[tuple[bool, list[str]]] = []
    table: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        if table:
            units.append((True, _table_rows(table)))
            table = []
        heading = _MD_HEADING.match(line)
        if heading:
            units.append((False, [f"*{_mrkdwn_inline(heading.group(1))}*"]))
        elif line.startswith("- "):
            units.append((False, [f"• {_mrkdwn_inline(line[2:])}"]))
        elif line.strip():
            units.append((False, [_mrkdwn_inline(line)]))
        else:
            units.append((False, [""]))
    return units


def _cut(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


def slack_mrkdwn_sections(markdown: str, *, limit: int = SLACK_SECTION_MAX) -> list[str]:
    """Markdown as Slack mrkdwn texts of at most `limit` characters each, split between
    lines (a table is a code block, split between its rows if it must be)."""
    code_room = limit - len("```\n\n```")
    pieces: list[str] = []
    for is_code, lines in _mrkdwn_units(markdown):
        if not is_code:
            pieces.append(_cut(lines[0], limit))
            continue
        chunk: list[str] = []
        for row in (_cut(row, code_room) for row in lines):
            if chunk and len("\n".join([*chunk, row])) > code_room:
                pieces.append("```\n" + "\n".join(chunk) + "\n```")
                chunk = []
            chunk.append(row)
        if chunk:
            pieces.append("```\n" + "\n".join(chunk) + "\n```")
    texts: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n{piece}" if current else piece
        if len(joined) > limit:
            texts.append(current)
            current = piece
        else:
            current = joined
    if current.strip():
        texts.append(current)
    return [text.strip("\n") for text in texts if text.strip()]


def slack_summary(markdown: str) -> dict:
    """A Markdown document (a retro's summary) as an incoming-webhook body: its first
    line is the notification text, the whole is section blocks within Slack's limits;
    what does not fit is cut, and the message says so."""
    sections = slack_mrkdwn_sections(markdown)
    if len(sections) > SLACK_BLOCKS_MAX:
        sections = [*sections[: SLACK_BLOCKS_MAX - 1], "_" + _("The rest was cut.") + "_"]
    first_line = next((line for line in markdown.splitlines() if line.strip()), "")
    heading = _MD_HEADING.match(first_line)
    head = _cut(_mrkdwn_inline(heading.group(1) if heading else first_line), SLACK_SECTION_MAX)
    return {
        "text": head,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in sections
        ],
    }


def notice_for(notification: Notification, *, service: str, slo: str) -> SlackNotice:
    """`service` and `slo` are the names to show, "" for none."""
    return SlackNotice(
        title=notification.title,
        text=notification.text,
        url=notification.url,
        severity=notification.severity,
        service=service,
        slo=slo,
        resolved=notification.state == NotificationState.RESOLVED,
    )


# --- Queuing ----------------------------------------------------------------------


def outbox_kind_for(notification: Notification, team: Team) -> str | None:
    """The Slack message a new notification calls for, if any: alerts always, tickets
    when the team wants each one, logs never; nothing without a webhook."""
    if not team.slack_webhook_url:
        return None
    if notification.notification_class == NotificationClass.ALERT:
        return OutboxKind.ALERT
    if (
        notification.notification_class == NotificationClass.TICKET
        and team.ticket_delivery == TicketDelivery.EACH
    ):
        return OutboxKind.TICKET
    return None


def outbox_messages_create(
    notifications: Sequence[Notification],
    *,
    team: Team,
    service_names: dict[int, str],
    slo_names: dict[int, str],
    at: datetime,
) -> list[OutboxMessage]:
    """Queue, in the caller's transaction and in one query, the messages that new
    notifications (saved, of `team`) call for."""
    messages = []
    for notification in notifications:
        kind = outbox_kind_for(notification, team)
        if kind is None:
            continue
        notice = notice_for(
            notification,
            service=service_names.get(notification.service_id, ""),
            slo=slo_names.get(notification.slo_id, ""),
        )
        messages.append(
            OutboxMessage(
                team=team,
                notification=notification,
                kind=kind,
                key=f"notification:{notification.pk}",
                payload=slack_message(notice, kind=kind, mention=team.slack_mention),
                next_attempt_at=at,
                created_at=at,
            )
        )
    return OutboxMessage.objects.bulk_create(messages)


def _outbox_create(*, team: Team, notification, kind: str, key: str, payload: dict, at):
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                team=team,
                notification=notification,
                kind=kind,
                key=key,
                payload=payload,
                next_attempt_at=at,
                created_at=at,
            )
    except IntegrityError:
        return None


def ticket_digest_enqueue(*, team: Team, at: datetime) -> OutboxMessage | None:
    """Queue the team's digest for its local day, once: the tickets first seen since
    the previous digest (or in the last day, for the first one)."""
    local_day = at.astimezone(ZoneInfo(team.time_zone)).date()
    key = f"digest:{team.pk}:{local_day.isoformat()}"
    if OutboxMessage.objects.filter(key=key).exists():
        return None
    previous = (
        OutboxMessage.objects.filter(team=team, kind=OutboxKind.DIGEST)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    since = previous or at - timedelta(days=1)
    tickets = list(
        Notification.objects.tickets()
        .filter(team=team, first_seen_at__gte=since, first_seen_at__lt=at)
        .select_related("service", "slo")
        .order_by("first_seen_at", "pk")
    )
    if not tickets:
        return None
    notices = [
        notice_for(
            ticket,
            service=ticket.service.name if ticket.service else "",
            slo=ticket.slo.name if ticket.slo else "",
        )
        for ticket in tickets
    ]
    payload = slack_digest(team_name=team.name, day=local_day, tickets=notices)
    return _outbox_create(
        team=team, notification=None, kind=OutboxKind.DIGEST, key=key, payload=payload, at=at
    )


def summary_enqueue(*, team: Team, key: str, text: str, at: datetime) -> OutboxMessage | None:
    """Queue a Markdown summary (a retro's) for the team's Slack channel, in the caller's
    transaction, once per `key`; the delivery task is enqueued after commit (the beat's
    minutely run sends it if that is missed). None when the team has no webhook or the
    key was queued already."""
    if not team.slack_webhook_url:
        return None
    message = _outbox_create(
        team=team,
        notification=None,
        kind=OutboxKind.SUMMARY,
        key=key,
        payload=slack_summary(text),
        at=at,
    )
    if message is not None:
        from slos.tasks import deliver_outbox, task_enqueue

        ids = [message.pk]
        transaction.on_commit(lambda: task_enqueue(deliver_outbox, message_ids=ids), robust=True)
    return message


def ticket_digests_enqueue(*, at: datetime) -> list[int]:
    """Every team that wants a digest and whose local morning has come gets today's."""
    queued = []
    teams = Team.objects.filter(ticket_delivery=TicketDelivery.DIGEST).exclude(slack_webhook_url="")
    for team in teams:
        if at.astimezone(ZoneInfo(team.time_zone)).hour < DIGEST_LOCAL_HOUR:
            continue
        message = ticket_digest_enqueue(team=team, at=at)
        if message is not None:
            queued.append(message.pk)
    return queued


# --- Claiming and sending ---------------------------------------------------------


def outbox_claim(*, message_id: int, seen_next_attempt_at: datetime, at: datetime) -> bool:
    """Compare-and-set: the row is ours only if nobody moved it since we read it."""
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxStatus.PENDING, next_attempt_at=seen_next_attempt_at
    ).update(
        next_attempt_at=at + timedelta(seconds=LEASE_SECONDS),
        attempts=F("attempts") + 1,
    )
    return claimed == 1


def outbox_claim_due(
    *, at: datetime, limit: int = CLAIM_BATCH, only_ids: Iterable[int] | None = None
) -> list[int]:
    with transaction.atomic():
        due = OutboxMessage.objects.due(at).select_for_update(skip_locked=True)
        if only_ids is not None:
            due = due.filter(pk__in=list(only_ids))
        candidates = list(
            due.order_by("next_attempt_at", "pk").values_list("pk", "next_attempt_at")[:limit]
        )
        return [
            pk
            for pk, seen in candidates
            if outbox_claim(message_id=pk, seen_next_attempt_at=seen, at=at)
        ]


@dataclass(frozen=True)
class PostResult:
    ok: bool
    http_status: int | None = None
    error: str = ""
    final: bool = False  # no later attempt can succeed as things stand: give up now


def http_error_text(status: int) -> str:
    """Our words for an error status a webhook answered. What the server wrote with it is
    neither kept nor shown: it is a foreign server's text (a relay's, or before the
    allowlist any internal address's), and the failed-deliveries page is read by every
    member. Slack's webhook errors are told apart by their status, so an admin still
    learns what to fix."""
    if status == 400:
        reason = _("the message or its channel was refused")
    elif status in {401, 403}:
        reason = _("the webhook's token is invalid, or posting is not allowed")
    elif status == 404:
        reason = _("no such webhook: it was removed, or the URL is wrong")
    elif status == 410:
        reason = _("the channel is archived")
    elif status == 429:
        reason = _("too many messages: rate limited")
    elif 500 <= status < 600:
        reason = _("a server error on the other side")
    else:
        reason = _("an unexpected answer")
    return _("The webhook answered HTTP %(status)d: %(reason)s.") % {
        "status": status,
        "reason": reason,
    }


def transport_error_text(exc: httpx.HTTPError) -> str:
    """Our words for a post that got no answer; an exception's own text can quote what
    the server sent (a protocol error), so only its kind is named."""
    if isinstance(exc, httpx.TimeoutException):
        return _("No answer within %(seconds)d s.") % {"seconds": SEND_TIMEOUT_SECONDS}
    if isinstance(exc, httpx.ConnectError):
        return _("Could not connect to the webhook's host.")
    return _("The connection failed (%(kind)s).") % {"kind": type(exc).__name__}


_KEPT_HTTP_ERROR = re.compile(r"^HTTP (\d{3}): ")


def error_shown(error: str) -> str:
    """A stored error as the failed-deliveries page shows it. Errors kept before the
    remote body was dropped ("HTTP 500: <body>") are shown in today's words, without it."""
    kept = _KEPT_HTTP_ERROR.match(error)
    return http_error_text(int(kept.group(1))) if kept else error


def slack_post(*, url: str, payload: dict, timeout: float = SEND_TIMEOUT_SECONDS) -> PostResult:
    refusal = slack_webhook_refusal(url)
    if refusal is not None:
        # A URL stored before the allowlist (or through the Django admin): never requested.
        return PostResult(
            ok=False, error=_("Not sent: %(reason)s") % {"reason": refusal}, final=True
        )
    try:
        response = httpx.post(url, json=payload, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        return PostResult(ok=False, error=transport_error_text(exc))
    if 200 <= response.status_code < 300:
        return PostResult(ok=True, http_status=response.status_code)
    return PostResult(
        ok=False,
        http_status=response.status_code,
        error=http_error_text(response.status_code),
    )


@dataclass(frozen=True)
class DeliveryRun:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def outbox_deliver(
    *, at: datetime, only_ids: Iterable[int] | None = None, limit: int = CLAIM_BATCH
) -> DeliveryRun:
    """Send what is due. The claim is committed before any post, so no lock is held
    while Slack answers."""
    sent = retrying = failed = 0
    for message_id in outbox_claim_due(at=at, limit=limit, only_ids=only_ids):
        status = _deliver_claimed(message_id=message_id, at=at)
        sent += status == OutboxStatus.SENT
        failed += status == OutboxStatus.FAILED
        retrying += status == OutboxStatus.PENDING
    return DeliveryRun(sent=sent, retrying=retrying, failed=failed)


def _deliver_claimed(*, message_id: int, at: datetime) -> str:
    message = OutboxMessage.objects.select_related("team").get(pk=message_id)
    url = message.team.slack_webhook_url
    started = time.monotonic()
    if url:
        result = slack_post(url=url, payload=message.payload)
    else:
        result = PostResult(ok=False, error=_("The team has no Slack webhook URL."))
    DeliveryAttempt.objects.create(
        message=message,
        attempted_at=at,
        ok=result.ok,
        http_status=result.http_status,
        error=result.error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    mine = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.PENDING)
    if result.ok:
        mine.update(status=OutboxStatus.SENT, sent_at=at, last_error="")
        return OutboxStatus.SENT
    if result.final or message.attempts >= MAX_ATTEMPTS:
        mine.update(status=OutboxStatus.FAILED, last_error=result.error)
        return OutboxStatus.FAILED
    wait = backoff_seconds(message.attempts, jitter=random.random())
    mine.update(next_attempt_at=at + timedelta(seconds=wait), last_error=result.error)
    return OutboxStatus.PENDING


# --- Troubled messages: what the team sees, and a retry by hand ---------------------

TROUBLED_SHOWN = 200


def outbox_troubled(*, team_id: int, limit: int = TROUBLED_SHOWN) -> QuerySet[OutboxMessage]:
    """The team's messages whose posts failed: given up on, or waiting for their next
    attempt; newest first. `tried` counts the attempts logged, so a row whose claim is
    ahead of its log is one being sent right now. One query, whatever the rows."""
    return (
        OutboxMessage.objects.filter(team_id=team_id)
        .filter(
            Q(status=OutboxStatus.FAILED) | (Q(status=OutboxStatus.PENDING) & ~Q(last_error=""))
        )
        .select_related("notification")
        .annotate(tried=Count("delivery_attempts"))
        .order_by("-created_at", "-pk")[:limit]
    )


def outbox_being_sent(
    *, attempts: int, tried: int, next_attempt_at: datetime, at: datetime
) -> bool:
    """Whether a pending message is claimed and its post under way: the claim counted an
    attempt not yet logged, and its lease has not run out (a worker that died frees the
    row when it does)."""
    return attempts > tried and at < next_attempt_at <= at + timedelta(seconds=LEASE_SECONDS)


def outbox_retry_now(*, message_id: int, team_id: int, at: datetime) -> bool:
    """Make a failing or failed message due at `at`; the caller enqueues the delivery
    task once this commits. A failed message gets one more attempt (its count goes on),
    and is failed again if that one fails too.

    A message being sent right now is left alone, so a retry never posts twice: its
    claim is ahead of its logged attempts and its lease has not run out, or its last
    attempt succeeded and the worker has yet to mark it sent. The update is a
    compare-and-set on what was read, as a claim is: if a worker claims the row in
    between, the retry does nothing. False when nothing was changed."""
    row = (
        OutboxMessage.objects.filter(
            pk=message_id, team_id=team_id, status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED]
        )
        .annotate(tried=Count("delivery_attempts"))
        .values("status", "attempts", "next_attempt_at", "tried")
        .first()
    )
    if row is None:
        return False
    if row["status"] == OutboxStatus.PENDING:
        if outbox_being_sent(
            attempts=row["attempts"],
            tried=row["tried"],
            next_attempt_at=row["next_attempt_at"],
            at=at,
        ):
            return False
        last_ok = (
            DeliveryAttempt.objects.filter(message_id=message_id)
            .order_by("-pk")
            .values_list("ok", flat=True)
            .first()
        )
        if last_ok:
            return False
    updated = OutboxMessage.objects.filter(
        pk=message_id,
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
    ).update(status=OutboxStatus.PENDING, next_attempt_at=at)
    return updated == 1
