"""Routing rules' regular expressions run under a time limit (issue #18, regex denial of
service). A match cut off at `REGEX_TIME_LIMIT` counts as no match and is logged with
the rule's id, at intake and in a replay, and a pattern cut off once is not run again in
the same delivery or replay. A pattern too slow on the probe inputs is refused when a
rule is saved or a draft replayed, with a clear message, and nothing changes. Rules
that were fine stay fine: backreferences and lookarounds still work.

Every slow call runs under `finishes_within`, an alarm that fails the test instead of
letting a backtracking match hold the suite (before the limit, `(a+)+b` took over 60 s
on 40 characters)."""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import Client
from django.urls import reverse

from slos.models import Notification, RoutingPolicyChange, RoutingRule
from slos.notifications import noise
from slos.notifications.intake import intake_source_create
from slos.notifications.routing import (
    REGEX_TIME_LIMIT,
    Candidate,
    Condition,
    Op,
    Outcome,
    Rule,
    regex_problem,
    route,
)
from tests.conftest import client_for

FAST = 2.0  # seconds: "a couple of seconds", many times the limit
FAST_REQUEST = 5.0  # a whole request on a busy machine; before the limit: over 60 s
ROUTING_LOGGER = "slos.notifications.routing"
# Too slow for `regex` too: it backtracks over every way of splitting the run of x's
# before the Z, since the full match fails only at the last character.
SLOW_TITLE = "x" * 40 + "Z!"
TOO_LONG = "takes too long to match"


@contextmanager
def finishes_within(seconds: float) -> Iterator[None]:
    """Fails the test if the block is still running after `seconds` (both `re` and
    `regex` check for signals while they backtrack)."""

    def too_slow(signum, frame):
        raise AssertionError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def titled(title: str) -> Candidate:
    return Candidate(source_kind="generic", fields={"title": title})


def regex_rule(pattern: str, *, rule_id: int | None = None, name: str = "slow") -> Rule:
    return Rule(
        name=name,
        outcome=Outcome.ALERT,
        conditions=(Condition("title", Op.REGEX, pattern),),
        rule_id=rule_id,
    )


def cut_off_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ROUTING_LOGGER]


# --- The pure routing module ---------------------------------------------------------


def test_nested_repeats_on_a_40_character_title_finish_fast_and_do_not_match():
    """The finding: `(a+)+b` against 40 a's. `regex` answers it without backtracking."""
    with finishes_within(FAST):
        decision = route(titled("a" * 40), [regex_rule("(a+)+b", rule_id=3)])
    assert (decision.outcome, decision.rule_id) == (Outcome.LOG, None)


def test_a_match_cut_off_at_the_limit_is_no_match_and_logged_with_the_rule_id(caplog):
    slow = regex_rule("(.|.|.)*Z", rule_id=7, name="Z at the end")
    catch_all = Rule(name="everything else", outcome=Outcome.TICKET, rule_id=8)
    with caplog.at_level(logging.WARNING, logger=ROUTING_LOGGER):
        with finishes_within(FAST):
            decision = route(titled(SLOW_TITLE), [slow, catch_all])
    # No match, not an error: the next rule decides.
    assert (decision.outcome, decision.rule_id) == (Outcome.TICKET, 8)
    [warning] = cut_off_warnings(caplog)
    assert "Routing rule 7" in warning and "(.|.|.)*Z" in warning
    assert f"cut off after {REGEX_TIME_LIMIT} s" in warning


def stored_log(title: str) -> noise.StoredRouting:
    return noise.StoredRouting(
        source_kind="generic",
        labels={},
        title=title,
        severity="",
        resolved_when_first_seen=False,
        slo_id=None,
        service_id=None,
        notification_class="log",
        decided_by_default=True,
    )


def test_a_pattern_cut_off_once_is_not_run_again_in_the_same_replay(caplog):
    """Without the memory, 30 slow titles would take 30 time limits (3 s)."""
    stored = [stored_log(SLOW_TITLE)] * 30
    with caplog.at_level(logging.WARNING, logger=ROUTING_LOGGER):
        with finishes_within(REGEX_TIME_LIMIT * 20):
            result = noise.replay(stored, [regex_rule("(.|.|.)*Z")])
    assert (dict(result.draft), result.changed) == ({"log": 30}, 0)
    assert len(cut_off_warnings(caplog)) == 1


def test_slow_patterns_are_refused_and_plain_ones_kept():
    for slow in ["(.|.|.)*Z", "(a|aa)+b", "^(([a-z])+.)+[A-Z]([a-z])+$"]:
        with finishes_within(FAST):
            problem = regex_problem(slow)
        assert problem is not None and TOO_LONG in problem, slow
    # Python's syntax is kept: backreferences and lookarounds compile and are not slow.
    for plain in ["1d|3d", ".*backup.*", r"(\w+)-\1", "(?!test).*", "(?<=db-)main", "(a+)+b"]:
        assert regex_problem(plain) is None, plain
    assert "missing )" in regex_problem("env(")


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (r"(\w+)-\1", "blue-blue", True),
        (r"(\w+)-\1", "blue-green", False),
        ("(?!staging).*", "production", True),
        ("(?!staging).*", "staging-2", False),
        (r"(?i)disk (full|almost full)", "Disk almost full", True),
        ("1d|3d", "3d", True),
        ("1d|3d", "13d", False),  # the whole value must match
    ],
)
def test_normal_rules_still_match_as_before(pattern, value, matches):
    decision = route(titled(value), [regex_rule(pattern, rule_id=1)])
    assert (decision.rule_id == 1) is matches


# --- Intake --------------------------------------------------------------------------


@pytest.fixture
def generic(team):
    source = intake_source_create(team=team, name="Scripts", kind="generic")
    # The process's first request loads the URLs and the API (over a second): not timed.
    Client().post(
        reverse("api:intake_generic", args=["warm-up"]), data=b"{}", content_type="application/json"
    )
    return source


def deliver(source, *titles: str):
    body = {"notifications": [{"key": f"n{i}", "title": title} for i, title in enumerate(titles)]}
    url = reverse("api:intake_generic", args=[source.token])
    return Client().post(url, data=json.dumps(body), content_type="application/json")


def stored_rule(team, pattern: str, *, name: str, outcome: str = "alert") -> RoutingRule:
    """A rule saved before patterns were checked: straight into the table."""
    return RoutingRule.objects.create(
        team=team,
        position=1,
        name=name,
        conditions=[{"field": "title", "op": "regex", "value": pattern}],
        outcome=outcome,
    )


def test_a_nested_repeat_rule_does_not_slow_intake(team, generic):
    stored_rule(team, "(a+)+b", name="ends in b")
    with finishes_within(FAST_REQUEST):
        response = deliver(generic, "a" * 40)
    assert response.status_code == 200
    assert response.json()["classes"] == {"log": 1}
    assert Notification.objects.get().rule is None


def test_a_slow_rule_at_intake_is_cut_off_once_per_delivery_and_logged(team, generic, caplog):
    rule = stored_rule(team, "(.|.|.)*Z", name="Z at the end")
    with caplog.at_level(logging.WARNING, logger=ROUTING_LOGGER):
        with finishes_within(FAST_REQUEST):
            response = deliver(generic, *[SLOW_TITLE + str(i) for i in range(10)])
    assert response.status_code == 200
    assert response.json()["classes"] == {"log": 10}
    [warning] = cut_off_warnings(caplog)
    assert f"Routing rule {rule.pk} " in warning


# --- Saving a rule and replaying a draft ---------------------------------------------


def test_saving_a_slow_rule_is_refused_with_a_clear_message(client, owner, team):
    url = reverse("slos:routing_policy", args=["kintai"])
    with finishes_within(FAST_REQUEST):
        response = client_for(client, owner).post(
            url,
            {"name": "slow", "position": 1, "conditions": "title ~ (.|.|.)*Z", "outcome": "log"},
        )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 1: bad regular expression: it takes too long to match" in page
    assert (RoutingRule.objects.count(), RoutingPolicyChange.objects.count()) == (0, 0)


def test_editing_a_rule_into_a_slow_one_is_refused_and_changes_nothing(client, owner, team):
    rule = stored_rule(team, "backup.*", name="backups")
    url = reverse("slos:routing_rule_edit", args=["kintai", rule.pk])
    with finishes_within(FAST_REQUEST):
        response = client_for(client, owner).post(
            url, {"name": "backups", "conditions": "title ~ (a|aa)+b", "outcome": "log"}
        )
    assert response.status_code == 400
    assert TOO_LONG in response.content.decode()
    rule.refresh_from_db()
    assert (rule.conditions[0]["value"], rule.outcome) == ("backup.*", "alert")
    assert RoutingPolicyChange.objects.count() == 0


def test_saving_a_normal_regex_rule_still_works_and_decides(client, owner, team, generic):
    url = reverse("slos:routing_policy", args=["kintai"])
    response = client_for(client, owner).post(
        url,
        {"name": "backups", "position": 1, "outcome": "ticket",
         "conditions": "title ~ (?i)(nightly|weekly) backup failed"},
    )  # fmt: skip
    assert response.status_code == 302
    deliver(generic, "Nightly backup failed", "Deployed")
    classes = dict(Notification.objects.values_list("title", "notification_class"))
    assert classes == {"Nightly backup failed": "ticket", "Deployed": "log"}


def test_a_whole_replay_stops_between_notifications_once_over_its_time():
    """Patterns each under the per-match limit still cannot hold the worker for long."""

    def slowly(count: int):
        for index in range(count):
            time.sleep(0.05)
            yield stored_log(f"title {index}")

    with pytest.raises(noise.ReplayTooSlow) as stopped:
        noise.replay(slowly(40), [regex_rule("title .*")], time_limit=0.12)
    assert 1 <= stopped.value.done < 40


def test_replaying_a_slow_draft_is_refused_fast(client, teammate, team, generic):
    assert deliver(generic, SLOW_TITLE).status_code == 200
    with finishes_within(FAST_REQUEST):
        response = client_for(client, teammate).post(
            reverse("slos:noise_replay", args=["kintai"]),
            {"draft": "log: slow\ntitle ~ (.|.|.)*Z", "days": 7},
        )
    assert response.status_code == 400
    assert "Line 2: bad regular expression: it takes too long to match" in (
        response.content.decode()
    )
    assert Notification.objects.get().notification_class == "log"
