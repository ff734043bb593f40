"""Reading what notification sources send: Alertmanager's webhook, Sentry's issue alert
and the generic JSON shape (see slos/notifications/intake.py). Pure: bytes in,
Incoming values out, or IntakeProblem; no ORM."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from slos.limits import CONTROL_CHARACTERS

MAX_BODY_BYTES = 1024 * 1024
MAX_NOTIFICATIONS = 1000


class IntakeProblem(ValueError):
    """A body the portal cannot read; the message is for the sender's owner."""


@dataclass(frozen=True)
class Incoming:
    """One notification as a source sent it, before it meets the database."""

    fingerprint: str
    title: str
    state: str  # "firing" or "resolved", as NotificationState stores it
    severity: str = ""
    text: str = ""
    url: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    is_error: bool = False
    slo_ref: str = ""
    service_ref: str = ""


def without_controls(value: Any) -> Any:
    """Strings (and the keys and values of mappings and lists, all the way down) with
    their control characters (slos/limits.py) removed; anything else as it is. NUL in
    particular: a JSON "\u0000" in a label or title is valid JSON, but PostgreSQL stores
    no NUL in text, so such a delivery failed with a 500 on every retry and was never
    stored. Stripped rather than refused, so a sender's alert is never lost."""
    if isinstance(value, str):
        return CONTROL_CHARACTERS.sub("", value)
    if isinstance(value, dict):
        return {without_controls(key): without_controls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_controls(item) for item in value]
    return value


def stored_text(body: bytes) -> str:
    """A body as text that any database stores: invalid UTF-8 and NUL bytes become
    U+FFFD, so whoever debugs the sender still sees where they were."""
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        return without_controls(value)


class AlertmanagerAlert(_Lenient):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: str = ""  # noqa: N815 - Alertmanager's own field names
    endsAt: str = ""  # noqa: N815
    generatorURL: str = ""  # noqa: N815
    fingerprint: str = Field(min_length=1, max_length=200)


class AlertmanagerPayload(_Lenient):
    """Alertmanager's webhook, version 4."""

    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""  # noqa: N815
    commonLabels: dict[str, str] = {}  # noqa: N815
    externalURL: str = ""  # noqa: N815
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=MAX_NOTIFICATIONS)


class SentryEvent(_Lenient):
    issue_id: str = Field(min_length=1, max_length=200)
    title: str = ""
    message: str = ""
    culprit: str = ""
    level: str = ""
    environment: str = ""
    web_url: str = ""
    issue_url: str = ""
    tags: list[list[Any]] = []

    @field_validator("issue_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class SentryData(_Lenient):
    event: SentryEvent
    triggered_rule: str = ""


class SentryPayload(_Lenient):
    """Sentry's issue alert webhook (Sentry-Hook-Resource: event_alert)."""

    action: str
    data: SentryData


class GenericNotification(_Lenient):
    key: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    status: Literal["firing", "resolved"] = "firing"
    severity: str = Field(default="", max_length=40)
    error: bool = False
    service: str = ""
    slo: str | int | None = None
    text: str = ""
    url: str = ""
    labels: dict[str, str] = {}


class GenericBatch(_Lenient):
    notifications: list[GenericNotification] = Field(min_length=1, max_length=MAX_NOTIFICATIONS)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise IntakeProblem(_("The body is not valid JSON.")) from None


def _problem(exc: ValidationError) -> IntakeProblem:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or _("the body")
    return IntakeProblem(
        _("The body does not have the expected shape: %(where)s: %(message)s")
        % {"where": where, "message": first["msg"]}
    )


def parse_alertmanager(body: bytes) -> list[Incoming]:
    try:
        payload = AlertmanagerPayload.model_validate(_json(body))
    except ValidationError as exc:
        raise _problem(exc) from None
    incoming = []
    for alert in payload.alerts:
        labels = {**payload.commonLabels, **alert.labels}
        title = (
            alert.annotations.get("summary")
            or labels.get("alertname")
            or _("Alert %(fingerprint)s") % {"fingerprint": alert.fingerprint}
        )
        incoming.append(
            Incoming(
                fingerprint=alert.fingerprint,
                title=title[:300],
                state=alert.status,
                severity=labels.get("severity", "")[:40],
                text=alert.annotations.get("description", ""),
                url=_http_url(alert.generatorURL),
                labels=labels,
                is_error=False,
                slo_ref=labels.get("slo", ""),
                service_ref=labels.get("service", ""),
            )
        )
    return incoming


def parse_sentry(body: bytes) -> list[Incoming]:
    try:
        payload = SentryPayload.model_validate(_json(body))
    except ValidationError as exc:
        raise _problem(exc) from None
    event = payload.data.event
    tags = {
        str(pair[0]): str(pair[1])
        for pair in event.tags
        if len(pair) == 2 and pair[0] is not None and pair[1] is not None
    }
    labels = {**tags, "culprit": event.culprit, "rule": payload.data.triggered_rule}
    if event.environment:
        labels.setdefault("environment", event.environment)
    level = event.level or tags.get("level", "error")
    labels.setdefault("level", level)
    title = event.title or event.message or _("Sentry issue %(id)s") % {"id": event.issue_id}
    return [
        Incoming(
            fingerprint=event.issue_id,
            title=title[:300],
            state="firing",
            severity=level[:40],
            text=event.culprit,
            url=_http_url(event.web_url),
            labels=labels,
            is_error=level.lower() in {"error", "fatal"},
            service_ref=tags.get("service", ""),
        )
    ]


def parse_generic(body: bytes) -> list[Incoming]:
    raw = _json(body)
    try:
        if isinstance(raw, dict) and "notifications" in raw:
            items = GenericBatch.model_validate(raw).notifications
        else:
            items = [GenericNotification.model_validate(raw)]
    except ValidationError as exc:
        raise _problem(exc) from None
    return [
        Incoming(
            fingerprint=item.key,
            title=item.title,
            state=item.status,
            severity=item.severity,
            text=item.text,
            url=_http_url(item.url),
            labels=dict(item.labels),
            is_error=item.error,
            slo_ref="" if item.slo is None else str(item.slo),
            service_ref=item.service,
        )
        for item in items
    ]


PARSERS = {
    # Keyed by IntakeKind's values.
    "alertmanager": parse_alertmanager,
    "sentry": parse_sentry,
    "generic": parse_generic,
}


def _http_url(value: str) -> str:
    return value[:1000] if value.startswith(("https://", "http://")) else ""


def sentry_signature_valid(*, body: bytes, secret: str, signature: str) -> bool:
    """Sentry-Hook-Signature: the hex HMAC-SHA256 of the raw body, keyed with the
    integration's client secret."""
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def merge_repeats(incoming: Sequence[Incoming]) -> list[tuple[Incoming, int]]:
    """One entry per fingerprint, the last delivery's content, with how many times the
    fingerprint appeared in this body (Alertmanager may list an alert twice)."""
    merged: dict[str, tuple[Incoming, int]] = {}
    for item in incoming:
        seen = merged.get(item.fingerprint)
        merged[item.fingerprint] = (item, 1 if seen is None else seen[1] + 1)
    return list(merged.values())
