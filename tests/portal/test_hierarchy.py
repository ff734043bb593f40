"""The hierarchy pages: everyone in the team reads, members record rounds (kept, never
overwritten), outsiders get 404 on every URL; bad input is refused with a message, a
400 and nothing written; the evidence is read from the portal's own data; the pages
and the home page's weakest levels run a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from portal.charter.services import hearing_record
from portal.hierarchy.levels import LEVELS, LEVELS_BY_KEY
from portal.hierarchy.rules import LevelAnswer, WeakestLevel
from portal.hierarchy.selectors import service_facts, team_facts, weakest_levels
from portal.hierarchy.services import hierarchy_assessment_record
from portal.models import HierarchyAnswer, HierarchyAssessment, Role
from retros.models import ActionStatus, Kudos, RetroAction, RetroSession, SessionStatus
from slos.models import NotificationClass, TicketStatus
from tests.conftest import client_for, utc
from tests.factories import (
    BacklogItemFactory,
    BudgetPolicyStepFactory,
    IntakeSourceFactory,
    MembershipFactory,
    NotificationFactory,
    RoutingRuleFactory,
    ServiceFactory,
    SLOFactory,
    TeamFactory,
    hourly_buckets,
    hours_before,
)

NOW = utc(2026, 11, 2, 9, 30)  # 18:30 in Tokyo, a Monday
TODAY = date(2026, 11, 2)


def answers(enablement: int = 1, **by_level: tuple[int, list[str]]) -> list[LevelAnswer]:
    """Every level at `enablement` with its first item ticked, unless given."""
    made = []
    for level in LEVELS:
        value, checked = by_level.get(level.key, (enablement, [level.item_keys[0]]))
        made.append(LevelAnswer(level.key, value, frozenset(checked)))
    return made


def record(service, by, *, on: date = TODAY, at=NOW, **levels):
    return hierarchy_assessment_record(
        service=service, by=by, at=at, assessed_on=on, answers=answers(**levels)
    )


def post_data(**overrides) -> dict:
    """A valid round as the form posts it: every level at 1, its first item ticked."""
    data: dict = {"assessed_on": TODAY.isoformat()}
    for level in LEVELS:
        data[f"{level.key}-enablement"] = "1"
        data[f"{level.key}-checked"] = [level.item_keys[0]]
        data[f"{level.key}-note"] = ""
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def team_url(team) -> str:
    return reverse("hierarchy:team", args=[team.slug])


def service_url(team, service) -> str:
    return reverse("hierarchy:service", args=[team.slug, service.pk])


# Roles and isolation ----------------------------------------------------------------


def test_everyone_in_the_team_reads_and_outsiders_get_404_on_every_url(
    client, team, service, owner, teammate, viewer, outsider
):
    record(service, teammate, monitoring=(2, list(LEVELS_BY_KEY["monitoring"].item_keys)))
    for user in (owner, teammate, viewer):
        client_for(client, user)
        team_page = client.get(team_url(team))
        assert team_page.status_code == 200
        assert "Clock-in API" in team_page.content.decode()
        service_page = client.get(service_url(team, service))
        assert service_page.status_code == 200
        assert 'id="hierarchy-radar"' in service_page.content.decode()
    client_for(client, outsider)
    for url in (team_url(team), service_url(team, service)):
        assert client.get(url).status_code == 404
    assert client.post(service_url(team, service), post_data()).status_code == 404
    # The outsider's own team does not reach this team's service either.
    other_url = reverse("hierarchy:service", args=["other", service.pk])
    assert client.get(other_url).status_code == 404
    assert client.post(other_url, post_data()).status_code == 404
    assert HierarchyAssessment.objects.count() == 1
    client.logout()
    assert client.get(team_url(team))["Location"].startswith("/accounts/login/")


def test_viewers_read_without_the_form_and_cannot_record(client, team, service, viewer):
    client_for(client, viewer)
    page = client.get(service_url(team, service)).content.decode()
    assert 'id="assessment-form"' not in page
    assert "Done by developers with the SRE&#x27;s support" in page  # levels explained
    assert client.post(service_url(team, service), post_data()).status_code == 403
    assert not HierarchyAssessment.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_member_records_rounds_and_each_is_kept(client, team, service, teammate):
    client_for(client, teammate)
    page = client.get(service_url(team, service)).content.decode()
    assert 'id="assessment-form"' in page
    assert 'value="2026-11-02"' in page  # today in Tokyo

    monitoring = list(LEVELS_BY_KEY["monitoring"].item_keys)
    response = client.post(
        service_url(team, service),
        post_data(
            assessed_on="2026-10-01",
            **{"monitoring-enablement": "2", "monitoring-checked": monitoring},
            **{"product-note": "  Only the PM reads the SLOs.  "},
        ),
    )
    assert response.status_code == 302
    response = client.post(service_url(team, service), post_data(), follow=True)
    assert "Assessment recorded." in response.content.decode()

    rounds = list(HierarchyAssessment.objects.order_by("assessed_on"))
    assert [r.assessed_on for r in rounds] == [date(2026, 10, 1), TODAY]
    assert {(r.recorded_by, r.recorded_at) for r in rounds} == {(teammate, NOW)}
    first = {a.level: a for a in rounds[0].answers.all()}
    assert len(first) == 7
    assert (first["monitoring"].enablement, first["monitoring"].checked) == (2, monitoring)
    assert first["product"].note == "Only the PM reads the SLOs."
    # The second round did not overwrite the first; the page shows both.
    assert HierarchyAnswer.objects.count() == 14
    page = response.content.decode()
    assert page.count('class="hierarchy-round"') == 2
    assert "1 Oct 2026" in page and "2 Nov 2026" in page
    # The latest round (every level at 1) puts monitoring back as the next focus.
    focus = page[page.index('id="next-focus"') :]
    assert "Monitoring" in focus[:200]


def _checked(page: str, name: str, value: str) -> bool:
    """Whether the <input> of `name` with `value` is checked."""
    found = re.search(rf'<input [^>]*name="{name}" value="{value}"[^>]*>', page)
    assert found, (name, value)
    return re.search(r"\schecked[\s>]", found.group(0)) is not None


def test_the_form_starts_from_the_latest_round(client, team, service, teammate):
    record(service, teammate, development=(3, ["reserved_time"]))
    page = client_for(client, teammate).get(service_url(team, service)).content.decode()
    assert _checked(page, "development-enablement", "3")
    assert not _checked(page, "development-enablement", "1")
    assert _checked(page, "development-checked", "reserved_time")
    assert not _checked(page, "development-checked", "reliability_done")


# Bad input --------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"monitoring-enablement": None}, "Choose an enablement level, 0 to 3 (0: not done)."),
        ({"product-enablement": "7"}, "Choose an enablement level, 0 to 3 (0: not done)."),
        ({"postmortems-enablement": "two"}, "Choose an enablement level, 0 to 3 (0: not done)."),
        ({"monitoring-checked": ["runbooks"]}, "Tick items of this level&#x27;s checklist only."),
        ({"assessed_on": "2026-11-03"}, "The date cannot be after today."),
        ({"assessed_on": "yesterday"}, "Enter the date as YYYY-MM-DD."),
        ({"assessed_on": None}, "Give the date of the assessment."),
        ({"development-note": "x" * 1001}, "at most 1000 characters"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    client, team, service, teammate, overrides, message
):
    record(service, teammate, on=date(2026, 10, 1))
    response = client_for(client, teammate).post(service_url(team, service), post_data(**overrides))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Nothing was saved" in page
    assert HierarchyAssessment.objects.count() == 1
    assert HierarchyAnswer.objects.count() == 7


def test_the_service_refuses_a_round_that_misses_a_level_or_ticks_foreign_items(service, teammate):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="every level of the hierarchy once"):
        hierarchy_assessment_record(
            service=service, by=teammate, at=NOW, assessed_on=TODAY, answers=answers()[:-1]
        )
    foreign = answers(monitoring=(1, ["runbooks"]))
    with pytest.raises(ValidationError, match="its own checklist only"):
        hierarchy_assessment_record(
            service=service, by=teammate, at=NOW, assessed_on=TODAY, answers=foreign
        )
    with pytest.raises(ValidationError, match="0, 1, 2 or 3"):
        hierarchy_assessment_record(
            service=service,
            by=teammate,
            at=NOW,
            assessed_on=TODAY,
            answers=answers(product=(4, [])),
        )
    assert not HierarchyAssessment.objects.exists()


# Evidence from the portal's data ------------------------------------------------------


def test_the_evidence_is_read_from_the_teams_data(team, service, owner, teammate, other_team):
    measured = SLOFactory(service=service, name="Clock-ins succeed")
    silent = SLOFactory(service=service, name="Clock-ins fast", data_source=measured.data_source)
    # Every hour of the last week (the hour under way, from 09:00, included), and ten.
    hourly_buckets(measured, hours_before(utc(2026, 11, 2, 10), 7 * 24), good=99, valid=100)
    hourly_buckets(silent, hours_before(utc(2026, 11, 2, 10), 10), good=9, valid=10)
    BudgetPolicyStepFactory(slo=measured, freezes_releases=True)
    source = IntakeSourceFactory(team=team, service=service)
    RoutingRuleFactory(team=team)
    RoutingRuleFactory(team=team, enabled=False)
    NotificationFactory(
        source=source,
        slo=measured,
        notification_class=NotificationClass.ALERT,
        first_seen_at=NOW - timedelta(days=3),
    )
    NotificationFactory(
        source=source,
        service=service,
        notification_class=NotificationClass.ALERT,
        first_seen_at=NOW - timedelta(days=40),  # too old
    )
    NotificationFactory(
        source=source,
        notification_class=NotificationClass.TICKET,
        ticket_status=TicketStatus.OPEN,
        first_seen_at=NOW - timedelta(days=20),
    )
    NotificationFactory(
        source=source,
        notification_class=NotificationClass.TICKET,
        ticket_status=TicketStatus.DISMISSED,
        ticket_decided_at=NOW - timedelta(days=2),
        first_seen_at=NOW - timedelta(days=20),
    )
    for weeks_ago in (1, 2, 3, 6):
        RetroSession.objects.create(
            team=team,
            status=SessionStatus.CLOSED,
            week_of=TODAY - timedelta(weeks=weeks_ago),
        )
    session = RetroSession.objects.first()
    for status, due in [
        (ActionStatus.DONE, 3),
        (ActionStatus.OPEN, 5),
        (ActionStatus.DROPPED, 6),
        (ActionStatus.DONE, 90),
    ]:
        RetroAction.objects.create(
            team=team,
            opened_in=session,
            text="Act",
            status=status,
            due_on=TODAY - timedelta(days=due),
            created_at=NOW,
        )
    Kudos.objects.create(
        team=team, person_name="Aiko", what="Load test", practice="capacity_planning", noted_at=NOW
    )
    BacklogItemFactory(
        team=team, kind="reliability", status="done", slo=measured, at=NOW - timedelta(days=5)
    )
    BacklogItemFactory(team=team, kind="toil", status="done", at=NOW - timedelta(days=5))
    hearing_record(
        team=team,
        by=owner,
        at=NOW,
        held_on=date(2026, 8, 1),
        heard="Support",
        pains="",
        features=[],
    )
    # Another team's data counts for nothing here.
    RoutingRuleFactory(team=other_team)
    SLOFactory(service=ServiceFactory(team=other_team))

    facts = service_facts(team, at=NOW)[service.pk]
    assert (facts.slos, facts.slos_with_data, facts.hours_with_data) == (2, 1, 7 * 24 + 10)
    assert (facts.slos_with_policy, facts.slos_with_freeze) == (1, 1)
    assert (facts.alerts, facts.alerts_on_slos, facts.alerts_delivered) == (1, 1, 0)
    assert facts.intake_sources == 1
    assert facts.reliability_done == 1
    shared = team_facts(team, at=NOW)
    assert (shared.routing_rules, shared.intake_sources) == (1, 1)
    assert shared.retro_weeks == 3
    assert (shared.actions_due, shared.actions_done) == (2, 1)  # dropped and old left out
    assert (shared.stale_tickets, shared.tickets_decided) == (1, 1)
    assert shared.reliability_done == 1
    assert (shared.hearings, shared.last_hearing_on) == (1, date(2026, 8, 1))
    assert shared.kudos == {"capacity_planning": 1}


# Pages ------------------------------------------------------------------------------


def test_the_team_page_shows_every_service_the_team_radar_and_the_next_focus(
    client, team, service, teammate, viewer
):
    payroll = ServiceFactory(team=team, name="Payroll export")
    ServiceFactory(team=team, name="Admin console")
    full = {level.key: (3, list(level.item_keys)) for level in LEVELS}
    record(service, teammate, on=date(2026, 9, 1), **full)
    record(service, teammate, **full)
    record(payroll, teammate, **(full | {"postmortems": (1, ["weekly_retro"])}))
    page = client_for(client, viewer).get(team_url(team)).content.decode()
    assert page.count('class="hierarchy-service"') == 3
    focus = page[page.index('id="team-focus"') :][:400]
    assert "Postmortems and retros" in focus and "Payroll export" in focus
    assert "Clock-in API" not in focus
    assert 'data-plotly="team-radar-figure"' in page
    assert 'data-plotly="team-trend-figure"' in page
    assert "2 of 3 services assessed." in page
    assert "the minimum across its assessed services, not the mean" in page


def test_the_charter_and_the_team_page_link_to_the_hierarchy(client, team, viewer):
    client_for(client, viewer)
    for url in (
        reverse("charter:detail", args=[team.slug]),
        reverse("team_detail", args=[team.slug]),
    ):
        assert team_url(team) in client.get(url).content.decode()


# Query counts ------------------------------------------------------------------------


def _fill_team(team, by, services: int, rounds: int):
    made = []
    for index in range(services):
        service = ServiceFactory(team=team, name=f"Service {index}")
        slo = SLOFactory(service=service)
        BudgetPolicyStepFactory(slo=slo)
        for back in range(rounds):
            record(service, by, on=TODAY - timedelta(days=30 * back), enablement=back % 4)
        made.append(service)
    return made


@pytest.mark.parametrize("count", [1, 5])
def test_the_team_page_reads_a_fixed_number_of_queries(
    client, team, teammate, count, django_assert_num_queries
):
    _fill_team(team, teammate, count, rounds=count)
    client_for(client, teammate)
    # session, user, team, membership; services, rounds; the services' evidence: SLOs,
    # hours, alerts, sources, release decisions, marks, done items, service ids; the
    # team's: retros, actions, tickets, backlog settings, hearings, kudos, routing rules,
    # sources, done items
    with django_assert_num_queries(23):
        response = client.get(team_url(team))
    assert response.content.decode().count('class="hierarchy-service"') == count


@pytest.mark.parametrize("count", [1, 5])
def test_the_service_page_reads_a_fixed_number_of_queries(
    client, team, teammate, count, django_assert_num_queries
):
    (service,) = _fill_team(team, teammate, 1, rounds=count)
    client_for(client, teammate)
    # session, user, team, membership, service; the same 17 of evidence; the rounds
    with django_assert_num_queries(23):
        response = client.get(service_url(team, service))
    assert response.content.decode().count('class="hierarchy-round"') == count


def test_weakest_levels_reads_one_query_whatever_the_teams(
    team, teammate, django_assert_num_queries
):
    _fill_team(team, teammate, 1, rounds=1)
    with django_assert_num_queries(1):
        few = weakest_levels([team])
    assert few == {team.pk: WeakestLevel("monitoring", "Monitoring", 0)}

    teams = [team]
    for index in range(4):
        other = TeamFactory(name=f"Team {index}")
        member = MembershipFactory(team=other, role=Role.MEMBER).user
        services = _fill_team(other, member, 3, rounds=3)
        teams.append(other)
    full = {level.key: (3, list(level.item_keys)) for level in LEVELS}
    # The latest round of one team's every service meets every level but product at 2.
    for service in services:
        record(
            service,
            member,
            on=TODAY + timedelta(days=1),
            **(full | {"product": (2, ["slos_reviewed"])}),
        )
    empty = TeamFactory(name="Nothing assessed")
    teams.append(empty)
    with django_assert_num_queries(1):
        many = weakest_levels(teams)
    assert many[empty.pk] is None
    assert many[team.pk] == few[team.pk]
    assert many[teams[-2].pk] == WeakestLevel("product", "Product", 2)
    assert len(many) == 6
