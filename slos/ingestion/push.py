"""Hourly counts a team sends itself, for sources without Prometheus: the push API
(slos/ingestion/api.py) and the CSV upload (slos/ingestion/csv_views.py) read their
input differently but check every row with one function, measurements_check, and write
with one service, measurements_store.

The rules, as the API documents them: the SLO must get its data from the source; the
hour is an aware time on a UTC hour boundary, from 2000 on, and complete (not the
current hour or a later one); good and valid are finite counts ≥ 0; slices are whole numbers with
good_slices ≤ total_slices (a Timeslices SLO needs them); a (SLO, hour) appears once
per batch. good > valid is accepted and stored as sent: it is a data error the budget
engine flags, and the sender is told, but nothing is silently corrected. If any row is
invalid, the whole batch is refused and nothing is written. Every bound (the earliest
hour, the largest count, the batch and file sizes) is defined in slos/limits.py.

Checking is pure (the SLOs and the clock come in as arguments); only push_targets,
hours_already_stored, measurements_store and the token functions touch the database."""

from __future__ import annotations

import csv
import io
import math
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils.translation import gettext as _

from portal.api_tokens import token_digest
from portal.formatting import count_text
from slos.budget import align_to_hour
from slos.ingestion.planning import Row
from slos.ingestion.storing import store_rows
from slos.limits import (
    EARLIEST_HOUR,
    MAX_BATCH_ROWS,
    MAX_CSV_BYTES,
    MAX_CSV_ROWS,
    MAX_EVENTS_PER_HOUR,
    hour_not_over,
    hour_too_early,
)
from slos.models import SLO, DataSource, HourlyBucket, PullStatus

__all__ = ["MAX_BATCH_ROWS", "MAX_CSV_BYTES", "MAX_CSV_ROWS"]  # the bounds, from slos.limits

REQUIRED_FIELDS = ("slo", "hour", "good", "valid")
SLICE_FIELDS = ("good_slices", "total_slices")
FIELDS = REQUIRED_FIELDS + SLICE_FIELDS
# An Occurrences SLO has no slice length of its own: bound its slices by the finest
# slice the portal knows (1 minute), which also keeps them inside the integer column.
MAX_SLICES_PER_HOUR = 60

PUSH_TOKEN_SCHEME = "rpp_"
PUSH_TOKEN_PREFIX_LENGTH = len(PUSH_TOKEN_SCHEME) + 8

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
WHOLE_NUMBER = re.compile(r"[+-]?\d+")


# The SLOs a batch may name.


@dataclass(frozen=True)
class PushTarget:
    """What the rules need to know of one SLO fed by the source."""

    pk: int
    name: str
    service_name: str
    openslo_name: str
    uses_timeslices: bool
    timeslice_minutes: int

    @property
    def slices_per_hour(self) -> int:
        if self.uses_timeslices:
            return 60 // self.timeslice_minutes
        return MAX_SLICES_PER_HOUR


class SLOIndex:
    """The source's SLOs, found by id or by OpenSLO name (which is unique per service,
    not per source: a name two SLOs share must be sent as an id)."""

    def __init__(self, targets: Iterable[PushTarget]) -> None:
        self.by_pk = {target.pk: target for target in targets}
        self.by_name: dict[str, list[PushTarget]] = defaultdict(list)
        for target in self.by_pk.values():
            if target.openslo_name:
                self.by_name[target.openslo_name].append(target)

    def __getitem__(self, pk: int) -> PushTarget:
        return self.by_pk[pk]

    def resolve(self, value: object) -> PushTarget:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _Invalid(_("Give the SLO's id or its OpenSLO name."))
        key = str(value).strip()
        # An id has at most 19 digits; longer text is no id (and int() refuses 4,300+).
        if len(key) < 20 and WHOLE_NUMBER.fullmatch(key) and int(key) in self.by_pk:
            return self.by_pk[int(key)]
        named = self.by_name.get(key, [])
        if len(named) > 1:
            raise _Invalid(
                _("Several SLOs of this source are named “%(name)s”; send the SLO's id instead.")
                % {"name": key}
            )
        if not named:
            raise _Invalid(
                _("No SLO with the id or OpenSLO name “%(value)s” gets its data from this source.")
                % {"value": _shown(key)}
            )
        return named[0]


def push_targets(source: DataSource) -> SLOIndex:
    rows = SLO.objects.filter(data_source=source).values_list(
        "pk", "name", "service__name", "openslo_name", "budgeting_method", "timeslice_minutes"
    )
    return SLOIndex(
        PushTarget(pk, name, service, openslo, method == "timeslices", minutes)
        for pk, name, service, openslo, method, minutes in rows
    )


# Checking rows: one function for the API and the CSV upload.


@dataclass(frozen=True)
class Measurement:
    slo_id: int
    hour: datetime
    good: float
    valid: float
    good_slices: int = 0
    total_slices: int = 0

    @property
    def is_data_error(self) -> bool:
        return self.good > self.valid


@dataclass(frozen=True)
class RowError:
    """`index` is where the sender will look: the position in the API's list (from 0),
    or the CSV line (the header is line 1). `field` is empty for the row as a whole."""

    index: int
    field: str
    message: str


@dataclass(frozen=True)
class CheckedRow:
    index: int
    measurement: Measurement


@dataclass(frozen=True)
class CheckedBatch:
    rows: tuple[CheckedRow, ...]
    errors: tuple[RowError, ...]

    @property
    def measurements(self) -> list[Measurement]:
        return [row.measurement for row in self.rows]

    @property
    def data_errors(self) -> list[CheckedRow]:
        return [row for row in self.rows if row.measurement.is_data_error]


def data_error_message(measurement: Measurement) -> str:
    return _(
        "good (%(good)s) is more than valid (%(valid)s): stored as sent and flagged "
        "as a data error."
    ) % {"good": count_text(measurement.good), "valid": count_text(measurement.valid)}


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _event_count(value: object) -> float:
    if isinstance(value, bool):
        raise _Invalid(_("Give a number, not true or false."))
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and NUMBER.fullmatch(value.strip()):
            number = float(value.strip())
        else:
            raise _Invalid(_("“%(value)s” is not a number.") % {"value": _shown(value)})
    except OverflowError:
        raise _Invalid(_("This number is too large.")) from None
    if not math.isfinite(number):
        raise _Invalid(_("Give a finite number."))
    if number < 0:
        raise _Invalid(_("A count cannot be negative."))
    if number > MAX_EVENTS_PER_HOUR:
        raise _Invalid(
            _("At most %(max)s events fit in one hour of an SLO.")
            % {"max": f"{MAX_EVENTS_PER_HOUR:,}"}
        )
    return number


def _slice_count(value: object) -> int:
    if isinstance(value, bool):
        raise _Invalid(_("Give a whole number, not true or false."))
    try:
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip()):
            number = int(value.strip())
        else:
            raise _Invalid(
                _("“%(value)s” is not a whole number of slices.") % {"value": _shown(value)}
            )
    except ValueError:  # more digits than Python converts
        raise _Invalid(_("This number is too large.")) from None
    if number < 0:
        raise _Invalid(_("A count cannot be negative."))
    return number


def _complete_hour(value: object, *, now: datetime) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(_("Give the hour as ISO 8601 text, like 2026-11-01T03:00:00Z."))
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Invalid(
            _("“%(value)s” is not an ISO 8601 time; write it like 2026-11-01T03:00:00Z.")
            % {"value": _shown(text)}
        ) from None
    if moment.tzinfo is None:
        raise _Invalid(
            _(
                "“%(value)s” has no time zone; add one, like 2026-11-01T03:00:00Z "
                "or 2026-11-01T12:00:00+09:00."
            )
            % {"value": _shown(text)}
        )
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise _Invalid(_("“%(value)s” is out of range.") % {"value": _shown(text)}) from None
    start = align_to_hour(moment)
    if moment != start:
        raise _Invalid(
            _(
                "“%(value)s” is not the start of an hour (UTC); give the hour's start, "
                "like %(start)s."
            )
            % {"value": _shown(text), "start": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
    if hour_too_early(moment):
        raise _Invalid(
            _("“%(value)s” is before %(earliest)s; the portal takes no earlier hours.")
            % {"value": _shown(text), "earliest": EARLIEST_HOUR.strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
    if hour_not_over(moment, now=now):
        raise _Invalid(
            _("The hour starting %(hour)s is not over yet; send only complete hours.")
            % {"hour": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
    return moment


def _check_row(
    index: int, row: object, *, slos: SLOIndex, now: datetime
) -> tuple[Measurement | None, list[RowError]]:
    if not isinstance(row, Mapping):
        message = _("A measurement is an object with the fields slo, hour, good and valid.")
        return None, [RowError(index, "", message)]
    errors: list[RowError] = []
    values: dict[str, object] = {}
    for field in row:
        if field not in FIELDS:
            errors.append(
                RowError(
                    index,
                    _shown(field),
                    _("Unknown field; the fields are %(fields)s.") % {"fields": ", ".join(FIELDS)},
                )
            )

    def read(field: str, parse: Callable[[object], object]) -> None:
        value = row.get(field)
        if _is_missing(value):
            if field in REQUIRED_FIELDS:
                errors.append(RowError(index, field, _("This field is required.")))
            return
        try:
            values[field] = parse(value)
        except _Invalid as problem:
            errors.append(RowError(index, field, problem.message))

    read("slo", slos.resolve)
    read("hour", lambda value: _complete_hour(value, now=now))
    read("good", _event_count)
    read("valid", _event_count)
    read("good_slices", _slice_count)
    read("total_slices", _slice_count)

    target = values.get("slo")
    given = [field for field in SLICE_FIELDS if not _is_missing(row.get(field))]
    if len(given) == 1:
        (absent,) = set(SLICE_FIELDS) - set(given)
        errors.append(RowError(index, absent, _("Give good_slices and total_slices together.")))
    elif not given and isinstance(target, PushTarget) and target.uses_timeslices:
        errors.append(
            RowError(
                index,
                "total_slices",
                _("This SLO counts timeslices: give good_slices and total_slices."),
            )
        )
    good_slices, total_slices = values.get("good_slices"), values.get("total_slices")
    if isinstance(good_slices, int) and isinstance(total_slices, int):
        if good_slices > total_slices:
            errors.append(
                RowError(index, "good_slices", _("good_slices is more than total_slices."))
            )
        if isinstance(target, PushTarget) and total_slices > target.slices_per_hour:
            errors.append(
                RowError(
                    index,
                    "total_slices",
                    _("At most %(count)d slices fit in one hour of this SLO.")
                    % {"count": target.slices_per_hour},
                )
            )
    if errors:
        return None, errors
    return (
        Measurement(
            slo_id=target.pk,
            hour=values["hour"],
            good=values["good"],
            valid=values["valid"],
            good_slices=values.get("good_slices", 0),
            total_slices=values.get("total_slices", 0),
        ),
        [],
    )


def measurements_check(
    rows: Iterable[tuple[int, object]],
    *,
    slos: SLOIndex,
    now: datetime,
    describe: Callable[[int], str],
) -> CheckedBatch:
    """Check every row (index, mapping of field to value) and report every problem.
    Values are JSON values or CSV text; `describe` names a row in messages ("line 4")."""
    checked: list[CheckedRow] = []
    errors: list[RowError] = []
    first_seen: dict[tuple[int, datetime], int] = {}
    for index, row in rows:
        measurement, problems = _check_row(index, row, slos=slos, now=now)
        errors.extend(problems)
        if measurement is None:
            continue
        key = (measurement.slo_id, measurement.hour)
        if key in first_seen:
            errors.append(
                RowError(
                    index,
                    "hour",
                    _("The same SLO and hour as %(other)s; send each hour once.")
                    % {"other": describe(first_seen[key])},
                )
            )
            continue
        first_seen[key] = index
        checked.append(CheckedRow(index, measurement))
    return CheckedBatch(rows=tuple(checked), errors=tuple(errors))


# CSV: the same fields as columns, under a header line.


def csv_records(data: bytes | str) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The rows of a CSV upload as (line number, {column: text}), and the problems that
    are not about a value: encoding, header, size, the number of values on a line. If the
    file as a whole cannot be read, there are no rows."""
    if isinstance(data, bytes):
        if len(data) > MAX_CSV_BYTES:
            return [], [RowError(1, "", _too_large_message())]
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            message = _("The file is not UTF-8 text; save it as CSV UTF-8 and upload it again.")
            return [], [RowError(line, "", message)]
    else:
        text = data
    if not text.strip():
        return [], [RowError(1, "", _("The file is empty; the first line is the header."))]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        problems = _header_problems(header)
        if problems:
            return [], problems
        records: list[tuple[int, dict[str, str]]] = []
        errors: list[RowError] = []
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(records) >= MAX_CSV_ROWS:
                return [], [RowError(start, "", _too_large_message())]
            if len(cells) != len(header):
                errors.append(
                    RowError(
                        start,
                        "",
                        _("Expected %(expected)d values (%(columns)s), found %(found)d.")
                        % {
                            "expected": len(header),
                            "columns": ", ".join(header),
                            "found": len(cells),
                        },
                    )
                )
                continue
            records.append((start, dict(zip(header, cells, strict=True))))
        if not records and not errors:
            return [], [RowError(2, "", _("The file has a header but no rows."))]
    except csv.Error as exc:
        return [], [
            RowError(reader.line_num, "", _("Not readable as CSV: %(error)s") % {"error": exc})
        ]
    return records, errors


def _too_large_message() -> str:
    return _(
        "The file is too large: at most %(rows)s rows and %(size)s MB. Split it and "
        "upload the parts one after another."
    ) % {"rows": f"{MAX_CSV_ROWS:,}", "size": MAX_CSV_BYTES // (1024 * 1024)}


def _header_problems(header: list[str]) -> list[RowError]:
    expected = _(
        "The first line must be the header slo,hour,good,valid "
        "(optionally followed by good_slices,total_slices)."
    )
    missing = [field for field in REQUIRED_FIELDS if field not in header]
    if missing and not set(header) & set(FIELDS):
        return [RowError(1, "", expected)]
    problems = []
    if missing:
        problems.append(
            RowError(
                1,
                "",
                _("The header lacks the column(s) %(columns)s. %(expected)s")
                % {"columns": ", ".join(missing), "expected": expected},
            )
        )
    for column in dict.fromkeys(header):
        if not column:
            problems.append(RowError(1, "", _("A column has no name; remove the extra comma.")))
        elif column not in FIELDS:
            problems.append(
                RowError(
                    1,
                    _shown(column),
                    _("Unknown column; the columns are %(fields)s.")
                    % {"fields": ", ".join(FIELDS)},
                )
            )
        elif header.count(column) > 1:
            problems.append(RowError(1, column, _("This column appears more than once.")))
    return problems


def csv_check(data: bytes | str, *, slos: SLOIndex, now: datetime) -> CheckedBatch:
    records, problems = csv_records(data)
    checked = measurements_check(
        records, slos=slos, now=now, describe=lambda line: _("line %(line)d") % {"line": line}
    )
    errors = sorted([*problems, *checked.errors], key=lambda error: error.index)
    return CheckedBatch(rows=checked.rows, errors=tuple(errors))


# A summary for the CSV preview.


@dataclass(frozen=True)
class SLOShare:
    slo: PushTarget
    rows: int
    first_hour: datetime
    last_hour: datetime


@dataclass(frozen=True)
class BatchSummary:
    total: int
    first_hour: datetime
    last_hour: datetime
    per_slo: tuple[SLOShare, ...]


def batch_summary(batch: CheckedBatch, *, slos: SLOIndex) -> BatchSummary:
    """Rows, hours range and rows per SLO of a valid, non-empty batch."""
    hours_by_slo: dict[int, list[datetime]] = defaultdict(list)
    for measurement in batch.measurements:
        hours_by_slo[measurement.slo_id].append(measurement.hour)
    shares = sorted(
        (
            SLOShare(slos[slo_id], len(hours), min(hours), max(hours))
            for slo_id, hours in hours_by_slo.items()
        ),
        key=lambda share: (share.slo.service_name, share.slo.name),
    )
    return BatchSummary(
        total=len(batch.rows),
        first_hour=min(share.first_hour for share in shares),
        last_hour=max(share.last_hour for share in shares),
        per_slo=tuple(shares),
    )


def hours_already_stored(measurements: Sequence[Measurement]) -> int:
    """How many of these (SLO, hour) already have a row, which storing will replace."""
    if not measurements:
        return 0
    wanted = {(m.slo_id, m.hour) for m in measurements}
    stored = HourlyBucket.objects.filter(
        slo_id__in={slo_id for slo_id, _hour in wanted},
        hour__gte=min(hour for _slo, hour in wanted),
        hour__lte=max(hour for _slo, hour in wanted),
    ).values_list("slo_id", "hour")
    return sum(1 for key in stored if key in wanted)


# Writes.


def measurements_store(
    *, source: DataSource, measurements: Sequence[Measurement], at: datetime
) -> int:
    """Upsert the rows on (slo, hour) — sending an hour again replaces it — and record
    the success on the source and on each SLO sent, in one transaction."""
    slo_ids = sorted({m.slo_id for m in measurements})
    with transaction.atomic():
        store_rows(
            [
                Row(m.slo_id, m.hour, m.good, m.valid, m.good_slices, m.total_slices)
                for m in measurements
            ]
        )
        SLO.objects.filter(pk__in=slo_ids).update(
            last_pull_at=at, last_pull_status=PullStatus.OK, last_pull_error="", last_success_at=at
        )
        DataSource.objects.filter(pk=source.pk).update(last_success_at=at, last_error="")
    return len(measurements)


# The source's push token: like personal API tokens (portal/api_tokens.py), only its
# SHA-256 digest and first characters are kept.


def push_token_rotate(*, source: DataSource) -> str:
    """A new push token for the source; the previous one stops working at once. The
    returned text is the only copy of the secret there will be."""
    raw = PUSH_TOKEN_SCHEME + secrets.token_urlsafe(32)
    source.push_token_hash = token_digest(raw)
    source.push_token_prefix = raw[:PUSH_TOKEN_PREFIX_LENGTH]
    DataSource.objects.filter(pk=source.pk).update(
        push_token_hash=source.push_token_hash, push_token_prefix=source.push_token_prefix
    )
    return raw


def push_token_source(*, raw: str) -> DataSource | None:
    """The source a presented push token belongs to, if any."""
    raw = raw.strip()
    if not raw:
        return None
    return DataSource.objects.filter(push_token_hash=token_digest(raw)).first()
