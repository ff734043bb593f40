"""Benchmark: the weekly retro of a team with 200 SLOs × 90 days of hourly rows on
PostgreSQL.

Times starting a session (the freeze: every budget, the dashboard's days and top burns,
the tickets, reviews and actions, written as the session's rows) and one follower's
poll (retros.selectors.follow_state, and the follow view through Django's test
client, middleware and access check included), with the queries each takes.
Targets: the start ≤ 2 s; a poll ≤ 20 ms at p95.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_retros \\
        .venv/bin/python bench/retros.py

The database is created, migrated and filled on the first run and reused afterwards;
--refill starts over. Each start is rolled back, so every repeat freezes the same data."""

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
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_retros")

SLOS = 200
DAYS = 90
TICKETS = 60
ANNOTATIONS = 30
OPEN_ACTIONS = 10
SLUG = "bench-retros"
AT = datetime(2026, 11, 4, 1, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Tokyo
START_TARGET_S = 2.0
POLL_TARGET_MS = 20.0


class _Rollback(Exception):
    pass


def ensure_database() -> None:
    from bench.common import ensure_database as create

    create("bench/retros.py")


def fill(refill: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from portal.models import Membership, Role, Team
    from slos.models import (
        SLO,
        Annotation,
        DataSource,
        HourlyBucket,
        IntakeSource,
        Notification,
        Service,
    )

    call_command("migrate", verbosity=0)
    filled = HourlyBucket.objects.filter(slo__service__team__slug=SLUG).exists()
    if filled and not refill:
        return
    SLO.objects.filter(service__team__slug=SLUG).delete()
    Team.objects.filter(slug=SLUG).delete()
    print(f"filling {SLOS} SLOs × {DAYS} days of hourly rows…", flush=True)
    team = Team.objects.create(name="Bench retros", slug=SLUG, time_zone="Asia/Tokyo")
    user, _ = get_user_model().objects.get_or_create(username="bench-retros")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
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
            # New SLOs are provisional (the model's default), so every one is on the
            # review list: the heaviest freeze. A tenth are due for review as well.
            next_review_on=(AT - timedelta(days=1)).date() if index % 10 == 0 else None,
        )
        for index in range(SLOS)
    )
    end = AT.replace(minute=0)
    from bench.common import copy_hourly_rows

    copy_hourly_rows(
        slos,
        end=end,
        hours=DAYS * 24,
        bad=lambda slo_pk, hour_index: (
            (slo_pk + hour_index) % 3 + (40 if hour_index % 97 == slo_pk % 97 else 0)
        ),
        pulled_at=AT,
    )
    Annotation.objects.bulk_create(
        Annotation(
            team=team,
            service=services[index % 20],
            kind="deploy" if index % 2 else "incident",
            starts_at=AT - timedelta(hours=17 * index + 5),
            ends_at=AT - timedelta(hours=17 * index + 3),
            text=f"Annotation {index}",
        )
        for index in range(ANNOTATIONS)
    )
    intake = IntakeSource.objects.create(
        team=team, name="Errors", kind="generic", token_hash="bench" * 12, token_prefix="bench"
    )
    Notification.objects.bulk_create(
        Notification(
            team=team,
            source=intake,
            fingerprint=f"ticket-{index}",
            title=f"Ticket {index}",
            service=services[index % 20],
            slo=slos[index],
            first_seen_at=AT - timedelta(hours=index + 1),
            last_seen_at=AT - timedelta(hours=index + 1),
            notification_class="ticket",
            decided_by_rule="default",
            reason="bench",
        )
        for index in range(TICKETS)
    )


def _previous_session(team, user) -> None:
    """A closed session a week earlier with open actions: the start reviews them, and
    reads last week's remaining budgets."""
    from retros.models import SessionStatus
    from retros.services import retro_action_add, retro_session_plan, retro_session_start

    earlier = AT - timedelta(days=7)
    session = retro_session_start(
        session=retro_session_plan(team=team, at=earlier), user=user, at=earlier
    )
    for index in range(OPEN_ACTIONS):
        retro_action_add(
            session=session, user=user, text=f"Action {index}", owner=user, due_on=None, at=earlier
        )
    # Closed without a summary: the bench times this week's session, not last week's.
    type(session).objects.filter(pk=session.pk).update(
        status=SessionStatus.CLOSED, closed_at=earlier + timedelta(minutes=30)
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="starts, each rolled back")
    parser.add_argument("--polls", type=int, default=500)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    fill(args.refill)

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from portal.models import Team
    from retros.models import RetroSession
    from retros.selectors import follow_state
    from retros.services import retro_session_plan, retro_session_start

    setup_test_environment()  # the test client's host, as in the tests
    team = Team.objects.get(slug=SLUG)
    user = get_user_model().objects.get(username="bench-retros")
    RetroSession.objects.filter(team=team).delete()
    _previous_session(team, user)

    start_samples: list[float] = []
    start_queries = 0
    frozen = {}
    for _ in range(args.repeats + 1):  # the first warms caches and is not counted
        try:
            with transaction.atomic():
                session = retro_session_plan(team=team, at=AT)
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    retro_session_start(session=session, user=user, at=AT)
                    elapsed = time.perf_counter() - started
                frozen = {
                    "snapshots": session.snapshots.count(),
                    "tickets": session.ticket_decisions.count(),
                    "reviews": session.reviews.count(),
                    "actions": session.action_reviews.count(),
                }
                start_samples.append(elapsed)
                start_queries = len(queries)
                raise _Rollback
        except _Rollback:
            pass
    start_samples = start_samples[1:]

    # The freeze's floor: the team's budgets alone, the one read every start must make.
    from slos.models import SLO
    from slos.registry.selectors import slos_with_budgets

    budget_samples: list[float] = []
    for _ in range(args.repeats + 1):
        started = time.perf_counter()
        slos_with_budgets(SLO.objects.filter(service__team=team).active(), at=AT)
        budget_samples.append(time.perf_counter() - started)
    budget_samples = budget_samples[1:]

    # The poll runs against a live session, committed.
    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=user, at=AT)
    try:
        with CaptureQueriesContext(connection) as queries:
            follow_state(session.pk, at=AT)
        state_queries = len(queries)
        state_samples = []
        for _ in range(args.polls):
            started = time.perf_counter()
            follow_state(session.pk, at=AT)
            state_samples.append(time.perf_counter() - started)

        client = Client()
        client.force_login(user)
        url = reverse("retros:follow", args=[session.pk])
        assert client.get(url).status_code == 200  # warm
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        view_queries = len(queries)
        view_samples = []
        for _ in range(args.polls):
            started = time.perf_counter()
            response = client.get(url)
            view_samples.append(time.perf_counter() - started)
            assert response.status_code == 200
        # The poll's floor: the same request for a session that does not exist, through
        # the same middleware and view: the login session and the user are loaded, one
        # lookup finds nothing, 404.
        missing = reverse("retros:follow", args=[2**31 - 1])
        floor_samples = []
        for _ in range(args.polls):
            started = time.perf_counter()
            response = client.get(missing)
            floor_samples.append(time.perf_counter() - started)
            assert response.status_code == 404
    finally:
        RetroSession.objects.filter(pk=session.pk).delete()

    start_median = statistics.median(start_samples)
    start_max = max(start_samples)
    state_p95 = percentile(state_samples, 0.95) * 1000
    view_p95 = percentile(view_samples, 0.95) * 1000
    view_median = statistics.median(view_samples) * 1000
    budget_median = statistics.median(budget_samples)
    floor_p95 = percentile(floor_samples, 0.95) * 1000
    print()
    print(f"{'what':<52} {'time':>10} {'queries':>8} {'target':>10}")
    print(f"{'-' * 52} {'-' * 10} {'-' * 8} {'-' * 10}")
    print(
        f"{'start a session (the freeze), median s':<52} {start_median:>10.3f} "
        f"{start_queries:>8} {'≤ 2.000':>10}"
    )
    print(f"{'start a session, slowest of the repeats, s':<52} {start_max:>10.3f} {'':>8} {'':>10}")
    print(
        f"{'  floor: every budget of the team (slos_with_budgets), s':<52} "
        f"{budget_median:>10.3f} {'':>8} {'':>10}"
    )
    print(f"{'  start / floor':<52} {start_median / budget_median:>9.2f}× {'':>8} {'':>10}")
    print(
        f"{'follow_state (what the poll reads), p95 ms':<52} {state_p95:>10.2f} "
        f"{state_queries:>8} {'≤ 20.00':>10}"
    )
    print(
        f"{'follow view via the test client, p95 ms':<52} {view_p95:>10.2f} {view_queries:>8} "
        f"{'≤ 20.00':>10}"
    )
    print(
        f"{'follow view via the test client, median ms':<52} {view_median:>10.2f} {'':>8} {'':>10}"
    )
    print(
        f"{'  floor: the same poll for no session (404), p95 ms':<52} {floor_p95:>10.2f} "
        f"{'':>8} {'':>10}"
    )
    print(
        f"\nfrozen per start: {frozen['snapshots']} snapshots, {frozen['tickets']} tickets, "
        f"{frozen['reviews']} reviews, {frozen['actions']} action reviews; "
        f"{SLOS} SLOs × {DAYS * 24} h stored; starts: {args.repeats} (rolled back), "
        f"polls: {args.polls}"
    )
    ok = start_median <= START_TARGET_S and max(state_p95, view_p95) <= POLL_TARGET_MS
    print("targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
