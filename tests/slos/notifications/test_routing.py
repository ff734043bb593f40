"""The routing policy as pure values: rule order, equals and regex conditions, source
kind and SLO filters, and the default policy when no rule matches."""

from __future__ import annotations

import pytest

from slos.notifications.routing import (
    DEFAULT_POLICY,
    Candidate,
    Condition,
    Op,
    Outcome,
    Rule,
    conditions_as_text,
    conditions_from_json,
    conditions_from_text,
    route,
)


def alert(**fields: str) -> Candidate:
    return Candidate(source_kind="alertmanager", fields=fields, severity=fields.get("severity", ""))


def test_first_matching_rule_decides_and_is_named():
    rules = [
        Rule(name="staging is noise", outcome=Outcome.LOG, rule_id=1,
             conditions=(Condition("env", Op.EQUALS, "staging"),)),
        Rule(name="all of kintai", outcome=Outcome.TICKET, rule_id=2,
             conditions=(Condition("team", Op.EQUALS, "kintai"),)),
    ]  # fmt: skip
    staging = route(alert(env="staging", team="kintai"), rules)
    assert (staging.outcome, staging.rule_id, staging.rule_name) == (
        Outcome.LOG,
        1,
        "staging is noise",
    )
    assert "staging is noise" in staging.reason
    production = route(alert(env="production", team="kintai"), rules)
    assert (production.outcome, production.rule_id) == (Outcome.TICKET, 2)


def test_order_matters_when_two_rules_match():
    loud = Rule(name="loud", outcome=Outcome.ALERT, conditions=(Condition("x", Op.EQUALS, "1"),))
    quiet = Rule(name="quiet", outcome=Outcome.LOG, conditions=(Condition("x", Op.EQUALS, "1"),))
    assert route(alert(x="1"), [loud, quiet]).outcome == Outcome.ALERT
    assert route(alert(x="1"), [quiet, loud]).outcome == Outcome.LOG


def test_equals_is_exact_and_a_missing_field_never_matches():
    rule = Rule(name="r", outcome=Outcome.ALERT, conditions=(Condition("env", Op.EQUALS, "prod"),))
    assert rule.matches(alert(env="prod"))
    assert not rule.matches(alert(env="production"))
    assert not rule.matches(alert(env="Prod"))
    assert not rule.matches(alert())


def test_regex_must_match_the_whole_value():
    rule = Rule(
        name="r",
        outcome=Outcome.TICKET,
        conditions=(Condition("instance", Op.REGEX, "app-[0-9]+"),),
    )
    assert rule.matches(alert(instance="app-12"))
    assert not rule.matches(alert(instance="app-12:9100"))
    assert not rule.matches(alert(instance="db-1"))


def test_all_conditions_must_hold():
    rule = Rule(
        name="r",
        outcome=Outcome.ALERT,
        conditions=(Condition("a", Op.EQUALS, "1"), Condition("b", Op.REGEX, "x.*")),
    )
    assert rule.matches(alert(a="1", b="xyz"))
    assert not rule.matches(alert(a="1", b="yz"))


def test_a_broken_regex_matches_nothing():
    rule = Rule(name="r", outcome=Outcome.ALERT, conditions=(Condition("a", Op.REGEX, "("),))
    assert not rule.matches(alert(a="("))


def test_source_kind_and_slo_narrow_a_rule():
    sentry_only = Rule(name="sentry", outcome=Outcome.LOG, source_kind="sentry")
    assert not sentry_only.matches(alert())
    assert sentry_only.matches(Candidate(source_kind="sentry", fields={}))
    slo_rule = Rule(name="slo 7", outcome=Outcome.TICKET, slo_id=7)
    assert slo_rule.matches(Candidate(source_kind="generic", fields={}, slo_id=7))
    assert not slo_rule.matches(Candidate(source_kind="generic", fields={}, slo_id=8))
    assert not slo_rule.matches(Candidate(source_kind="generic", fields={}))


@pytest.mark.parametrize(
    ("candidate", "outcome"),
    [
        (Candidate("alertmanager", {}, severity="page", slo_id=1, service_id=1), Outcome.ALERT),
        (Candidate("alertmanager", {}, severity="ticket", slo_id=1, service_id=1), Outcome.TICKET),
        (Candidate("alertmanager", {}, severity="page"), Outcome.LOG),
        (Candidate("alertmanager", {}, severity="warning", slo_id=1), Outcome.LOG),
        (Candidate("sentry", {}, severity="error", is_error=True, service_id=3), Outcome.TICKET),
        (Candidate("sentry", {}, severity="error", is_error=True), Outcome.LOG),
        (Candidate("generic", {}, severity="info", service_id=3), Outcome.LOG),
    ],
)
def test_default_policy(candidate, outcome):
    decision = route(candidate, [])
    assert decision.outcome == outcome
    assert decision.rule_id is None
    assert decision.rule_name == DEFAULT_POLICY
    assert decision.reason.startswith("Default policy")


def test_a_rule_overrides_the_default():
    page = Candidate("alertmanager", {"alertname": "SLOErrorBudgetBurn"}, severity="page", slo_id=1)
    demote = Rule(
        name="not yet",
        outcome=Outcome.TICKET,
        conditions=(Condition("alertname", Op.REGEX, "SLO.*"),),
    )
    assert route(page, [demote]).outcome == Outcome.TICKET
    assert route(page, []).outcome == Outcome.ALERT


def test_conditions_from_json():
    parsed = conditions_from_json([{"field": "env", "op": "regex", "value": "prod|staging"}])
    assert parsed == (Condition("env", Op.REGEX, "prod|staging"),)
    for bad in ["x", [{"field": "a"}], [{"field": "a", "op": "like", "value": "b"}],
                [{"field": "a", "op": "regex", "value": "("}]]:  # fmt: skip
        with pytest.raises(ValueError):
            conditions_from_json(bad)


def test_conditions_from_text_round_trip():
    text = "env = prod\ninstance ~ app-[0-9]+\n\nmsg = a=b"
    parsed = conditions_from_text(text)
    assert parsed == (
        Condition("env", Op.EQUALS, "prod"),
        Condition("instance", Op.REGEX, "app-[0-9]+"),
        Condition("msg", Op.EQUALS, "a=b"),
    )
    assert conditions_from_text(conditions_as_text(parsed)) == parsed
    for bad in ["just words", "= value", "x ~ ("]:
        with pytest.raises(ValueError):
            conditions_from_text(bad)
