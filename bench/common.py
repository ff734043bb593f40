"""What the benchmarks share: they run on PostgreSQL, in a database of their own."""

from __future__ import annotations

import sys


def ensure_database(script: str) -> None:
    """Create the benchmark's database (named by DATABASE_URL) if it does not exist."""
    import psycopg
    from django.conf import settings

    config = settings.DATABASES["default"]
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"{script} runs on PostgreSQL: set DATABASE_URL=postgres://...")
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def copy_hourly_rows(slos, *, end, hours: int, bad, pulled_at) -> None:
    """Fill the bucket table for `slos`: `hours` rows each, ending at `end`, with valid
    events varying by SLO and hour and `bad(slo_pk, hour_index)` of them bad, through
    one COPY (the database sums them by day as it goes: slos.models.DailyBucket); then
    ANALYZE both tables, so the planner sees them as the benchmark reads them."""
    from datetime import timedelta

    from django.db import connection

    from slos.models import DailyBucket, HourlyBucket

    table = HourlyBucket._meta.db_table
    with connection.cursor() as cursor:
        with cursor.copy(
            f"COPY {table} (slo_id, hour, good, valid, good_slices, total_slices, stale, "
            "pulled_at) FROM STDIN"
        ) as copy:
            for slo in slos:
                for hour_index in range(1, hours + 1):
                    valid = 1000 + (slo.pk * 7 + hour_index * 13) % 500
                    copy.write_row(
                        (
                            slo.pk,
                            end - timedelta(hours=hour_index),
                            valid - bad(slo.pk, hour_index),
                            valid,
                            0,
                            0,
                            False,
                            pulled_at,
                        )
                    )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {DailyBucket._meta.db_table}")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed_requests(run, repeats: int, before=None) -> tuple[list[float], int]:
    """Run once to warm, once counting queries, then `repeats` times on the clock;
    `before`, when given, runs ahead of each run, off the clock. The queries are counted
    by a wrapper: a request clears `connection.queries` when it starts, so
    CaptureQueriesContext would count nothing through the test client."""
    import time

    from django.db import connection

    def ready() -> None:
        if before is not None:
            before()

    ready()
    run()  # warm
    count = 0

    def counted(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    ready()
    with connection.execute_wrapper(counted):
        run()
    samples = []
    for _ in range(repeats):
        ready()
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return samples, count


def budget_statements(read, *, at) -> tuple[list[str], list[str]]:
    """The SQL that `read` (a read of budgets) sends: summing them with nothing kept (the
    SLOs, their exclusions and the sums; not the look for kept sums nor their keeping,
    which the portal pays on top), and reading them kept after the hour's read-ahead."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from slos.models import BudgetSums
    from slos.registry.budget_sums import kept_sums_forget
    from slos.registry.selectors import budgets_read_ahead

    kept_sums_forget()
    with CaptureQueriesContext(connection) as sent:
        read()
    summing = [
        query["sql"]
        for query in sent.captured_queries
        if query["sql"].startswith("SELECT") and BudgetSums._meta.db_table not in query["sql"]
    ]
    budgets_read_ahead(at=at)  # as the beat does when the hour begins
    with CaptureQueriesContext(connection) as sent:
        read()
    return summing, [query["sql"] for query in sent.captured_queries]


def raw_statements(statements: list[str]):
    """A run of `statements` sent raw, each answer fetched; it returns the last answer's
    row count."""
    from django.db import connection

    def run() -> int:
        found: list = []
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                found = cursor.fetchall()
        return len(found)

    return run
