"""The push API, for teams without Prometheus: they send their SLOs' hourly counts.

    POST /api/v1/sources/{source_id}/measurements

Authenticated with the source's push token (`Authorization: Bearer rpp_…`), which a
team admin makes on the source's page; personal tokens and sessions are not accepted.
The rules live in slos/ingestion/push.py, shared with the CSV upload."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer

from portal.api_tokens import TokenRefused
from slos.ingestion.push import (
    data_error_message,
    measurements_check,
    measurements_store,
    push_targets,
    push_token_source,
)
from slos.limits import EARLIEST_HOUR, MAX_BATCH_ROWS, MAX_EVENTS_PER_HOUR
from slos.models import DataSource

EARLIEST_HOUR_TEXT = EARLIEST_HOUR.strftime("%Y-%m-%dT%H:%M:%SZ")


class SourceToken(HttpBearer):
    """The data source whose push token is presented."""

    def __call__(self, request: HttpRequest) -> DataSource | None:
        # As portal.api.BearerToken: ninja's own parsing would log the secret under DEBUG.
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> DataSource:
        source = push_token_source(raw=token)
        if source is None:
            raise TokenRefused(message=_("This push token is not valid."))
        return source


class ProblemOut(Schema):
    detail: str


class RowErrorOut(Schema):
    index: int = Field(description="Position of the measurement in the list, from 0.")
    field: str = Field(description='The field at fault; "" for the measurement as a whole.')
    message: str


class RejectedOut(Schema):
    detail: str
    errors: list[RowErrorOut] = Field(description="Every problem found, in list order.")


class DataErrorOut(Schema):
    index: int
    slo: int = Field(description="The SLO's id.")
    hour: datetime
    message: str


class PushOut(Schema):
    stored: int = Field(description="Hours stored (new or replaced).")
    data_errors: list[DataErrorOut] = Field(
        description="Stored hours with more good than valid events: kept as sent, flagged."
    )


MEASUREMENT_SCHEMA = {
    "type": "object",
    "required": ["slo", "hour", "good", "valid"],
    "additionalProperties": False,
    "properties": {
        "slo": {
            "oneOf": [{"type": "integer"}, {"type": "string"}],
            "description": "The SLO's id, or its OpenSLO name (metadata.name).",
        },
        "hour": {
            "type": "string",
            "format": "date-time",
            "description": (
                "Start of the hour, with a zone, on a UTC hour boundary; from "
                f"{EARLIEST_HOUR_TEXT} to the last complete hour."
            ),
        },
        "good": {
            "type": "number",
            "minimum": 0,
            "maximum": MAX_EVENTS_PER_HOUR,
            "description": "Good events in the hour.",
        },
        "valid": {
            "type": "number",
            "minimum": 0,
            "maximum": MAX_EVENTS_PER_HOUR,
            "description": "Valid events in the hour.",
        },
        "good_slices": {"type": "integer", "minimum": 0, "description": "Good timeslices."},
        "total_slices": {"type": "integer", "minimum": 0, "description": "Timeslices counted."},
    },
}
BODY_SCHEMA = {
    "type": "object",
    "required": ["measurements"],
    "properties": {
        "measurements": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_BATCH_ROWS,
            "items": MEASUREMENT_SCHEMA,
        }
    },
}
BODY_EXAMPLE = {
    "measurements": [
        {"slo": 12, "hour": "2026-11-01T03:00:00Z", "good": 990, "valid": 1000},
        {
            "slo": "clock-in-latency",
            "hour": "2026-11-01T03:00:00Z",
            "good": 1180,
            "valid": 1200,
            "good_slices": 11,
            "total_slices": 12,
        },
    ]
}

PUSH_DESCRIPTION = f"""
Store hourly counts for SLOs whose data source is of kind *push* (or *csv*). Send the
source's push token: `Authorization: Bearer rpp_…`, made by a team admin on the
source's page (rotating it there stops the old one at once).

Body: `{{"measurements": [...]}}`, at most {MAX_BATCH_ROWS:,} per request. Each
measurement:

- `slo` (required): the SLO's id, or its OpenSLO name; the SLO must get its data
  from this source.
- `hour` (required): ISO 8601 with a zone, the start of a UTC hour, e.g.
  `2026-11-01T03:00:00Z` or `2026-11-01T12:00:00+09:00`. Only complete hours: not the
  current hour or a later one, and none before {EARLIEST_HOUR_TEXT}.
- `good`, `valid` (required): event counts in the hour, numbers from 0 to
  {MAX_EVENTS_PER_HOUR:,}.
- `good_slices`, `total_slices` (optional; required for a Timeslices SLO): whole
  numbers, sent together, with `good_slices ≤ total_slices`.

Each (SLO, hour) may appear once per request. Sending an hour again replaces it, so a
retry is always safe. `good > valid` is stored as sent and listed in `data_errors`:
the portal flags such hours, it does not correct them.

If any measurement is invalid, **nothing is stored**: the answer is 422 with every
problem as `{{"index", "field", "message"}}` (`index` counts from 0). Other answers:
400 when the body is not a JSON object with a `measurements` list, 401 for a missing or
wrong token, 404 when the token is not this source's, 409 for a Prometheus source
(pulled, not pushed), 413 for more than {MAX_BATCH_ROWS:,} measurements.
"""

router = Router(tags=["Push"], auth=SourceToken())


@router.post(
    "/sources/{source_id}/measurements",
    response={
        200: PushOut,
        400: ProblemOut,
        401: ProblemOut,
        404: ProblemOut,
        409: ProblemOut,
        413: ProblemOut,
        422: RejectedOut,
    },
    operation_id="measurements_push",
    summary="Push hourly measurements",
    description=PUSH_DESCRIPTION,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BODY_SCHEMA, "example": BODY_EXAMPLE}},
        }
    },
)
def measurements_push(request: HttpRequest, source_id: int):
    source: DataSource = request.auth
    if source.pk != source_id:
        # Whether another source exists is not this token's business.
        raise Http404(_("No such data source."))
    if source.is_pulled:
        return Status(
            409,
            {
                "detail": _(
                    "This data source is pulled from Prometheus; it does not accept pushed "
                    "measurements. Change its kind to push to send data."
                )
            },
        )
    try:
        body = json.loads(request.body)
    except RequestDataTooBig:
        return Status(413, {"detail": _too_many()})
    except (ValueError, RecursionError):
        return Status(400, {"detail": _("The body is not valid JSON.")})
    measurements = body.get("measurements") if isinstance(body, dict) else None
    if not isinstance(measurements, list) or not measurements:
        return Status(
            400,
            {
                "detail": _('Send a JSON object with a non-empty "measurements" list.'),
            },
        )
    if len(measurements) > MAX_BATCH_ROWS:
        return Status(413, {"detail": _too_many()})
    checked = measurements_check(
        enumerate(measurements),
        slos=push_targets(source),
        now=timezone.now(),
        describe=lambda index: _("the measurement at index %(index)d") % {"index": index},
    )
    if checked.errors:
        invalid = len({error.index for error in checked.errors})
        return Status(
            422,
            {
                "detail": _(
                    "%(invalid)d of %(total)d measurements are invalid; nothing was stored."
                )
                % {"invalid": invalid, "total": len(measurements)},
                "errors": [asdict(error) for error in checked.errors],
            },
        )
    stored = measurements_store(source=source, measurements=checked.measurements, at=timezone.now())
    return Status(
        200,
        {
            "stored": stored,
            "data_errors": [
                {
                    "index": row.index,
                    "slo": row.measurement.slo_id,
                    "hour": row.measurement.hour,
                    "message": data_error_message(row.measurement),
                }
                for row in checked.data_errors
            ],
        },
    )


def _too_many() -> str:
    return _("Too many measurements: send at most %(count)s per request, in several requests.") % {
        "count": f"{MAX_BATCH_ROWS:,}"
    }
