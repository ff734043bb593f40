"""Benchmark: every budget of 1,000 SLOs × 90 days of hourly rows on PostgreSQL.

Times the list page's work (slos_with_budgets over all SLOs) against its floor, in the
same run: the very SQL it sends to sum them (the SLOs, their exclusions, and the sums of
day rows and of the hours around them by SLO and ring, added up per window and burn
span), sent raw with no ORM and no Python after it. The floor is the same aggregates as
the page's, not fewer: the honest floor of this work. The work is timed twice: summed,
with nothing kept from an earlier read (the look for kept sums and their keeping are on
the clock, not in the floor), and as pages read the budgets once they are kept
(slos/registry/budget_sums.py). Also printed: the kept sums' SQL raw, and one raw
aggregate of the window's hourly rows (3 sums, no day or burn windows), the floor before
the day rows (slos.models.DailyBucket) existed. Targets: ≤ 2 s, and ≤ 1.5× the floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/budgets.py

The database is created, migrated and filled on the first run (about a minute) and
reused afterwards; --refill starts over."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")

SLOS = 1000
DAYS = 90
AT = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)


def ensure_database() -> None:
    from bench.common import ensure_database as create

    create("bench/budgets.py")


def fill(refill: bool) -> None:
    from django.core.management import call_command

    from portal.models import Team
    from slos.models import SLO, DataSource, HourlyBucket, Service

    call_command("migrate", verbosity=0)
    filled = HourlyBucket.objects.filter(slo__service__team__slug="bench").exists()
    if filled and not refill:
        return
    # SLOs first (a data source protects its SLOs), then the team: also what a fill that
    # failed halfway left.
    SLO.objects.filter(service__team__slug="bench").delete()
    Team.objects.filter(slug="bench").delete()
    print(f"filling {SLOS} SLOs × {DAYS} days of hourly rows…", flush=True)
    team = Team.objects.create(name="Bench", slug="bench")
    source = DataSource.objects.create(team=team, name="Prometheus", url="http://127.0.0.1:9")
    services = [Service.objects.create(team=team, name=f"Service {i}") for i in range(20)]
    slos = SLO.objects.bulk_create(
        SLO(
            service=services[index % 20],
            data_source=source,
            name=f"SLO {index}",
            good_query="sum(increase(ok[$window]))",
            valid_query="sum(increase(all[$window]))",
            target="99.9",
            window_days=28,
        )
        for index in range(SLOS)
    )
    end = AT.replace(minute=0)
    from bench.common import copy_hourly_rows

    copy_hourly_rows(
        slos,
        end=end,
        hours=DAYS * 24,
        bad=lambda slo_pk, hour_index: (slo_pk + hour_index) % 3,
        pulled_at=AT,
    )


def timed(function, repeats: int, before=None) -> tuple[float, object]:
    """The median time of `repeats` runs; `before`, when given, runs ahead of each, off
    the clock."""
    samples, result = [], None
    for _ in range(repeats):
        if before is not None:
            before()
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    fill(args.refill)

    from django.db import connection

    from bench.common import budget_statements, raw_statements
    from slos.models import SLO
    from slos.registry.budget_sums import kept_sums_forget
    from slos.registry.selectors import slos_with_budgets

    slos = SLO.objects.filter(service__team__slug="bench")
    end = AT.replace(minute=0)

    def portal() -> int:
        return len(slos_with_budgets(slos, at=AT))

    def raw_hourly() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT b.slo_id, SUM(b.good), SUM(b.valid), COUNT(*) "
                "FROM slos_hourlybucket b JOIN slos_slo s ON s.id = b.slo_id "
                "JOIN slos_service v ON v.id = s.service_id JOIN portal_team t ON t.id = v.team_id "
                "WHERE t.slug = 'bench' AND b.hour >= %s AND b.hour < %s GROUP BY b.slo_id",
                [end - timedelta(days=28), end],
            )
            return len(cursor.fetchall())

    summing, reading = budget_statements(portal, at=AT)

    portal(), raw_statements(summing)(), raw_hourly()  # warm caches
    kept_time, budgets = timed(portal, args.repeats)
    summed_time, summed = timed(portal, args.repeats, before=kept_sums_forget)
    floor_time, _ = timed(raw_statements(summing), args.repeats)
    reading_time, _ = timed(raw_statements(reading), args.repeats)
    raw_time, rows = timed(raw_hourly, args.repeats)
    assert budgets == summed == rows == SLOS, (budgets, summed, rows)
    print()
    print(f"{'what':<52} {'median s':>9} {'queries':>8} {'target':>10}")
    print(f"{'-' * 52} {'-' * 9} {'-' * 8} {'-' * 10}")
    lines = [
        ("every budget, summed (nothing kept)", summed_time, len(summing) + 2, "≤ 2.000"),
        ("every budget, kept (as pages read them)", kept_time, len(reading), "≤ 2.000"),
        ("floor: the summing SQL, raw", floor_time, len(summing), ""),
        ("ratio summed / floor", summed_time / floor_time, None, "≤ 1.50"),
        ("ratio kept / floor", kept_time / floor_time, None, "≤ 1.50"),
        ("for reference: the kept sums' SQL, raw", reading_time, len(reading), ""),
        ("for reference: raw sums of the hourly rows", raw_time, 1, ""),
    ]
    for name, value, queries, target in lines:
        shown = f"{value:>9.3f}" if queries is not None else f"{value:>8.2f}×"
        print(f"{name:<52} {shown} {'' if queries is None else queries:>8} {target:>10}")
    print(
        f"\nrows in window: {SLOS} SLOs × 672 h; repeats: {args.repeats} (median)."
        "\n'summed': every budget summed from the rows, the kept sums forgotten before each"
        "\nrun (off the clock), and the look for kept sums and their keeping on the clock."
        "\n'kept': read as pages read them after the hour's read-ahead."
    )


if __name__ == "__main__":
    main()
