"""Removing a routing rule asks first: a post without the confirmation removes nothing
and answers with the page that asks; the confirmed post removes the rule, closes the
gap in the positions and puts the change on record. Only admins remove rules."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from slos.models import RoutingPolicyChange, RoutingRule
from slos.notifications import services
from tests.conftest import client_for, utc

NOW = utc(2026, 11, 20, 3, 0)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rules(team, owner):
    made = [
        services.routing_rule_create(
            team=team,
            user=owner,
            at=NOW,
            name=name,
            position=position,
            source_kind="",
            slo=None,
            conditions=[{"field": "env", "op": "=", "value": "staging"}],
            outcome="log",
        )
        for position, name in enumerate(["first", "second", "third"], start=1)
    ]
    RoutingPolicyChange.objects.all().delete()
    return made


def delete_url(rule: RoutingRule) -> str:
    return reverse("slos:routing_rule_delete", args=[rule.team.slug, rule.pk])


def names(team) -> list[str]:
    return list(
        RoutingRule.objects.filter(team=team).order_by("position").values_list("name", flat=True)
    )


def test_a_post_without_the_confirmation_asks_and_removes_nothing(client, owner, team, rules):
    second = rules[1]
    response = client_for(client, owner).post(delete_url(second))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Remove the rule “second”?" in page
    assert 'name="confirm" value="yes"' in page
    assert f'action="{delete_url(second)}"' in page
    assert f'href="{reverse("slos:routing_policy", args=[team.slug])}#rule-{second.pk}"' in page
    assert names(team) == ["first", "second", "third"]
    assert not RoutingPolicyChange.objects.exists()


def test_the_confirmed_post_removes_the_rule(client, owner, team, rules):
    response = client_for(client, owner).post(delete_url(rules[1]), {"confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"] == reverse("slos:routing_policy", args=[team.slug])
    assert list(
        RoutingRule.objects.filter(team=team).order_by("position").values_list("position", "name")
    ) == [(1, "first"), (2, "third")]
    assert [change.summary for change in RoutingPolicyChange.objects.all()] == [
        "Removed rule “second”"
    ]
    followed = client.get(response["Location"]).content.decode()
    assert "Rule “second” removed." in followed


def test_htmx_gets_the_policy_page_as_a_whole_page(client, owner, team, rules):
    response = client_for(client, owner).post(
        delete_url(rules[0]), {"confirm": "yes"}, headers={"HX-Request": "true"}
    )
    assert response["HX-Redirect"] == reverse("slos:routing_policy", args=[team.slug])
    assert names(team) == ["second", "third"]


def test_the_policy_page_s_remove_button_asks(client, owner, team, rules):
    page = client_for(client, owner).get(reverse("slos:routing_policy", args=[team.slug]))
    html = page.content.decode()
    for rule in rules:
        assert f'hx-post="{delete_url(rule)}"' in html
        assert f'hx-confirm="Remove the rule “{rule.name}”?"' in html


def test_only_admins_remove_and_only_by_post(client, team, rules, teammate, viewer, outsider):
    for user, status in ((teammate, 403), (viewer, 403), (outsider, 404)):
        client_for(client, user)
        assert client.post(delete_url(rules[0]), {"confirm": "yes"}).status_code == status
        assert client.post(delete_url(rules[0])).status_code == status
    assert client.get(delete_url(rules[0])).status_code == 405
    assert names(team) == ["first", "second", "third"]


def test_a_rule_already_gone_is_404(client, owner, team, rules):
    client_for(client, owner)
    url = delete_url(rules[2])
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert client.post(url, {"confirm": "yes"}).status_code == 404
    assert client.post(url).status_code == 404
