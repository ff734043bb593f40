"""The hierarchy's pure rules on hand-made values: when a level is met, the next focus
of a service and of a team, the team's profile (minimum and mean), the trend, the
evidence each level gets from the portal's data, and the radar figures."""

from __future__ import annotations

from datetime import date

import pytest

from portal.hierarchy import charts
from portal.hierarchy.levels import ENABLEMENT_MET, LEVEL_KEYS, LEVELS, LEVELS_BY_KEY
from portal.hierarchy.rules import (
    CLAIMS_MORE,
    NOT_HELD,
    NOT_SEEN,
    PARTLY,
    SEEN,
    SHOWS_MORE,
    LevelAnswer,
    Round,
    ServiceFacts,
    TeamFacts,
    WeakestLevel,
    answer_vs_evidence,
    level_evidence,
    level_met,
    next_focus,
    team_next_focus,
    team_profile,
    team_trend,
    weakest_level,
)
from retros.models import HierarchyPractice

TODAY = date(2026, 11, 2)


def full(level: str, enablement: int) -> LevelAnswer:
    """An answer with every checklist item ticked."""
    return LevelAnswer(level, enablement, frozenset(LEVELS_BY_KEY[level].item_keys))


def all_met(enablement: int = 2) -> dict[str, LevelAnswer]:
    return {key: full(key, enablement) for key in LEVEL_KEYS}


def test_the_levels_are_the_hierarchy_bottom_up_and_match_the_kudos_practices():
    assert LEVEL_KEYS == (
        "monitoring",
        "incident_response",
        "postmortems",
        "testing_release",
        "capacity_planning",
        "development",
        "product",
    )
    assert list(LEVEL_KEYS) == list(HierarchyPractice.values)
    for level in LEVELS:
        assert 3 <= len(level.checklist) <= 4
        assert len(set(level.item_keys)) == len(level.item_keys)


def test_a_level_is_met_from_enablement_2_with_its_whole_checklist():
    monitoring = LEVELS_BY_KEY["monitoring"]
    assert ENABLEMENT_MET == 2
    assert level_met(full("monitoring", 2))
    assert level_met(full("monitoring", 3))
    assert not level_met(full("monitoring", 1))  # the SRE still does it
    missing_one = frozenset(monitoring.item_keys[1:])
    assert not level_met(LevelAnswer("monitoring", 3, missing_one))
    assert not level_met(None)  # not answered
    # A key that is not on the checklist counts for nothing.
    padded = LevelAnswer("monitoring", 2, missing_one | {"made_up"})
    assert not level_met(padded)


def test_the_next_focus_is_the_lowest_unmet_level_even_when_a_higher_one_scores_lower():
    answers = all_met(3)
    answers["product"] = full("product", 0)
    answers["incident_response"] = LevelAnswer(
        "incident_response", 3, frozenset({"on_call", "routed", "mitigate_first"})
    )
    focus = next_focus(answers)
    assert focus.level == "incident_response"
    assert focus.enablement == 3 and not focus.enablement_short
    assert [item.key for item in focus.missing] == ["runbooks"]

    answers["incident_response"] = full("incident_response", 3)
    focus = next_focus(answers)
    assert (focus.level, focus.enablement, focus.enablement_short) == ("product", 0, True)
    assert focus.missing == ()

    assert next_focus(all_met()) is None
    unanswered = next_focus({})
    assert unanswered.level == "monitoring" and unanswered.enablement is None
    assert len(unanswered.missing) == len(LEVELS_BY_KEY["monitoring"].checklist)


def test_the_team_level_is_the_minimum_across_services_with_the_mean_beside_it():
    strong = all_met(3)
    weak = all_met(3) | {"monitoring": full("monitoring", 0)}
    half = {"monitoring": full("monitoring", 3)}  # answered monitoring only
    profile = {row.level: row for row in team_profile([strong, strong, strong, weak])}
    monitoring = profile["monitoring"]
    assert (monitoring.minimum, monitoring.mean) == (0, 2.25)
    assert (monitoring.met, monitoring.services) == (3, 4)

    profile = {row.level: row for row in team_profile([strong, half])}
    assert profile["product"].minimum == 0  # not answered counts as 0
    assert profile["product"].mean == 1.5
    assert team_profile([]) == []


def test_the_team_next_focus_names_the_services_where_it_is_unmet():
    services = {
        "Clock-in API": all_met(),
        "Payroll export": all_met() | {"postmortems": full("postmortems", 1)},
        "Admin console": all_met() | {"product": full("product", 0)},
    }
    focus = team_next_focus(services)
    assert (focus.level, focus.minimum, focus.services) == ("postmortems", 1, ("Payroll export",))
    assert team_next_focus({"Clock-in API": all_met()}) is None
    assert team_next_focus({}) is None


def test_the_weakest_level_is_the_next_focus_or_the_lowest_when_all_are_met():
    services = [all_met(3), all_met(3) | {"development": full("development", 1)}]
    assert weakest_level(services) == WeakestLevel("development", "Development", 1)
    met = all_met(3) | {"product": full("product", 2), "postmortems": full("postmortems", 2)}
    assert weakest_level([met]) == WeakestLevel(
        "postmortems", "Postmortems and retros", 2, met=True
    )
    assert weakest_level([]) is None


def test_the_trend_takes_each_service_as_it_stood_on_each_day():
    first = {"monitoring": full("monitoring", 1)}
    later = {"monitoring": full("monitoring", 3)}
    rounds = [
        Round(service_id=1, assessed_on=date(2026, 9, 1), answers=first, id=1),
        Round(service_id=2, assessed_on=date(2026, 9, 8), answers=later, id=2),
        Round(service_id=1, assessed_on=date(2026, 10, 1), answers=later, id=3),
    ]
    trend = [(day, profile[0].minimum, profile[0].services) for day, profile in team_trend(rounds)]
    assert trend == [
        (date(2026, 9, 1), 1, 1),
        (date(2026, 9, 8), 1, 2),  # service 1 still at its first round
        (date(2026, 10, 1), 3, 2),
    ]


# Evidence ---------------------------------------------------------------------------

MEASURED = ServiceFacts(
    slos=2,
    slos_with_data=2,
    hours_with_data=2 * 7 * 24,
    alerts=4,
    alerts_on_slos=3,
    alerts_delivered=4,
    intake_sources=1,
    slos_with_policy=2,
    slos_with_freeze=1,
    release_decisions=1,
    deploys=3,
    incidents=1,
    review_due=(date(2026, 12, 1), TODAY),
    slos_from_hearings=1,
    reliability_done=1,
)
PRACTISED = TeamFacts(
    routing_rules=4,
    intake_sources=2,
    retro_weeks=4,
    actions_due=4,
    actions_done=3,
    stale_tickets=0,
    reserved_hours=12,
    reliability_done=2,
    hearings=1,
    last_hearing_on=date(2026, 8, 1),
    kudos={"capacity_planning": 2},
)


def verdicts(service: ServiceFacts, team: TeamFacts) -> dict[str, str]:
    return {
        key: evidence.verdict
        for key, evidence in level_evidence(service, team, today=TODAY).items()
    }


def test_a_practising_team_shows_evidence_on_every_level_the_portal_can_see():
    assert verdicts(MEASURED, PRACTISED) == {
        "monitoring": SEEN,
        "incident_response": SEEN,
        "postmortems": SEEN,
        "testing_release": SEEN,
        "capacity_planning": NOT_HELD,  # kudos are context, not proof
        "development": SEEN,
        "product": SEEN,
    }
    evidence = level_evidence(MEASURED, PRACTISED, today=TODAY)
    texts = [finding.text for finding in evidence["monitoring"].findings]
    assert "2 of 2 SLOs had data in the last 7 days (coverage 100.0%)." in texts
    assert "3 of 4 alerts in the last 28 days came from an SLO." in texts
    assert "0 error tickets decided in the last 28 days." in [
        finding.text for finding in evidence["postmortems"].findings
    ]
    capacity = [finding.text for finding in evidence["capacity_planning"].findings]
    assert any("No evidence the portal can hold" in text for text in capacity)
    assert any("2 kudos for this work" in text for text in capacity)


def test_a_service_without_slos_or_practice_shows_none():
    nothing = verdicts(ServiceFacts(), TeamFacts())
    assert nothing["monitoring"] == NOT_SEEN
    assert nothing["incident_response"] == NOT_SEEN
    assert nothing["testing_release"] == NOT_SEEN
    assert nothing["development"] == NOT_SEEN
    assert nothing["product"] == NOT_SEEN
    assert nothing["postmortems"] == PARTLY  # no open ticket is left to rot
    evidence = level_evidence(ServiceFacts(), TeamFacts(), today=TODAY)
    assert evidence["monitoring"].for_item("slos_defined").met is False


@pytest.mark.parametrize(
    ("service", "team", "level", "item", "met"),
    [
        # One SLO of two silent last week.
        ({"slos_with_data": 1, "hours_with_data": 168}, {}, "monitoring", "data_flowing", False),
        # Most pages from host alerts, not from SLOs.
        ({"alerts_on_slos": 1}, {}, "monitoring", "alerts_on_symptoms", False),
        ({}, {"retro_weeks": 2}, "postmortems", "weekly_retro", False),
        ({}, {"retro_weeks": 3}, "postmortems", "weekly_retro", True),
        ({}, {"actions_done": 2}, "postmortems", "actions_followed", False),
        ({}, {"stale_tickets": 1}, "postmortems", "tickets_decided", False),
        ({}, {"routing_rules": 0}, "incident_response", "routed", False),
        ({}, {"intake_sources": 0}, "incident_response", "routed", False),
        ({"slos_with_policy": 1}, {}, "testing_release", "budget_policy", False),
        ({"release_decisions": 0}, {}, "testing_release", "release_decisions", False),
        ({}, {"reserved_hours": 0}, "development", "reserved_time", False),
        ({}, {"reliability_done": 0}, "development", "reliability_done", False),
        # A review due yesterday is overdue; one due today is on time.
        ({"review_due": (TODAY, date(2026, 11, 1))}, {}, "product", "slos_reviewed", False),
        ({"review_due": (TODAY, None)}, {}, "product", "slos_reviewed", False),
        ({}, {"hearings": 0}, "product", "users_heard", False),
    ],
)
def test_each_evidence_rule_judges_its_item(service, team, level, item, met):
    facts = ServiceFacts(**{**MEASURED.__dict__, **service})
    shared = TeamFacts(**{**PRACTISED.__dict__, **team})
    evidence = level_evidence(facts, shared, today=TODAY)[level]
    assert evidence.for_item(item).met is met
    # The other findings of the level hold: this one alone decides whether all are seen.
    assert (evidence.verdict == SEEN) is met


def test_the_answer_and_the_evidence_disagree_only_when_far_apart():
    evidence = level_evidence(MEASURED, PRACTISED, today=TODAY)
    silent = level_evidence(ServiceFacts(), TeamFacts(), today=TODAY)
    assert answer_vs_evidence(full("monitoring", 3), silent["monitoring"]) == CLAIMS_MORE
    assert answer_vs_evidence(full("monitoring", 0), evidence["monitoring"]) == SHOWS_MORE
    assert answer_vs_evidence(None, evidence["monitoring"]) == SHOWS_MORE
    assert answer_vs_evidence(full("monitoring", 2), evidence["monitoring"]) == ""
    assert answer_vs_evidence(full("monitoring", 1), silent["monitoring"]) == ""
    # Nothing held: nothing to disagree with.
    assert answer_vs_evidence(full("capacity_planning", 3), silent["capacity_planning"]) == ""


# Charts -----------------------------------------------------------------------------


def test_the_service_radar_fills_the_latest_round_and_fades_two_before_it():
    rounds = [
        Round(service_id=1, assessed_on=date(2026, 7 + n, 1), answers=all_met(n % 4), id=n)
        for n in range(4)
    ]
    figure = charts.service_radar_figure(rounds).to_plotly_json()
    traces = figure["data"]
    assert [trace["type"] for trace in traces] == ["scatterpolar"] * 3
    latest = traces[-1]
    assert latest["fill"] == "toself"
    assert latest["r"] == [3] * 7 + [3]  # closed: back to the first point
    assert latest["theta"][0] == latest["theta"][-1] == "Monitoring"
    assert [trace["opacity"] for trace in traces] == [0.4, 0.7, 1]
    assert figure["layout"]["polar"]["radialaxis"]["range"] == [0, 3]


def test_the_team_radar_draws_the_minimum_the_mean_and_the_minimum_before():
    now = team_profile([all_met(3), all_met(1)])
    before = team_profile([all_met(1)])
    figure = charts.team_radar_figure(
        now, previous=before, previous_on=date(2026, 10, 1)
    ).to_plotly_json()
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["Minimum on 1 Oct 2026", "Mean across services", "Minimum across services"]
    assert figure["data"][2]["r"][:7] == [1] * 7
    assert figure["data"][1]["r"][:7] == [2] * 7
    trend = charts.levels_over_rounds_figure(team_trend([])).to_plotly_json()
    assert trend["data"][0]["type"] == "heatmap"
