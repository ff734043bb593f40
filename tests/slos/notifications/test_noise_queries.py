"""The noise page reads in a fixed number of queries, whatever the number of
notifications and policy changes in its window."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from slos.notifications.services import routing_rule_create
from tests.conftest import client_for, utc
from tests.factories import IntakeSourceFactory, NotificationFactory

NOW = utc(2026, 11, 20, 3, 0)
# Session, user, team, membership; then the notifications and the policy changes.
NOISE_PAGE_QUERIES = 6


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def add_notifications(team, count: int, *, start: int = 0) -> None:
    sources = [
        IntakeSourceFactory(team=team, kind=kind, name=f"{kind} {start}")
        for kind in ("generic", "sentry", "alertmanager")
    ]
    for index in range(start, start + count):
        NotificationFactory(
            source=sources[index % 3],
            fingerprint=f"n{index}",
            first_seen_at=NOW - timedelta(hours=index),
            last_seen_at=NOW,
            notification_class=("alert", "ticket", "log")[index % 3],
        )


def change_policy(team, owner, name: str) -> None:
    routing_rule_create(
        team=team,
        user=owner,
        at=NOW - timedelta(days=3),
        name=name,
        position=1,
        source_kind="",
        slo=None,
        conditions=[],
        outcome="log",
    )


def test_the_noise_page_runs_a_fixed_number_of_queries(
    client, viewer, owner, team, django_assert_num_queries
):
    client_for(client, viewer)
    url = reverse("slos:noise", args=[team.slug])
    add_notifications(team, 3)
    change_policy(team, owner, "First")
    with django_assert_num_queries(NOISE_PAGE_QUERIES):
        few = client.get(url)
    assert few.status_code == 200
    assert sum(few.context["totals"].values()) == 3

    add_notifications(team, 60, start=3)
    change_policy(team, owner, "Second")
    with django_assert_num_queries(NOISE_PAGE_QUERIES):
        many = client.get(url)
    assert sum(many.context["totals"].values()) == 63
    assert len(many.context["segments"]) == 3  # before, and after each change


def test_the_window_alone_runs_as_many_queries(client, viewer, team, django_assert_num_queries):
    client_for(client, viewer)
    add_notifications(team, 30)
    with django_assert_num_queries(NOISE_PAGE_QUERIES):
        part = client.get(
            reverse("slos:noise", args=[team.slug]), {"days": 7}, headers={"HX-Request": "true"}
        )
    assert part.content.decode().lstrip().startswith('<div id="noise-window">')
