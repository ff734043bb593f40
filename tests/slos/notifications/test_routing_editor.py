"""The routing policy editor: admins edit a rule in place (same form and checks as
adding one) and move it up or down; live routing follows the new order at once, and
every change is on record for the noise page's before and after. Positions stay 1 to n.

Who: only the team's admins change the policy (members and viewers get 403, outsiders
404); a rule of another team cannot be touched from this one."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from slos.models import RoutingPolicyChange, RoutingRule
from slos.notifications import routing
from slos.notifications.intake import team_rules
from tests.conftest import client_for, utc

NOW = utc(2026, 11, 20, 3, 0)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def add(client, name: str, *, position: int, conditions: str = "", outcome: str = "log"):
    response = client.post(
        reverse("slos:routing_policy", args=["kintai"]),
        {"name": name, "position": position, "conditions": conditions, "outcome": outcome},
    )
    assert response.status_code == 302, response.content
    return RoutingRule.objects.get(name=name)


@pytest.fixture
def policy(client, owner, team):
    """Three rules, all matching env=staging, so the first one decides."""
    client_for(client, owner)
    for position, (name, outcome) in enumerate(
        [("first", "log"), ("second", "ticket"), ("third", "alert")], start=1
    ):
        add(client, name, position=position, conditions="env = staging", outcome=outcome)
    RoutingPolicyChange.objects.all().delete()
    return team


def order(team) -> list[tuple[int, str]]:
    return list(
        RoutingRule.objects.filter(team=team)
        .order_by("position", "pk")
        .values_list("position", "name")
    )


def live_decision(team) -> routing.Decision:
    staging = routing.Candidate(source_kind="generic", fields={"env": "staging"})
    return routing.route(staging, team_rules(team.pk))


def move(client, rule: RoutingRule, direction: str):
    return client.post(
        reverse("slos:routing_rule_move", args=["kintai", rule.pk]), {"direction": direction}
    )


def edit_url(rule: RoutingRule) -> str:
    return reverse("slos:routing_rule_edit", args=["kintai", rule.pk])


def summaries() -> list[str]:
    return list(RoutingPolicyChange.objects.order_by("pk").values_list("summary", flat=True))


# --- Editing ---------------------------------------------------------------------


def test_the_edit_form_is_the_add_form_filled_with_the_rule(client, policy, named_slo):
    rule = RoutingRule.objects.get(name="second")
    rule.slo = named_slo
    rule.source_kind = "alertmanager"
    rule.conditions = [
        {"field": "env", "op": "equals", "value": "staging"},
        {"field": "instance", "op": "regex", "value": "app-[0-9]+"},
    ]
    rule.save()
    response = client.get(edit_url(rule))
    assert response.status_code == 200
    form = response.context["form"]
    assert "position" not in form.fields  # the arrows move a rule
    assert form.initial == {
        "name": "second",
        "source_kind": "alertmanager",
        "slo": named_slo.pk,
        "conditions": "env = staging\ninstance ~ app-[0-9]+",
        "outcome": "ticket",
    }
    assert "instance ~ app-[0-9]+" in response.content.decode()


def test_edit_changes_the_rule_keeps_its_place_and_routes_new_notifications(client, owner, policy):
    first = RoutingRule.objects.get(name="first")
    assert live_decision(policy).rule_name == "first"
    response = client.post(
        edit_url(first),
        {"name": "staging pages", "source_kind": "", "conditions": "env ~ stag.*",
         "outcome": "alert"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"].endswith(f"#rule-{first.pk}")
    first.refresh_from_db()
    assert (first.position, first.name, first.outcome, first.conditions) == (
        1,
        "staging pages",
        "alert",
        [{"field": "env", "op": "regex", "value": "stag.*"}],
    )
    assert order(policy) == [(1, "staging pages"), (2, "second"), (3, "third")]
    decision = live_decision(policy)
    assert (decision.outcome, decision.rule_id) == ("alert", first.pk)
    change = RoutingPolicyChange.objects.get()
    assert (change.changed_at, change.changed_by, change.summary) == (
        NOW,
        owner,
        "Edited rule “first”, now “staging pages”",
    )
    page = client.get(reverse("slos:routing_policy", args=["kintai"])).content.decode()
    assert "staging pages" in page and "env ~ stag.*" in page


def test_an_edit_that_changes_nothing_is_no_policy_change(client, policy):
    second = RoutingRule.objects.get(name="second")
    data = {"name": "second", "conditions": "env = staging", "outcome": "ticket"}
    assert client.post(edit_url(second), data).status_code == 302
    assert summaries() == []
    data["outcome"] = "log"
    assert client.post(edit_url(second), data).status_code == 302
    assert summaries() == ["Edited rule “second”"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "first", "conditions": "env ~ (", "outcome": "log"},
         "Line 1: bad regular expression"),
        ({"name": "first", "conditions": "just words", "outcome": "log"},
         "Line 1: write field = value or field ~ pattern"),
        ({"name": "", "conditions": "", "outcome": "log"}, "This field is required"),
        ({"name": "first", "conditions": "", "outcome": "page"}, "Select a valid choice"),
    ],
)  # fmt: skip
def test_a_bad_edit_is_refused_and_changes_nothing(client, policy, data, message):
    first = RoutingRule.objects.get(name="first")
    before = RoutingRule.objects.filter(pk=first.pk).values().get()
    response = client.post(edit_url(first), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert RoutingRule.objects.filter(pk=first.pk).values().get() == before
    assert summaries() == []
    assert live_decision(policy).rule_name == "first"


def test_an_edit_cannot_point_a_rule_at_another_teams_slo(client, policy, other_team):
    from slos.registry import services as slo_services

    theirs = slo_services.slo_create(
        service=slo_services.service_create(team=other_team, name="Theirs"),
        data_source=slo_services.data_source_create(
            team=other_team, name="P", url="http://127.0.0.1:9", timeout_seconds=2
        ),
        name="Their SLO",
        good_query="sum(increase(ok[$window]))",
        valid_query="sum(increase(all[$window]))",
        target=99,
    )
    first = RoutingRule.objects.get(name="first")
    response = client.post(edit_url(first), {"name": "first", "slo": theirs.pk, "outcome": "log"})
    assert response.status_code == 400
    first.refresh_from_db()
    assert first.slo_id is None


# --- Moving -----------------------------------------------------------------------


def test_moving_reorders_and_live_routing_follows(client, owner, policy):
    first, second, third = (RoutingRule.objects.get(name=n) for n in ("first", "second", "third"))
    assert move(client, third, "up").status_code == 302
    assert order(policy) == [(1, "first"), (2, "third"), (3, "second")]
    assert [rule.rule_id for rule in team_rules(policy.pk)] == [first.pk, third.pk, second.pk]

    assert move(client, first, "down").status_code == 302
    assert order(policy) == [(1, "third"), (2, "first"), (3, "second")]
    decision = live_decision(policy)
    assert (decision.outcome, decision.rule_id) == ("alert", third.pk)

    # The first cannot go higher, nor the last lower: nothing changes, nothing recorded.
    assert move(client, third, "up").status_code == 302
    assert move(client, second, "down").status_code == 302
    assert order(policy) == [(1, "third"), (2, "first"), (3, "second")]
    assert summaries() == [
        "Moved rule “third” up, to position 2",
        "Moved rule “first” down, to position 2",
    ]
    assert RoutingPolicyChange.objects.filter(changed_by=owner, changed_at=NOW).count() == 2


def test_moving_first_makes_positions_unique_and_dense(client, team, policy):
    # Rules made elsewhere (the admin, an import) may share or skip positions.
    RoutingRule.objects.filter(name="first").update(position=10)
    RoutingRule.objects.filter(name="second").update(position=10)
    RoutingRule.objects.filter(name="third").update(position=40)
    second = RoutingRule.objects.get(name="second")
    assert move(client, second, "up").status_code == 302
    assert order(team) == [(1, "second"), (2, "first"), (3, "third")]


def test_adding_and_removing_keep_positions_dense(client, team, policy):
    add(client, "wedged", position=2)  # before the rule holding position 2
    add(client, "at the end", position=10)
    assert order(team) == [
        (1, "first"), (2, "wedged"), (3, "second"), (4, "third"), (5, "at the end"),
    ]  # fmt: skip
    second = RoutingRule.objects.get(name="second")
    client.post(reverse("slos:routing_rule_delete", args=["kintai", second.pk]), {"confirm": "yes"})
    assert order(team) == [(1, "first"), (2, "wedged"), (3, "third"), (4, "at the end")]


def test_a_move_needs_a_direction_and_a_post(client, policy):
    first = RoutingRule.objects.get(name="first")
    assert move(client, first, "sideways").status_code == 400
    url = reverse("slos:routing_rule_move", args=["kintai", first.pk])
    assert client.get(url).status_code == 405
    assert order(policy) == [(1, "first"), (2, "second"), (3, "third")]


def test_the_policy_page_offers_edit_and_arrows_to_admins_only(client, policy, teammate, viewer):
    url = reverse("slos:routing_policy", args=["kintai"])
    page = client.get(url).content.decode()
    first = RoutingRule.objects.get(name="first")
    assert edit_url(first) in page
    assert reverse("slos:routing_rule_move", args=["kintai", first.pk]) in page
    for user in (teammate, viewer):
        client_for(client, user)
        page = client.get(url).content.decode()
        assert "first" in page and edit_url(first) not in page and 'value="up"' not in page


# --- Who may ----------------------------------------------------------------------


def test_only_admins_edit_or_move(client, policy, teammate, viewer, outsider):
    first = RoutingRule.objects.get(name="first")
    data = {"name": "hacked", "conditions": "", "outcome": "alert"}
    for user, status in [(teammate, 403), (viewer, 403), (outsider, 404)]:
        client_for(client, user)
        assert client.get(edit_url(first)).status_code == status, user
        assert client.post(edit_url(first), data).status_code == status, user
        assert move(client, first, "down").status_code == status, user
        client.logout()
    assert order(policy) == [(1, "first"), (2, "second"), (3, "third")]
    assert summaries() == []


def test_a_rule_of_another_team_cannot_be_touched(client, policy, other_team, outsider):
    theirs = RoutingRule.objects.create(team=other_team, position=1, name="theirs", outcome="log")
    data = {"name": "hacked", "conditions": "", "outcome": "alert"}
    # Our admin, through our team's address: no such rule here.
    for url in (
        reverse("slos:routing_rule_edit", args=["kintai", theirs.pk]),
        reverse("slos:routing_rule_move", args=["kintai", theirs.pk]),
    ):
        assert client.get(url).status_code in {404, 405}
        assert client.post(url, data | {"direction": "down"}).status_code == 404
    # Through their team's address: not our team.
    assert (
        client.post(reverse("slos:routing_rule_edit", args=["other", theirs.pk]), data).status_code
        == 404
    )
    # Their admin, through their address, cannot reach ours either.
    first = RoutingRule.objects.get(name="first")
    client_for(client, outsider)
    assert (
        client.post(reverse("slos:routing_rule_edit", args=["other", first.pk]), data).status_code
        == 404
    )
    assert (
        client.post(
            reverse("slos:routing_rule_move", args=["other", first.pk]), {"direction": "down"}
        ).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert (theirs.name, theirs.position) == ("theirs", 1)
    assert order(policy) == [(1, "first"), (2, "second"), (3, "third")]
    assert summaries() == []


@pytest.fixture
def named_slo(slo):
    slo.openslo_name = "clock-in-availability"
    slo.save(update_fields=["openslo_name"])
    return slo


def test_a_stored_rule_that_no_longer_parses_is_shown_not_a_500(client, owner, team):
    RoutingRule.objects.create(
        team=team, position=1, name="Broken", conditions=[{"field": "x"}], outcome="log"
    )
    page = client_for(client, owner).get(reverse("slos:routing_policy", args=["kintai"]))
    assert page.status_code == 200
    assert "Unreadable, this rule is skipped" in page.content.decode()


def test_a_link_may_prefill_the_new_rule_and_nothing_is_saved(client, owner, team, viewer):
    page = reverse("slos:routing_policy", args=[team.slug])
    query = {
        "name": "Tickets like “Cache timeout”",
        "source_kind": "sentry",
        "conditions": "title = Cache timeout",
        "outcome": "log",
        "position": "999",  # not a pre-filled field: ignored
    }
    response = client_for(client, owner).get(page, query)
    assert response.status_code == 200
    form = response.context["form"]
    assert not form.is_bound
    assert form.initial == {
        "name": "Tickets like “Cache timeout”",
        "source_kind": "sentry",
        "conditions": "title = Cache timeout",
        "outcome": "log",
    }
    assert "title = Cache timeout</textarea>" in response.content.decode()
    assert not RoutingRule.objects.exists() and not RoutingPolicyChange.objects.exists()
    # A viewer may look at the pre-filled form; only an admin's post saves it.
    assert client_for(client, viewer).get(page, query).status_code == 200
