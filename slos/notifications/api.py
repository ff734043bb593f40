"""Notification intake webhooks (the rules are in slos/notifications/intake.py).

    POST /api/v1/intake/alertmanager/{token}   Alertmanager webhook_config, version 4
    POST /api/v1/intake/sentry/{token}         Sentry issue alerts, signed
    POST /api/v1/intake/generic/{token}        the generic JSON shape

The token in the URL is the source's (a team admin makes the source and sees the
token once); Alertmanager's webhook_config takes a bare URL, so the secret travels in
the path rather than a header. Sentry deliveries must also carry
`Sentry-Hook-Signature`, the hex HMAC-SHA256 of the raw body with the integration's
client secret."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from slos.models import IntakeKind, IntakeSource
from slos.notifications import intake, parsers


class IntakeProblemOut(Schema):
    detail: str


class IntakeOut(Schema):
    request: int = Field(description="The stored delivery's id.")
    notifications: int = Field(description="Distinct notifications in the delivery.")
    new: int = Field(description="Seen for the first time, and classified.")
    repeated: int = Field(description="Already known: counted, last seen and state updated.")
    classes: dict[str, int] = Field(description="Notifications per class: alert, ticket, log.")


RESPONSES = {
    200: IntakeOut,
    400: IntakeProblemOut,
    401: IntakeProblemOut,
    404: IntakeProblemOut,
    413: IntakeProblemOut,
}

router = Router(tags=["Intake"], auth=None)


def _source_or_404(token: str, kind: IntakeKind) -> IntakeSource:
    source = intake.intake_source_for_token(raw=token, kind=kind)
    if source is None:
        raise Http404(_("No such intake source."))
    return source


def _receive(request: HttpRequest, token: str, kind: IntakeKind):
    source = _source_or_404(token, kind)
    at = timezone.now()
    length = request.headers.get("Content-Length", "")
    declared = int(length) if length.isdigit() else 0
    body = b""
    if declared <= parsers.MAX_BODY_BYTES:
        try:
            body = request.body
        except RequestDataTooBig:
            declared = parsers.MAX_BODY_BYTES + 1
    else:
        body = request.read(intake.REJECTED_BODY_KEPT)
    if declared > parsers.MAX_BODY_BYTES or len(body) > parsers.MAX_BODY_BYTES:
        message = _("The body is larger than %(size)d MB.") % {
            "size": parsers.MAX_BODY_BYTES // (1024 * 1024)
        }
        return _reject(source, body, max(declared, len(body)), 413, message, at)
    if kind == IntakeKind.SENTRY and not parsers.sentry_signature_valid(
        body=body,
        secret=source.client_secret,
        signature=request.headers.get("Sentry-Hook-Signature", ""),
    ):
        message = _("The Sentry-Hook-Signature header is missing or does not match the body.")
        return _reject(source, body, len(body), 401, message, at)
    resource = request.headers.get("Sentry-Hook-Resource", "event_alert")
    if kind == IntakeKind.SENTRY and resource != "event_alert":
        message = _("Only issue alerts (Sentry-Hook-Resource: event_alert) are taken, not %(r)s.")
        return _reject(source, body, len(body), 400, message % {"r": resource[:40]}, at)
    try:
        incoming = parsers.PARSERS[kind](body)
    except parsers.IntakeProblem as problem:
        return _reject(source, body, len(body), 400, str(problem), at)
    accepted = intake.intake_accept(source=source, body=body, incoming=incoming, at=at)
    outcome = accepted.outcome
    return Status(
        200,
        {
            "request": accepted.request.pk,
            "notifications": outcome.created + outcome.updated,
            "new": outcome.created,
            "repeated": outcome.updated,
            "classes": outcome.classes,
        },
    )


def _reject(source, body: bytes, size: int, status: int, message: str, at):
    intake.intake_reject(
        source=source, body=body, body_bytes=size, http_status=status, reason=message, at=at
    )
    return Status(status, {"detail": message})


_ENDPOINTS = {
    IntakeKind.ALERTMANAGER: (
        "Receive an Alertmanager webhook",
        "Alertmanager's webhook payload, version 4. Each alert is deduplicated by its "
        "`fingerprint`; the labels `slo` (an SLO's id or OpenSLO name), `service` and "
        "`severity` (page / ticket) feed the routing policy.",
    ),
    IntakeKind.SENTRY: (
        "Receive a Sentry issue alert",
        "Sentry's issue alert webhook (`Sentry-Hook-Resource: event_alert`), signed with "
        "the integration's client secret in `Sentry-Hook-Signature`. Deduplicated by "
        "the issue id; an error is tied to the source's service or to the `service` tag.",
    ),
    IntakeKind.GENERIC: (
        "Receive generic JSON notifications",
        'One notification or `{"notifications": [...]}`: `key` and `title` required; '
        "`status` firing/resolved, `severity`, `error`, `service`, `slo`, `text`, `url`, "
        "`labels` optional. Deduplicated by `key`.",
    ),
}


def _inlined(model) -> dict[str, Any]:
    """A parser model's JSON schema with its $defs put in place: a request body schema
    inside an operation cannot point at #/$defs of its own."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": (
                f"JSON, at most {parsers.MAX_BODY_BYTES // (1024 * 1024)} MB and "
                f"{parsers.MAX_NOTIFICATIONS:,} notifications. Fields not listed are ignored."
            ),
            "content": {"application/json": {"schema": schema}},
        }
    }


_SENTRY_HEADERS = [
    {
        "in": "header",
        "name": "Sentry-Hook-Signature",
        "required": True,
        "description": (
            "Hex HMAC-SHA256 of the raw body, keyed with the integration's client secret."
        ),
        "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
    },
    {
        "in": "header",
        "name": "Sentry-Hook-Resource",
        "required": False,
        "description": "Only event_alert (issue alerts) is taken; the default.",
        "schema": {"type": "string", "enum": ["event_alert"], "default": "event_alert"},
    },
]

# What each endpoint reads, from the parsers' own models, so the schema cannot drift.
_OPENAPI = {
    IntakeKind.ALERTMANAGER: _body(_inlined(parsers.AlertmanagerPayload)),
    IntakeKind.SENTRY: {**_body(_inlined(parsers.SentryPayload)), "parameters": _SENTRY_HEADERS},
    IntakeKind.GENERIC: _body(
        {
            "oneOf": [
                _inlined(parsers.GenericNotification),
                _inlined(parsers.GenericBatch),
            ]
        }
    ),
}


def _endpoint(kind: IntakeKind):
    def receive(request: HttpRequest, token: str):
        return _receive(request, token, kind)

    receive.__name__ = f"intake_{kind}"
    return receive


# One endpoint per kind, named intake_<kind> (operation id and URL name alike).
for _kind, (_summary, _description) in _ENDPOINTS.items():
    router.post(
        f"/intake/{_kind}/{{token}}",
        response=RESPONSES,
        operation_id=f"intake_{_kind}",
        url_name=f"intake_{_kind}",
        summary=_summary,
        description=_description,
        openapi_extra=_OPENAPI[_kind],
    )(_endpoint(_kind))
