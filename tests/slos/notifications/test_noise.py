"""Noise: new notifications per day by class and source kind, the noisiest ones, alerts
per week against the target, before and after a policy change; and the replay of a
draft policy over stored notifications, which matches live routing for the live policy
and saves nothing.

Who may do what: any member (viewers included) sees the noise page; members and admins
replay; outsiders get 404."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from slos.models import Notification, RoutingPolicyChange, RoutingRule
from slos.notifications import noise, routing
from slos.notifications.intake import intake_accept, intake_source_create, team_rules
from slos.notifications.parsers import PARSERS
from tests.conftest import client_for, utc
from tests.factories import NotificationFactory

NOW = utc(2026, 11, 20, 3, 0)  # Friday 12:00 in Tokyo, the team's zone


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def named(service, slo):
    slo.openslo_name = "clock-in-availability"
    slo.save(update_fields=["openslo_name"])
    return slo


@pytest.fixture
def generic(team):
    return intake_source_create(team=team, name="Scripts", kind="generic").source


@pytest.fixture
def sentry(team, service):
    return intake_source_create(
        team=team, name="Sentry", kind="sentry", service=service, client_secret="s"
    ).source


@pytest.fixture
def alertmanager(team):
    return intake_source_create(team=team, name="Alertmanager", kind="alertmanager").source


def deliver(source, body: dict) -> None:
    """A delivery as intake takes it: stored, parsed, deduplicated and classified."""
    raw = json.dumps(body).encode()
    intake_accept(source=source, body=raw, incoming=PARSERS[source.kind](raw), at=timezone.now())


def sentry_issue(issue_id: str, *, level: str = "error", env: str = "production") -> dict:
    return {
        "action": "triggered",
        "data": {
            "event": {
                "issue_id": issue_id,
                "title": f"Error {issue_id}",
                "level": level,
                "environment": env,
                "tags": [["environment", env]],
            },
            "triggered_rule": "errors",
        },
    }


def alertmanager_burn(fingerprint: str, *, severity: str, slo: str) -> dict:
    labels = {"alertname": "SLOErrorBudgetBurn", "severity": severity, "slo": slo}
    return {
        "version": "4",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": labels, "fingerprint": fingerprint}],
    }


def seen(at, cls: str, kind: str, *, fingerprint: str = "f", deliveries: int = 1) -> noise.Seen:
    return noise.Seen(
        first_seen_at=at,
        notification_class=cls,
        source_kind=kind,
        fingerprint=fingerprint,
        title=fingerprint,
        deliveries=deliveries,
    )


# --- Pure counting -------------------------------------------------------------------


def test_per_day_counts_by_class_and_by_source_kind_in_the_teams_zone():
    from datetime import date

    items = [
        seen(utc(2026, 11, 17, 14, 0), "alert", "alertmanager"),  # 23:00 Tokyo, the 17th
        seen(utc(2026, 11, 17, 15, 30), "ticket", "sentry"),  # 00:30 Tokyo, the 18th
        seen(utc(2026, 11, 18, 1, 0), "ticket", "sentry"),
        seen(utc(2026, 11, 18, 2, 0), "log", "generic"),
        seen(utc(2026, 11, 10, 2, 0), "log", "generic"),  # before the window
    ]
    start, end = date(2026, 11, 17), date(2026, 11, 19)
    by_class = noise.per_day(items, start=start, end=end, time_zone="Asia/Tokyo", by="class")
    assert [(d.day.day, d.get("alert"), d.get("ticket"), d.get("log")) for d in by_class] == [
        (17, 1, 0, 0),
        (18, 0, 2, 1),
        (19, 0, 0, 0),
    ]
    by_source = noise.per_day(items, start=start, end=end, time_zone="Asia/Tokyo", by="source_kind")
    assert [(d.get("alertmanager"), d.get("sentry"), d.get("generic")) for d in by_source] == [
        (1, 0, 0),
        (0, 2, 1),
        (0, 0, 0),
    ]
    weeks = noise.alerts_per_week(by_class, target=0)
    assert [(w.week_start, w.alerts, w.over) for w in weeks] == [(date(2026, 11, 16), 1, True)]


def test_noisiest_fingerprints_rank_by_deliveries_then_title():
    at = utc(2026, 11, 18)
    items = [
        seen(at, "log", "generic", fingerprint="b-quiet", deliveries=2),
        seen(at, "ticket", "sentry", fingerprint="z-loud", deliveries=40),
        seen(at, "alert", "alertmanager", fingerprint="a-tied", deliveries=7),
        seen(at, "log", "generic", fingerprint="b-tied", deliveries=7),
    ]
    ranked = noise.noisiest(items, limit=3)
    assert [(f.fingerprint, f.deliveries) for f in ranked] == [
        ("z-loud", 40),
        ("a-tied", 7),
        ("b-tied", 7),
    ]


def test_segments_split_at_each_change_inside_the_window():
    start, change, end = utc(2026, 11, 10), utc(2026, 11, 15), utc(2026, 11, 20)
    items = [
        seen(utc(2026, 11, 11), "ticket", "sentry"),
        seen(utc(2026, 11, 12), "ticket", "sentry"),
        seen(utc(2026, 11, 16), "log", "sentry"),
        seen(utc(2026, 11, 9), "ticket", "sentry"),  # before the window
    ]
    before, after = noise.segments(
        items,
        start=start,
        end=end,
        changes=[(change, "Added rule x"), (utc(2026, 11, 1), "too early")],
    )
    assert (before.start, before.end, dict(before.counts), before.change) == (
        start,
        change,
        {"ticket": 2},
        "",
    )
    assert (after.start, after.end, dict(after.counts), after.change) == (
        change,
        end,
        {"log": 1},
        "Added rule x",
    )
    assert before.per_day("ticket") == pytest.approx(0.4)


# --- The draft policy as text --------------------------------------------------------


def test_draft_text_round_trips_the_live_policy_and_names_bad_lines():
    rules = [
        routing.Rule(
            name="staging is noise",
            outcome=routing.Outcome.LOG,
            source_kind="sentry",
            conditions=(routing.Condition("env", routing.Op.EQUALS, "staging"),),
        ),
        routing.Rule(name="burns of 7", outcome=routing.Outcome.ALERT, slo_id=7),
    ]
    text = noise.policy_as_text(rules, slo_names={7: "clock-in"})
    assert text == (
        "log: staging is noise\n@source = sentry\nenv = staging\n\n"
        "alert: burns of 7\n@slo = clock-in"
    )
    assert noise.rules_from_text(text, slos={"clock-in": 7}) == rules
    assert noise.rules_from_text("  \n", slos={}) == []

    for draft, message in [
        ("env = staging", "Line 1: start a rule"),
        ("log: x\n@source = nagios", "Line 2: the source kind"),
        ("log: x\n@slo = nope", "Line 2: this team has no SLO"),
        ("log: x\n\nticket: y\nenv ~ (", "Line 4: bad regular expression"),
        ("log: x\nno operator here", "Line 2: write field = value"),
    ]:
        with pytest.raises(ValueError, match=message):
            noise.rules_from_text(draft, slos={})


def test_a_generic_error_flag_is_read_back_from_the_default_policy():
    def stored(cls: str, *, by_default: bool, service_id: int | None = 3) -> noise.StoredRouting:
        return noise.StoredRouting(
            source_kind="generic",
            labels={},
            title="t",
            severity="",
            resolved_when_first_seen=False,
            slo_id=None,
            service_id=service_id,
            notification_class=cls,
            decided_by_default=by_default,
        )

    assert noise.candidate_from_stored(stored("ticket", by_default=True))[0].is_error
    assert not noise.candidate_from_stored(stored("log", by_default=True))[0].is_error
    candidate, guessed = noise.candidate_from_stored(stored("alert", by_default=False))
    assert (candidate.is_error, guessed) == (False, True)
    # Without a service the flag decides nothing, so nothing is guessed.
    assert noise.candidate_from_stored(stored("log", by_default=False, service_id=None))[1] is False


# --- Replay on stored notifications ----------------------------------------------------


@pytest.fixture
def traffic(team, named, generic, sentry, alertmanager):
    """Live routing with one rule: staging Sentry errors are logs."""
    RoutingRule.objects.create(
        team=team,
        position=1,
        name="staging is noise",
        source_kind="sentry",
        conditions=[{"field": "environment", "op": "equals", "value": "staging"}],
        outcome="log",
    )
    for index in range(3):
        deliver(sentry, sentry_issue(f"prod-{index}"))  # tickets: errors of a known service
    deliver(sentry, sentry_issue("stage-1", env="staging"))  # log, by the rule
    deliver(alertmanager, alertmanager_burn("fast", severity="page", slo=named.openslo_name))
    deliver(alertmanager, alertmanager_burn("slow", severity="ticket", slo=named.openslo_name))
    deliver(
        generic,
        {"notifications": [
            {"key": "backup", "title": "Backup failed", "error": True, "service": "Clock-in API"},
            {"key": "deploy", "title": "Deployed", "service": "Clock-in API"},
            {"key": "cron", "title": "Cron ran"},
        ]},
    )  # fmt: skip
    return team


def live_classes(team) -> dict[str, int]:
    classes: dict[str, int] = {}
    for cls in Notification.objects.filter(team=team).values_list("notification_class", flat=True):
        classes[cls] = classes.get(cls, 0) + 1
    return classes


def test_replaying_the_live_policy_gives_what_live_routing_produced(client, teammate, traffic):
    assert live_classes(traffic) == {"ticket": 5, "log": 3, "alert": 1}
    url = reverse("slos:noise_replay", args=["kintai"])
    client_for(client, teammate)
    form = client.get(url)
    assert form.status_code == 200
    draft = form.context["form"].initial["draft"]
    assert "log: staging is noise\n@source = sentry\nenvironment = staging" in draft

    response = client.post(url, {"draft": draft, "days": 7})
    assert response.status_code == 200
    result = response.context["result"]
    assert dict(result.draft) == dict(result.live) == live_classes(traffic)
    assert (result.changed, result.guessed) == (0, 0)
    assert "Would have produced 1 alerts, 5 tickets, 3 logs" in response.content.decode()


def test_a_changed_draft_turns_tickets_into_logs_and_saves_nothing(client, teammate, traffic):
    before = list(
        Notification.objects.order_by("pk").values_list("pk", "notification_class", "rule_id")
    )
    counts = (RoutingRule.objects.count(), RoutingPolicyChange.objects.count())
    draft = "log: every sentry error\n@source = sentry\n\nlog: the slow burn\nseverity = ticket"
    response = client_for(client, teammate).post(
        reverse("slos:noise_replay", args=["kintai"]), {"draft": draft, "days": 7}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert dict(result.draft) == {"alert": 1, "ticket": 1, "log": 7}
    assert dict(result.live) == {"alert": 1, "ticket": 5, "log": 3}
    assert dict(result.moves) == {("ticket", "log"): 4}
    page = response.content.decode()
    assert "Would have produced 1 alerts, 1 tickets, 7 logs" in page
    assert "4 notifications would move from Ticket to Log" in page

    after = list(
        Notification.objects.order_by("pk").values_list("pk", "notification_class", "rule_id")
    )
    assert after == before
    assert (RoutingRule.objects.count(), RoutingPolicyChange.objects.count()) == counts


def test_a_replay_past_its_time_limit_stops_with_a_clear_400(
    client, teammate, traffic, monkeypatch
):
    monkeypatch.setattr(noise, "REPLAY_TIME_LIMIT", -1.0)  # every replay is over its time
    response = client_for(client, teammate).post(
        reverse("slos:noise_replay", args=["kintai"]), {"draft": "", "days": 7}
    )
    assert response.status_code == 400
    assert response.context["result"] is None
    page = response.content.decode()
    assert "0 notifications in: the draft&#x27;s regular expressions are too slow" in page


def test_replay_counts_only_the_last_n_days(client, teammate, traffic, frozen_clock):
    frozen_clock.shift(timedelta(days=3))
    url = reverse("slos:noise_replay", args=["kintai"])
    client_for(client, teammate)
    assert client.post(url, {"draft": "", "days": 2}).context["result"].total == 0
    assert client.post(url, {"draft": "", "days": 4}).context["result"].total == 9


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"draft": "env = prod", "days": 7}, "Line 1: start a rule"),
        ({"draft": "log: x\nenv ~ (", "days": 7}, "Line 2: bad regular expression"),
        ({"draft": "", "days": 0}, "greater than or equal to 1"),
        ({"draft": "", "days": "many"}, "Enter a whole number"),
    ],
)
def test_bad_input_is_a_clear_400(client, teammate, team, data, message):
    response = client_for(client, teammate).post(
        reverse("slos:noise_replay", args=["kintai"]), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()


# --- The page ------------------------------------------------------------------------


def test_page_counts_hand_made_notifications_per_day(client, viewer, generic, sentry):
    NotificationFactory(
        source=sentry,
        fingerprint="a",
        first_seen_at=NOW - timedelta(days=1),
        notification_class="ticket",
        count=9,
    )
    NotificationFactory(
        source=sentry,
        fingerprint="b",
        first_seen_at=NOW - timedelta(days=1),
        notification_class="log",
    )
    NotificationFactory(
        source=generic, fingerprint="c", first_seen_at=NOW, notification_class="alert", count=3
    )
    NotificationFactory(
        source=generic,
        fingerprint="old",
        first_seen_at=NOW - timedelta(days=40),
        notification_class="alert",
    )
    response = client_for(client, viewer).get(reverse("slos:noise", args=["kintai"]), {"days": 7})
    assert response.status_code == 200
    assert response.context["totals"] == {"alert": 1, "ticket": 1, "log": 1}
    by_class = {
        trace["name"]: trace["y"] for trace in response.context["figures"]["by_class"]["data"]
    }
    assert by_class["Ticket"][-2:] == [1, 0] and by_class["Alert"][-2:] == [0, 1]
    assert len(by_class["Log"]) == 7
    by_source = {t["name"]: t["y"] for t in response.context["figures"]["by_source"]["data"]}
    assert by_source["Sentry"][-2:] == [2, 0] and by_source["Generic JSON"][-1] == 1
    assert [f.fingerprint for f, _label in response.context["noisiest"]] == ["a", "c", "b"]
    assert 'data-plotly="noise-class-figure"' in response.content.decode()


def test_before_and_after_a_rule_added_on_the_routing_page(
    client, owner, team, sentry, frozen_clock
):
    for index in range(4):
        NotificationFactory(
            source=sentry,
            fingerprint=f"t{index}",
            first_seen_at=NOW - timedelta(days=3),
            notification_class="ticket",
        )
    client_for(client, owner)
    response = client.post(
        reverse("slos:routing_policy", args=["kintai"]),
        {"name": "sentry is noise", "position": 1, "source_kind": "sentry", "outcome": "log"},
    )
    assert response.status_code == 302
    change = RoutingPolicyChange.objects.get()
    assert (change.changed_at, change.changed_by, change.summary) == (
        NOW,
        owner,
        "Added rule “sentry is noise”",
    )
    frozen_clock.shift(timedelta(days=2))
    NotificationFactory(
        source=sentry, fingerprint="after", first_seen_at=timezone.now(), notification_class="log"
    )

    segments = client.get(reverse("slos:noise", args=["kintai"])).context["segments"]
    assert [(s["change"], s["classes"]) for s in segments] == [
        ("", [("alert", 0, 0.0), ("ticket", 4, pytest.approx(4 / segments[0]["days"])),
              ("log", 0, 0.0)]),
        ("Added rule “sentry is noise”", [("alert", 0, 0.0), ("ticket", 0, 0.0),
                                           ("log", 1, pytest.approx(0.5))]),
    ]  # fmt: skip

    rule = RoutingRule.objects.get()
    delete = reverse("slos:routing_rule_delete", args=["kintai", rule.pk])
    assert client.post(delete, {"confirm": "yes"}).status_code == 302
    assert client.post(delete, {"confirm": "yes"}).status_code == 404  # gone: no record
    assert list(RoutingPolicyChange.objects.values_list("summary", flat=True)) == [
        "Removed rule “sentry is noise”",
        "Added rule “sentry is noise”",
    ]


def test_the_target_set_in_team_settings_is_the_noise_pages(client, owner, team, generic):
    for index in range(3):  # this week: Monday the 16th to today, Friday the 20th
        NotificationFactory(
            source=generic,
            fingerprint=f"a{index}",
            first_seen_at=NOW - timedelta(days=index),
            notification_class="alert",
        )
    page = reverse("slos:noise", args=["kintai"])
    client_for(client, owner)
    response = client.get(page, {"days": 7})
    assert response.context["target"] == 5
    assert "against the team's target of 5" in response.content.decode()
    this_week = response.context["weeks"][-1]
    assert (this_week.alerts, this_week.target, this_week.over) == (3, 5, False)

    settings = {"name": "Kintai", "mission": "", "time_zone": "Asia/Tokyo",
                "budget_at_risk_below": "25", "no_data_after_hours": "3"}  # fmt: skip
    settings_url = reverse("team_settings", args=["kintai"])
    assert client.post(settings_url, settings | {"alerts_per_week_target": "2"}).status_code == 302

    response = client.get(page, {"days": 7})
    assert response.context["target"] == 2
    body = response.content.decode()
    assert "against the team's target of 2" in body
    assert '<tr class="over-target">' in body and "over the target" in body
    this_week = response.context["weeks"][-1]
    assert (this_week.alerts, this_week.target, this_week.over) == (3, 2, True)

    # A bad value is refused and the page keeps the team's target.
    refused = client.post(settings_url, settings | {"alerts_per_week_target": "-3"})
    assert refused.status_code == 400 and "from 0 to 1000" in refused.content.decode()
    assert client.get(page, {"days": 7}).context["target"] == 2


def test_who_may_see_and_replay(client, team, owner, teammate, viewer, outsider):
    page = reverse("slos:noise", args=["kintai"])
    replay = reverse("slos:noise_replay", args=["kintai"])
    for user, page_status, replay_status in [
        (owner, 200, 200),
        (teammate, 200, 200),
        (viewer, 200, 403),
        (outsider, 404, 404),
    ]:
        client_for(client, user)
        assert client.get(page).status_code == page_status, user
        assert client.get(replay).status_code == replay_status, user
        assert client.post(replay, {"draft": "", "days": 7}).status_code == replay_status, user
        client.logout()
    assert client.get(reverse("slos:noise", args=["nope"])).status_code == 302  # log in first
    client_for(client, owner)
    assert client.get(reverse("slos:noise", args=["nope"])).status_code == 404
    client_for(client, viewer)
    assert "Replay a draft policy" not in client.get(page).content.decode()


def test_page_runs_a_fixed_number_of_queries(client, viewer, team, generic, sentry):
    client_for(client, viewer)
    url = reverse("slos:noise", args=["kintai"])
    RoutingPolicyChange.objects.create(team=team, changed_at=NOW - timedelta(days=2), summary="x")
    counts = []
    made = 0
    for size in (10, 100):
        Notification.objects.bulk_create(
            Notification(
                team=team,
                source=generic if index % 2 else sentry,
                fingerprint=f"n{index}",
                title=f"n{index}",
                first_seen_at=NOW - timedelta(hours=index),
                last_seen_at=NOW,
                notification_class=("alert", "ticket", "log")[index % 3],
                decided_by_rule="default",
                reason="r",
            )
            for index in range(made, size)
        )
        made = size
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert len(team_rules(team.pk)) == 0


def test_htmx_window_switch_gets_only_the_window(client, viewer, sentry):
    NotificationFactory(
        source=sentry,
        fingerprint="a",
        first_seen_at=NOW - timedelta(days=10),
        notification_class="ticket",
    )
    client_for(client, viewer)
    url = reverse("slos:noise", args=["kintai"])
    response = client.get(url, {"days": 14}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="noise-window">') and "<html" not in body
    assert '<strong data-class="ticket">1</strong>' in body
    assert client.get(url, {"days": 7}).context["totals"]["ticket"] == 0
    assert client.get(url, {"days": "lots"}).context["days"] == 28
