"""Writing hourly rows: upserts on (slo, hour), so a rerun overwrites and never
duplicates; on PostgreSQL, through COPY."""

from __future__ import annotations

import struct
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from slos.ingestion.planning import Row, SLOPullOutcome, WholeRecord
from slos.models import (
    SLO,
    HourlyBucket,
    PullStatus,
)

_LOAD_TABLE = "bucket_load"


_COLUMNS = "slo_id, hour, good, valid, good_slices, total_slices"


# COPY's binary format: PostgreSQL reads the numbers as they are, with no text to parse
# (about a third of a backfill's COPY time), and struct packs a row in one call. Each
# row: its field count, then each field's length and value; timestamps are microseconds
# since 2000-01-01 UTC.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)


_COPY_TRAILER = struct.pack(">h", -1)


_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


_ROW = struct.Struct(">h iq iq id id ii ii".replace(" ", ""))


# The same, then stale (false) and pulled_at: a row straight into the bucket table.
_BUCKET_ROW = struct.Struct(">h iq iq id id ii ii i? iq".replace(" ", ""))


def _pg_micros(moment: datetime) -> int:
    return (moment - _PG_EPOCH) // timedelta(microseconds=1)


def _copy_binary(rows: list, *, pulled_at: datetime | None = None) -> bytes:
    """Rows (slo_id, hour, good, valid, good_slices, total_slices) in COPY's binary
    format; with `pulled_at`, as bucket rows (stale false, pulled then)."""
    micros = cache(_pg_micros)
    if pulled_at is None:
        pack = _ROW.pack
        body = [
            pack(6, 8, slo_id, 8, micros(hour), 8, good, 8, valid, 4, good_slices, 4, total)
            for slo_id, hour, good, valid, good_slices, total in rows
        ]
    else:
        pack, pulled = _BUCKET_ROW.pack, _pg_micros(pulled_at)
        body = [
            pack(8, 8, slo_id, 8, micros(hour), 8, good, 8, valid, 4, good_slices, 4, total,
                 1, False, 8, pulled)
            for slo_id, hour, good, valid, good_slices, total in rows
        ]  # fmt: skip
    return b"".join([_COPY_HEADER, *body, _COPY_TRAILER])


def store_rows(rows: list, *, pulled_at: datetime | None = None) -> None:
    """Upsert on (slo, hour): a rerun overwrites, never duplicates; stale rows refresh.
    On PostgreSQL the rows are COPYed into a temporary table and merged with one
    INSERT … ON CONFLICT (a backfill writes hundreds of thousands of rows), stamped as
    pulled at `pulled_at` (default: the transaction's start). SQLite stamps them now."""
    if not rows:
        return
    with transaction.atomic():
        if connection.vendor != "postgresql":
            HourlyBucket.objects.bulk_create(
                [
                    HourlyBucket(
                        slo_id=slo_id,
                        hour=hour,
                        good=good,
                        valid=valid,
                        good_slices=good_slices,
                        total_slices=total_slices,
                    )
                    for slo_id, hour, good, valid, good_slices, total_slices in rows
                ],
                update_conflicts=True,
                unique_fields=["slo", "hour"],
                update_fields=[
                    "good",
                    "valid",
                    "good_slices",
                    "total_slices",
                    "stale",
                    "pulled_at",
                ],
                batch_size=1000,
            )
            return
        table = HourlyBucket._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {_LOAD_TABLE} (slo_id bigint, "
                "hour timestamptz, good double precision, valid double precision, "
                "good_slices integer, total_slices integer) ON COMMIT DELETE ROWS"
            )
            cursor.execute(f"TRUNCATE {_LOAD_TABLE}")
            _copy_in(
                cursor,
                f"COPY {_LOAD_TABLE} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)",
                _copy_binary(rows),
            )
            cursor.execute(
                f"INSERT INTO {table} ({_COLUMNS}, stale, pulled_at) SELECT {_COLUMNS}, "
                f"false, COALESCE(%s, now()) FROM {_LOAD_TABLE} "
                "ON CONFLICT (slo_id, hour) DO UPDATE SET "
                "good = EXCLUDED.good, valid = EXCLUDED.valid, "
                "good_slices = EXCLUDED.good_slices, total_slices = EXCLUDED.total_slices, "
                "stale = false, pulled_at = EXCLUDED.pulled_at",
                [pulled_at],
            )


def store_new_rows(rows: list) -> None:
    """Store rows for hours that had no row when the pull looked, under the source's
    lease: COPYed straight into the table, skipping the merge. Should a row have
    appeared meanwhile (pushed, or a pull of one SLO), the rows are merged instead
    (write_batch, with no outcome to record)."""
    write_batch(rows, [], [], {}, at=timezone.now())


def _copy_new_rows(rows: list, *, pulled_at: datetime) -> None:
    """COPY rows straight into the bucket table (PostgreSQL), in the current transaction:
    IntegrityError if a row's hour is stored already."""
    columns = f"{_COLUMNS}, stale, pulled_at"
    with connection.cursor() as cursor:
        _copy_in(
            cursor,
            f"COPY {HourlyBucket._meta.db_table} ({columns}) FROM STDIN (FORMAT BINARY)",
            _copy_binary(rows, pulled_at=pulled_at),
        )


def _is_unique_violation(exc: IntegrityError) -> bool:
    import psycopg.errors

    return isinstance(exc.__cause__, psycopg.errors.UniqueViolation)


def _copy_in(cursor, statement: str, data: bytes) -> None:
    """COPY through psycopg itself, its errors turned into Django's (IntegrityError, …)
    as for any other query."""
    with connection.wrap_database_errors, cursor.copy(statement) as copy:
        copy.write(data)


def write_batch(
    new_rows: list[Row],
    merged_rows: list[Row],
    outcomes: list[SLOPullOutcome],
    wholes: dict[int, WholeRecord],
    *,
    at: datetime,
) -> None:
    """Store the rows of several SLOs and their outcomes in one transaction: the rows of
    hours that had none, then an upsert of the others (stale hours), and one status
    update per distinct outcome (a nightly of 1,000 healthy SLOs is one). `wholes`: the
    SLOs left without a hole, recorded as such (recorded_whole)."""
    by_result: dict[tuple, list[int]] = defaultdict(list)
    for outcome in outcomes:
        record = wholes.get(outcome.slo_id)
        span = (record.start, record.end) if record is not None else None
        by_result[(outcome.status, outcome.message, span)].append(outcome.slo_id)

    def write(new: list[Row], merged: list[Row]) -> None:
        if new and connection.vendor == "postgresql":
            _copy_new_rows(new, pulled_at=at)
        else:
            store_rows(new, pulled_at=at)
        store_rows(merged, pulled_at=at)
        for (status, message, span), ids in by_result.items():
            changes = {"last_pull_at": at, "last_pull_status": status, "last_pull_error": message}
            if status == PullStatus.OK:
                changes["last_success_at"] = at
            if span is None:
                SLO.objects.filter(pk__in=ids).update(**changes)
            else:
                _update_recording_whole(changes, span, [(i, wholes[i].removals) for i in ids])

    # No savepoint around the COPY (each is a round trip, slowed by the fetching threads'
    # hold on the GIL): should a new row's hour have been stored meanwhile, the whole
    # batch is written again, every row merged.
    try:
        with transaction.atomic():
            write(new_rows, merged_rows)
    except IntegrityError as exc:
        if not new_rows or not _is_unique_violation(exc):
            raise
        with transaction.atomic():
            write([], [*new_rows, *merged_rows])


def _update_recording_whole(
    changes: dict, span: tuple[datetime, datetime], seen: list[tuple[int, int]]
) -> None:
    """The status update of SLOs found whole over `span`, recording it (PostgreSQL, where
    removals_counted): one statement, each SLO with the removal count read for it
    (`seen`: pk, count)."""
    changes = {**changes, "buckets_complete_from": span[0], "buckets_complete_until": span[1]}
    columns = [SLO._meta.get_field(name).column for name in changes]
    assignments = ", ".join(f"{column} = %s" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SLO._meta.db_table} AS slo SET {assignments}, "
            "buckets_complete_removals = seen.removals "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS seen (id, removals) "
            "WHERE slo.id = seen.id",
            [
                *changes.values(),
                _bigint_array([pk for pk, _ in seen]),
                _bigint_array([count for _, count in seen]),
            ],
        )


def _bigint_array(numbers: list[int]) -> str:
    """Integers as one PostgreSQL array literal: a single parameter to quote, where a
    list is quoted number by number in Python (a thousand SLOs' ids and counts took a
    nightly pull several milliseconds)."""
    return "{" + ",".join(map(str, numbers)) + "}"
