"""Benchmark: the home page and the SLO list for a user whose team holds 1,000 SLOs with 90
days of hourly rows, on PostgreSQL.

Times both pages (GET through Django's test client: middleware, access, the budgets and
the template) with their query counts, against the floors measured in the same run: the
SQL the pages send to sum their budgets, and to read them kept, sent raw. Target: each
page ≤ 200 ms at p95. The SLO list draws a page of 100: in its default order (budget
left) it needs every budget to place each SLO; by name, only the shown page's.

Each page is timed twice. With the budgets kept (slos/registry/budget_sums.py), as pages
find them once the hour's read-ahead task has run: the target's verdict. With nothing
kept, forgotten before each request: what a page pays when nothing was read ahead (a new
hour before the read-ahead ran, or no beat), printed with its own verdict.

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
    from bench.common import budget_statements, percentile, raw_statements, timed_requests

    ensure_database()
    import django

    django.setup()
    fill(args.refill)

    import time_machine
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from portal.models import Membership, Role, Team
    from slos.models import SLO
    from slos.registry.budget_sums import kept_sums_forget
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
        summing, reading = budget_statements(
            lambda: slos_with_budgets(SLO.objects.visible_to(user), at=AT), at=AT
        )

        def timed(url: str, *, kept: bool):
            return timed_requests(
                getter(url), args.repeats, before=None if kept else kept_sums_forget
            )

        home, listing = reverse("home"), reverse("slos:list")

        def floor(statements):
            return timed_requests(raw_statements(statements), args.repeats)

        results = [
            ("floor: the budgets' SQL, raw", floor(summing), None),
            ("floor, kept: the kept sums' SQL, raw", floor(reading), None),
            ("home page, budgets kept", timed(home, kept=True), 1),
            ("SLO list, budgets kept", timed(listing, kept=True), 1),
            ("SLO list by name, budgets kept", timed(listing + "?sort=name", kept=True), 1),
            ("home page, nothing kept", timed(home, kept=False), 1),
            ("SLO list, nothing kept", timed(listing, kept=False), 1),
            ("SLO list by name, nothing kept", timed(listing + "?sort=name", kept=False), 1),
        ]

    print()
    print(f"{SLOS} SLOs × 90 days of hourly rows, one team; repeats: {args.repeats}")
    print(f"{'what':40} {'p50':>9} {'p95':>9} {'queries':>8}  target")
    for name, (samples, queries), target in results:
        p50, p95 = statistics.median(samples), percentile(samples, 0.95)
        verdict = ""
        if target is not None:
            met = p95 * 1000 <= TARGET_MS
            verdict = f"≤ {TARGET_MS:.0f} ms {'met' if met else 'MISSED'}"
        print(f"{name:40} {p50 * 1000:7.1f}ms {p95 * 1000:7.1f}ms {queries:8d}  {verdict}")
    print(
        "\nThe floors are measured in the same run; the pages' verdicts are on their p95."
        "\n'budgets kept': as a page finds them after the hour's read-ahead; 'nothing kept':"
        "\nforgotten before each request, which sums every budget and keeps the first 100"
        "\n(slos.registry.budget_sums.PAGE_KEEPS_AT_MOST)."
    )


if __name__ == "__main__":
    main()
