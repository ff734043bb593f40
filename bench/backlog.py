"""Benchmark: the PM's plan and the CSV export of a team with 5,000 backlog items (500 on
SLOs with 90 days of hourly rows) and 50,000 work-log entries, on PostgreSQL.

Times the plan page (GET /backlog/<team>/plan/ through Django's test client: middleware,
access check, the ranking, capacity and the template) as it opens and filtered (which
reads the whole ranking), and the CSV export, with their query counts, against the
floors: the same reads without any rendering (the top of the ranking as the page opens
reads it, the whole ranking with live budgets and hours, and the capacity sums).
Targets: the page as it opens ≤ 150 ms at p95; the export ≤ 1 s. Nothing is cached: every
request is cold (the budget sums that pages keep between requests, slos/registry/
budget_sums.py, are forgotten before each request and each floor's run, off the clock).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_backlog \\
        .venv/bin/python bench/backlog.py

The database is created, migrated and filled on the first run and reused afterwards;
--refill starts over. The clock is held at a fixed moment, so every run reads the same
windows."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_backlog")

ITEMS = 5_000
LINKED = 500
DAYS = 90
ENTRIES = 50_000
MEMBERS = 20
SLUG = "bench-backlog"
AT = datetime(2026, 11, 4, 3, 30, tzinfo=UTC)  # a Wednesday, 12:30 in Tokyo
PAGE_TARGET_MS = 150.0
EXPORT_TARGET_S = 1.0


def fill(refill: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench.common import copy_hourly_rows
    from portal.models import Membership, Role, Team
    from slos.models import SLO, BudgetPolicyStep, DataSource, Service
    from toil.models import BacklogItem, BacklogSettings, WorkLogEntry

    call_command("migrate", verbosity=0)
    if Team.objects.filter(slug=SLUG).exists() and not refill:
        return
    SLO.objects.filter(service__team__slug=SLUG).delete()
    Team.objects.filter(slug=SLUG).delete()
    print(f"filling {ITEMS} items, {LINKED} SLOs × {DAYS} days, {ENTRIES} entries…", flush=True)
    team = Team.objects.create(name="Bench backlog", slug=SLUG, time_zone="Asia/Tokyo")
    users = []
    for index in range(MEMBERS):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-backlog-{index}")
        role = Role.ADMIN if index == 0 else Role.MEMBER
        Membership.objects.create(team=team, user=user, role=role)
        users.append(user)
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
        for index in range(LINKED)
    )
    copy_hourly_rows(
        slos,
        end=AT.replace(minute=0),
        hours=DAYS * 24,
        bad=lambda slo_pk, hour_index: (slo_pk + hour_index) % 3,
        pulled_at=AT,
    )
    BudgetPolicyStep.objects.bulk_create(
        BudgetPolicyStep(slo=slo, below_percent=Decimal(50), action="Freeze", freezes_releases=True)
        for slo in slos[::10]
    )
    statuses = ["proposed", "ready", "in_progress", "ready", "done"]
    items = BacklogItem.objects.bulk_create(
        BacklogItem(
            team=team,
            title=f"Item {index}",
            kind=["toil", "reliability", "operability", "security", "tech_debt"][index % 5],
            impact=index % 4,
            likelihood=(index // 4) % 4,
            effort=["XS", "S", "M", "L", "XL"][index % 5],
            toil_hours_per_month=Decimal(index % 12),
            status=statuses[index % len(statuses)],
            owner=users[index % MEMBERS] if index % 3 else None,
            slo=slos[index % LINKED] if index < LINKED else None,
            created_at=AT - timedelta(hours=index * 7),
            pinned_at=AT - timedelta(days=index) if index < 3 else None,
            pinned_reason="Bench pin" if index < 3 else "",
        )
        for index in range(ITEMS)
    )
    BacklogSettings.objects.create(team=team, reserved_hours=Decimal(40))
    WorkLogEntry.objects.bulk_create(
        (
            WorkLogEntry(
                team=team,
                item=items[index % ITEMS] if index % 4 else None,
                person=users[index % MEMBERS],
                on=date(2026, 11, 4) - timedelta(days=index % 365),
                hours=Decimal(1 + index % 4),
                toil=index % 5 == 0,
                created_at=AT,
            )
            for index in range(ENTRIES)
        ),
        batch_size=5_000,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class PageMissing(Exception):
    """The page answered with something other than 200 (not built yet, or broken)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument(
        "--page-only",
        action="store_true",
        help="time only the plan page as it opens (a short run, for a quiet moment)",
    )
    args = parser.parse_args()
    from bench.common import ensure_database, percentile, timed_requests

    ensure_database("bench/backlog.py")
    import django

    django.setup()
    fill(args.refill)

    import time_machine
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import NoReverseMatch, reverse

    from portal.models import Team
    from slos.models import SLO
    from slos.registry.budget_sums import kept_sums_forget
    from slos.registry.selectors import slos_with_budgets
    from toil.models import BacklogItem
    from toil.plan.selectors import ROWS_PER_PAGE
    from toil.selectors import capacity, ranked_backlog, ranking_top

    setup_test_environment()
    # The process as the WSGI server sets it up (portal.wsgi.settle_heap): views loaded,
    # the long-lived heap frozen out of the garbage collector's walks.
    import portal.wsgi  # noqa: F401

    team = Team.objects.get(slug=SLUG)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-backlog-0"))

    with time_machine.travel(AT, tick=True):

        def floor():
            ranked = ranked_backlog(BacklogItem.objects.filter(team=team), at=AT, with_hours=True)
            capacity(team, ranked, at=AT)

        def top_floor():
            top = ranking_top(team, at=AT, count=ROWS_PER_PAGE)
            capacity(team, top.rows, at=AT)

        def budgets():
            slos_with_budgets(SLO.objects.filter(pk__in=linked), at=AT)

        def getter(url: str):
            def get():
                response = client.get(url)
                if response.status_code != 200:
                    raise PageMissing(response.status_code)

            return get

        def measured(
            name: str, args: list, repeats: int, query: str = ""
        ) -> tuple[list[float], int] | str:
            # The pages are built alongside this bench: until one answers, say so.
            try:
                return timed_requests(
                    getter(reverse(name, args=args) + query), repeats, before=kept_sums_forget
                )
            except NoReverseMatch:
                return "page not available (no route)"
            except PageMissing as missing:
                return f"page not available (status {missing})"

        linked = set(
            BacklogItem.objects.filter(team=team, slo__isnull=False)
            .open()
            .values_list("slo_id", flat=True)
        )
        skipped = "skipped (--page-only)"
        top_result = floor_result = budgets_result = filtered_result = export_result = skipped
        if not args.page_only:
            top_result = timed_requests(top_floor, args.repeats, before=kept_sums_forget)
            floor_result = timed_requests(floor, args.repeats, before=kept_sums_forget)
            budgets_result = timed_requests(budgets, args.repeats, before=kept_sums_forget)
        page_result = measured("toil:plan", [SLUG], args.repeats)
        if not args.page_only:
            filtered_result = measured("toil:plan", [SLUG], args.repeats, "?kind=toil")
            export_result = measured("toil:export", [SLUG], max(5, args.repeats // 3))
    open_items = BacklogItem.objects.filter(team=team).open().count()

    print()
    print(f"{open_items} open items of {ITEMS}; {LINKED} SLOs × {DAYS} days; {ENTRIES} entries")
    print(f"{'what':48} {'p50':>9} {'p95':>9} {'queries':>8}  target")
    rows = [
        ("floor: top of the ranking + capacity", top_result, None),
        ("floor: whole ranking + capacity", floor_result, None),
        (f"  of which the budgets of {len(linked)} SLOs", budgets_result, None),
        ("plan page as it opens (GET, test client)", page_result, PAGE_TARGET_MS / 1000),
        ("plan page filtered, ?kind=toil (whole ranking)", filtered_result, None),
        ("CSV export (GET, test client)", export_result, EXPORT_TARGET_S),
    ]
    for name, result, target in rows:
        if isinstance(result, str):
            print(f"{name:48} {result}")
            continue
        samples, queries = result
        p50, p95 = statistics.median(samples), percentile(samples, 0.95)
        verdict = ""
        if target is not None:
            met = (p95 if "page" in name else max(samples)) <= target
            verdict = f"≤ {target * 1000:.0f} ms {'met' if met else 'MISSED'}"
        print(f"{name:48} {p50 * 1000:7.1f}ms {p95 * 1000:7.1f}ms {queries:8d}  {verdict}")
    print(
        "\nThe export's verdict is on its slowest run; the page's on its p95. The floors are "
        "the same reads without rendering, measured in the same run: the top of the ranking "
        "is what the page reads as it opens (the budgets of only the SLOs that can reach "
        "it); a filter or a later page reads the whole ranking, whose budgets row is the "
        "live error-budget sums of every SLO the open items link to."
    )


if __name__ == "__main__":
    main()
