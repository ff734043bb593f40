"""Links only to what the role may open (#17): a viewer and a member follow every link
the portal shows them, from the home page on, and none ends in 403. Two cases in
particular: the replay of a draft policy (members and admins) on the routing policy
page, and a retro ticket's "tune" link, which opens the rule's editor for admins only
and the rule in the policy, which everyone reads, for the others."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import urldefrag, urljoin

import pytest
import time_machine
from django.urls import reverse

from retros.services import retro_session_plan, retro_session_start
from slos.notifications import services as routing_services
from slos.registry import services as registry_services
from tests.conftest import client_for, utc
from tests.factories import (
    BacklogItemFactory,
    HandFedSLOFactory,
    IntakeSourceFactory,
    NotificationFactory,
    WorkLogEntryFactory,
    hourly_buckets,
    hours_from,
)

NOW = utc(2025, 3, 12, 1, 30)  # Wednesday 10:30 in Tokyo
LINK = re.compile(r'(?:href|hx-get)="([^"#][^"]*)"')
# Downloads and machine endpoints; the log-out form is not a link.
NOT_PAGES = ("/static/", "/admin/", "/api/", "/accounts/logout", ".md", ".csv", ".yaml")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def portal(team, owner, teammate, viewer, service):
    """A team with something on every page: an SLO with data and an annotation, a rule
    that made a ticket, a live retro holding it, a backlog item with work logged."""
    slo = HandFedSLOFactory(service=service, name="Clock-in availability")
    hourly_buckets(slo, hours_from(NOW - timedelta(days=2), 40), good=990, valid=1000)
    registry_services.annotation_create(
        team=team,
        slo=slo,
        kind="deploy",
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW - timedelta(days=1) + timedelta(minutes=10),
        text="Release 4.1",
        created_by=owner,
    )
    rule = routing_services.routing_rule_create(
        team=team,
        user=owner,
        at=NOW - timedelta(days=2),
        name="Cache timeouts are tickets",
        position=1,
        source_kind="",
        slo=None,
        conditions=[{"field": "title", "op": "~", "value": "Timeout.*"}],
        outcome="ticket",
    )
    NotificationFactory(
        source=IntakeSourceFactory(team=team, kind="sentry"),
        title="Timeout talking to the cache",
        notification_class="ticket",
        rule=rule,
        decided_by_rule=rule.name,
        first_seen_at=NOW - timedelta(hours=3),
    )
    item = BacklogItemFactory(team=team, title="Retry uploads")
    WorkLogEntryFactory(team=team, person=teammate, on=NOW.date(), hours=Decimal(1), item=item)
    session = retro_session_start(session=retro_session_plan(team=team, at=NOW), user=owner, at=NOW)
    return {"slo": slo, "rule": rule, "session": session}


def forbidden_links(client, *, limit: int = 400) -> list[tuple[str, str]]:
    """(link, page it was on) for every link shown that answers 403."""
    seen: set[str] = set()
    queue = [("/", "")]
    forbidden = []
    while queue and len(seen) < limit:
        url, found_on = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code == 403:
            forbidden.append((url, found_on))
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for match in LINK.finditer(response.content.decode()):
            link = urldefrag(urljoin(url, unescape(match.group(1))))[0]
            if link.startswith("/") and not link.startswith("//") and link not in seen:
                if not any(part in link for part in NOT_PAGES):
                    queue.append((link, url))
    assert len(seen) > 20, seen  # the walk reached the portal, not only the home page
    return forbidden


@pytest.mark.parametrize("who", ["viewer", "teammate"])
def test_no_link_shown_ends_in_403(client, portal, who, request):
    client_for(client, request.getfixturevalue(who))
    assert forbidden_links(client) == []


def test_the_replay_link_is_for_members_and_admins(client, portal, team, viewer, teammate):
    policy = reverse("slos:routing_policy", args=[team.slug])
    replay = reverse("slos:noise_replay", args=[team.slug])

    page = client_for(client, viewer).get(policy).content.decode()
    assert replay not in page
    assert client.get(replay).status_code == 403  # what the link used to lead to

    page = client_for(client, teammate).get(policy).content.decode()
    assert f'href="{replay}"' in page
    assert client.get(replay).status_code == 200


def test_tune_opens_the_rule_s_editor_for_admins_and_the_rule_for_the_others(
    client, portal, team, owner, teammate
):
    rule = portal["rule"]
    detail = reverse("retros:detail", args=[portal["session"].pk])
    edit = reverse("slos:routing_rule_edit", args=[team.slug, rule.pk])
    in_policy = f"{reverse('slos:routing_policy', args=[team.slug])}#rule-{rule.pk}"

    page = client_for(client, owner).get(detail).content.decode()
    assert f'href="{edit}"' in page

    page = client_for(client, teammate).get(detail).content.decode()
    assert edit not in page
    assert f'href="{in_policy}"' in page
    assert client.get(edit).status_code == 403  # what the link used to lead to
    policy_page = client.get(in_policy.split("#")[0]).content.decode()
    assert f'id="rule-{rule.pk}"' in policy_page
