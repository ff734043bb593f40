"""Budget sums kept between requests, on PostgreSQL: a page reads one row per SLO instead
of summing its window, as long as nothing has changed since they were summed.

Each SLO's sums are stored (slos.models.BudgetSums) with what they were summed for (the
key: the hour the window ends, the window's start, how the SLO counts, its excluded
hours) and with the count of writes to its hourly rows they were summed after
(slos.models.BucketVersion, counted by the database's triggers, so that a pull, a push,
a CSV upload, a backfill and a delete all count). A stored row is used when both still
match; any other SLO is summed again and stored.

The count is read before the rows are summed: a write that lands between the two leaves
the new sums stored under the old count, which the next read finds out of date, so a
page may sum again but never shows sums older than the rows it could have read."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection

from django.db import DatabaseError, connection, transaction

from slos.models import BucketVersion, BudgetSums

logger = logging.getLogger(__name__)

Sums = tuple[float, ...]

_READ = (
    "SELECT wanted.slo_id, COALESCE(counted.version, 0), kept.key, kept.version, kept.sums "
    "FROM unnest(%s::bigint[]) AS wanted(slo_id) "
    f"LEFT JOIN {BucketVersion._meta.db_table} AS counted ON counted.slo_id = wanted.slo_id "
    f"LEFT JOIN {BudgetSums._meta.db_table} AS kept ON kept.slo_id = wanted.slo_id"
)
_STORE = (
    f"INSERT INTO {BudgetSums._meta.db_table} (slo_id, key, version, sums) "
    "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[]) "
    "ON CONFLICT (slo_id) DO UPDATE SET "
    "key = EXCLUDED.key, version = EXCLUDED.version, sums = EXCLUDED.sums"
)


# How many sums a page keeps of those it had to sum. A few are what changed since the
# hour's read-ahead (a push, an exclusion), and keeping them costs little; a thousand are
# a new hour before the read-ahead ran (or no beat at all), and keeping them all cost a
# page a fifth more than summing them. A page keeps the first ones, by id, and leaves the
# rest to the read-ahead, or to the next pages.
PAGE_KEEPS_AT_MOST = 100


def kept_or_summed(
    keys: dict[int, str],
    *,
    summed: Callable[[Collection[int]], dict[int, Sums]],
    empty: Sums,
    keep_at_most: int | None = PAGE_KEEPS_AT_MOST,
) -> dict[int, Sums]:
    """The sums of each SLO of `keys` (by id, each with the key of what it asks for):
    kept ones where they are still good, the others from `summed` (called once, with
    their ids; an SLO it leaves out has no rows: `empty`), then kept for the next read:
    at most `keep_at_most` of them (None: all). Two queries when every SLO is kept,
    four when some are summed again."""
    if not keys:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_READ, [list(keys)])
        rows = cursor.fetchall()
    found: dict[int, Sums] = {}
    counts: dict[int, int] = {}
    for slo_id, count, key, kept_count, sums in rows:
        if key == keys[slo_id] and kept_count == count:
            found[slo_id] = tuple(json.loads(sums))
        else:
            counts[slo_id] = count
    if counts:
        fresh = summed(counts.keys())
        for slo_id in counts:
            found[slo_id] = fresh.get(slo_id, empty)
        kept = sorted(counts)[:keep_at_most]
        _keep({slo_id: (keys[slo_id], counts[slo_id], found[slo_id]) for slo_id in kept})
    return found


def _keep(rows: dict[int, tuple[str, int, Sums]]) -> None:
    """Store sums for the next read, given in id order, so two pages storing the same
    SLOs at once take their locks in the same order. A page that cannot store them still shows
    them: the failure is logged and the next read sums again."""
    ids, keys, counts, sums = [], [], [], []
    for slo_id in rows:
        key, count, values = rows[slo_id]
        ids.append(slo_id)
        keys.append(key)
        counts.append(count)
        sums.append(json.dumps(values))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_STORE, [ids, keys, counts, sums])
    except DatabaseError as exc:
        logger.warning("Budget sums of %d SLOs not kept: %s", len(ids), exc)


def kept_sums_forget() -> int:
    """Drop every kept sum (the next reads sum again): for benchmarks and tests that
    time or check the summing itself."""
    deleted, _ = BudgetSums.objects.all().delete()
    return deleted
