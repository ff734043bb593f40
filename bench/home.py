"""Benchmark: the home page and the SLO list for a user whose team holds 1,000 SLOs with 90
days of hourly rows, on PostgreSQL.

Times both pages (GET through Django's test client: middleware, access, the budgets and
the template) with their query counts, against the floor measured in the same run: the
SQL the pages send for their budgets, sent raw. Target: each page ≤ 200 ms at p95. The
SLO list draws a page of 100: in its default order (budget left) it computes every
budget to place each SLO; by name, only the shown page's (printed for reference).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/home.py

Shares bench/budgets.py's database (created and filled on its first run; --refill starts
over). The clock is held at a fixed moment, so every run reads the same windows."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")

TARGET_MS = 200.0
USER = "bench-home"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()
    from bench.budgets import AT, SLOS, ensure_database, fill
    from bench.common import percentile, timed_requests

    ensure_database()
    import django

    django.setup()
    fill(args.refill)

    import time_machine
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from portal.models import Membership, Role, Team
    from slos.models import SLO
    from slos.registry.selectors import slos_with_budgets

    setup_test_environment()
    # The process as the WSGI server sets it up (portal.wsgi.settle_heap): views loaded,
    # the long-lived heap frozen out of the garbage collector's walks.
    import portal.wsgi  # noqa: F401

    team = Team.objects.get(slug="bench")
    user, _ = get_user_model().objects.get_or_create(username=USER)
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.MEMBER})
    client = Client()
    client.force_login(user)

    def getter(url: str):
        def get():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    with time_machine.travel(AT, tick=True):
        with CaptureQueriesContext(connection) as sent:
            slos_with_budgets(SLO.objects.visible_to(user), at=AT)
        statements = [query["sql"] for query in sent.captured_queries]

        def floor():
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                    cursor.fetchall()

        results = [
            ("floor: the budgets' SQL, raw", timed_requests(floor, args.repeats), None),
            (
                "home page (GET, test client)",
                timed_requests(getter(reverse("home")), args.repeats),
                1,
            ),
            (
                "SLO list (GET, test client)",
                timed_requests(getter(reverse("slos:list")), args.repeats),
                1,
            ),
            (
                "SLO list by name (GET, test client)",
                timed_requests(getter(reverse("slos:list") + "?sort=name"), args.repeats),
                1,
            ),
        ]

    print()
    print(f"{SLOS} SLOs × 90 days of hourly rows, one team; repeats: {args.repeats}")
    print(f"{'what':36} {'p50':>9} {'p95':>9} {'queries':>8}  target")
    for name, (samples, queries), target in results:
        p50, p95 = statistics.median(samples), percentile(samples, 0.95)
        verdict = ""
        if target is not None:
            met = p95 * 1000 <= TARGET_MS
            verdict = f"≤ {TARGET_MS:.0f} ms {'met' if met else 'MISSED'}"
        print(f"{name:36} {p50 * 1000:7.1f}ms {p95 * 1000:7.1f}ms {queries:8d}  {verdict}")
    print("\nThe floor is measured in the same run; the pages' verdicts are on their p95.")


if __name__ == "__main__":
    main()
