"""The team charter: everyone in the team reads it, admins edit it, outsiders get 404;
every change is kept with who and when; bad input is refused with a message, a 400,
and nothing changed; the page reads a fixed number of queries."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from portal.charter.defaults import DEFAULT_RESPONSIBILITIES
from portal.charter.selectors import candidates_unmeasured
from portal.charter.services import (
    FeatureHeard,
    charter_update,
    hearing_record,
    responsibility_add,
)
from portal.demo.base import TEAM_SLUG
from portal.models import Charter, CharterChange, CharterChangeKind, Responsibility, Team
from tests.conftest import client_for, utc

NOW = utc(2026, 11, 2, 9, 30)


def charter_url(team) -> str:
    return reverse("charter:detail", args=[team.slug])


def edit(client, team, **data):
    return client.post(reverse("charter:edit", args=[team.slug]), data)


def test_everyone_in_the_team_reads_the_charter_and_outsiders_get_404(
    client, team, owner, teammate, viewer, outsider
):
    Team.objects.filter(pk=team.pk).update(mission="Every clock-in counted.")
    for user in (owner, teammate, viewer):
        response = client_for(client, user).get(charter_url(team))
        assert response.status_code == 200
        assert "Every clock-in counted." in response.content.decode()
    assert client_for(client, outsider).get(charter_url(team)).status_code == 404
    client.logout()
    assert client.get(charter_url(team))["Location"].startswith("/accounts/login/")


def test_the_team_page_links_to_the_charter(client, team, viewer):
    page = client_for(client, viewer).get(reverse("team_detail", args=[team.slug]))
    assert charter_url(team) in page.content.decode()


def test_every_shape_is_explained_and_the_chosen_one_marked(client, team, owner, viewer):
    charter_update(team=team, by=owner, at=NOW, mission="", sre_shape="enabling")
    page = client_for(client, viewer).get(charter_url(team)).content.decode()
    assert "Core SRE" in page and "Embedded SRE" in page
    assert "makes the team able to do SRE work itself" in page
    assert 'id="shape-enabling" aria-current="true"' in page
    assert 'id="shape-core" aria-current' not in page
    # Only admins are offered the forms.
    assert 'id="charter-form"' not in page
    assert 'id="charter-form"' in client_for(client, owner).get(charter_url(team)).content.decode()


@time_machine.travel(NOW, tick=False)
def test_an_admin_edits_the_charter_and_the_history_keeps_who_and_when(client, team, owner):
    client_for(client, owner)
    response = edit(client, team, mission="  Payroll on time.  ", sre_shape="embedded")
    assert response.status_code == 302
    response = edit(client, team, mission="Payroll on time, every month.", sre_shape="enabling")
    assert response.status_code == 302

    team.refresh_from_db()
    assert team.mission == "Payroll on time, every month."
    charter = Charter.objects.get(team=team)
    assert charter.sre_shape == "enabling"
    assert (charter.updated_by, charter.updated_at) == (owner, NOW)
    changes = list(CharterChange.objects.filter(team=team).order_by("pk"))
    assert [(c.kind, c.before, c.after) for c in changes] == [
        (CharterChangeKind.MISSION, "", "Payroll on time."),
        (CharterChangeKind.SRE_SHAPE, "", "embedded"),
        (CharterChangeKind.MISSION, "Payroll on time.", "Payroll on time, every month."),
        (CharterChangeKind.SRE_SHAPE, "embedded", "enabling"),
    ]
    assert {(c.changed_by, c.changed_at) for c in changes} == {(owner, NOW)}

    history = client.get(charter_url(team)).content.decode()
    history = history[history.index('id="history"') :]
    assert "Mission changed" in history and "SRE shape changed" in history
    assert "<del>Embedded SRE</del> → <ins>Enabling SRE</ins>" in history
    assert "2 Nov 2026 18:30 JST" in history  # the team's time (Asia/Tokyo)
    assert "owner" in history


def test_saving_the_same_charter_records_nothing(client, team, owner):
    charter_update(team=team, by=owner, at=NOW, mission="Same.", sre_shape="core")
    before = CharterChange.objects.count()
    response = edit(client_for(client, owner), team, mission="Same.", sre_shape="core")
    assert response.status_code == 302
    assert CharterChange.objects.count() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mission": "New", "sre_shape": "devops"}, "Choose core, embedded or enabling."),
        ({"mission": "New"}, "Choose how the team works with its SRE."),
        ({"mission": "x" * 2001, "sre_shape": "core"}, "at most 2000 characters"),
    ],
)
def test_bad_charter_input_is_refused_and_changes_nothing(client, team, owner, data, message):
    charter_update(team=team, by=owner, at=NOW, mission="Kept.", sre_shape="enabling")
    before = CharterChange.objects.count()
    response = edit(client_for(client, owner), team, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    team.refresh_from_db()
    assert team.mission == "Kept."
    assert Charter.objects.get(team=team).sre_shape == "enabling"
    assert CharterChange.objects.count() == before


def test_members_and_viewers_cannot_edit_and_outsiders_get_404(
    client, team, teammate, viewer, outsider
):
    resp = responsibility_add(
        team=team, by=None, at=NOW, description="Be on call", party="developers"
    )
    before = CharterChange.objects.count()
    writes = [
        (reverse("charter:edit", args=[team.slug]), {"mission": "Mine", "sre_shape": "core"}),
        (
            reverse("charter:responsibility_add", args=[team.slug]),
            {"description": "Mine", "party": "sre"},
        ),
        (
            reverse("charter:responsibility_edit", args=[team.slug, resp.pk]),
            {"description": "Mine", "party": "sre"},
        ),
        (
            reverse("charter:responsibility_delete", args=[team.slug, resp.pk]),
            {"confirm": "yes"},
        ),
        (reverse("charter:responsibilities_adopt", args=[team.slug]), {}),
    ]
    for user, status in ((teammate, 403), (viewer, 403), (outsider, 404)):
        client_for(client, user)
        for url, data in writes:
            assert client.post(url, data).status_code == status, (user, url)
    resp.refresh_from_db()
    assert (resp.description, resp.party) == ("Be on call", "developers")
    assert Responsibility.objects.filter(team=team).count() == 1
    assert CharterChange.objects.count() == before
    team.refresh_from_db()
    assert team.mission == ""


def test_another_teams_responsibility_is_not_found_through_my_team(client, team, owner, other_team):
    theirs = responsibility_add(team=other_team, by=None, at=NOW, description="Theirs", party="sre")
    client_for(client, owner)
    url = reverse("charter:responsibility_edit", args=[team.slug, theirs.pk])
    assert client.post(url, {"description": "Mine", "party": "shared"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.description == "Theirs"


def test_a_new_charter_suggests_the_split_and_an_admin_puts_it_on(client, team, owner, viewer):
    page = client_for(client, viewer).get(charter_url(team)).content.decode()
    assert 'id="suggested-split"' in page
    assert str(DEFAULT_RESPONSIBILITIES[0][0]) in page
    assert "adopt-suggested" not in page  # a viewer reads, does not adopt

    client_for(client, owner)
    response = client.post(reverse("charter:responsibilities_adopt", args=[team.slug]))
    assert response.status_code == 302
    stored = list(team.responsibilities.values_list("description", "party"))
    assert stored == [(str(text), party) for text, party in DEFAULT_RESPONSIBILITIES]
    assert {"sre", "developers", "shared"} == {party for _, party in stored}
    change = CharterChange.objects.get(team=team)
    assert change.kind == CharterChangeKind.RESPONSIBILITIES_ADOPTED
    assert change.changed_by == owner

    again = client.post(reverse("charter:responsibilities_adopt", args=[team.slug]))
    assert again.status_code == 400
    assert "already lists responsibilities" in again.content.decode()
    assert team.responsibilities.count() == len(DEFAULT_RESPONSIBILITIES)


@time_machine.travel(NOW, tick=False)
def test_an_admin_adds_reassigns_and_removes_responsibilities_with_history(client, team, owner):
    client_for(client, owner)
    add = reverse("charter:responsibility_add", args=[team.slug])
    assert client.post(add, {"description": "Write runbooks", "party": "sre"}).status_code == 302
    resp = Responsibility.objects.get(team=team)
    assert resp.party == "sre"

    url = reverse("charter:responsibility_edit", args=[team.slug, resp.pk])
    response = client.post(url, {"description": "Write runbooks", "party": "developers"})
    assert response.status_code == 302
    response = client.post(url, {"description": "Write and keep runbooks", "party": "developers"})
    assert response.status_code == 302

    delete = reverse("charter:responsibility_delete", args=[team.slug, resp.pk])
    asked = client.post(delete)
    assert asked.status_code == 200
    assert "Remove “Write and keep runbooks” from the charter?" in asked.content.decode()
    assert Responsibility.objects.filter(pk=resp.pk).exists()
    assert client.post(delete, {"confirm": "yes"}).status_code == 302
    assert not Responsibility.objects.filter(pk=resp.pk).exists()

    changes = list(CharterChange.objects.filter(team=team).order_by("pk"))
    assert [(c.kind, c.subject, c.before, c.after) for c in changes] == [
        ("resp_added", "Write runbooks", "", "sre"),
        ("resp_changed", "Write runbooks", "sre", "developers"),
        ("resp_changed", "Write and keep runbooks", "Write runbooks", "Write and keep runbooks"),
        ("resp_removed", "Write and keep runbooks", "developers", ""),
    ]
    history = client.get(charter_url(team)).content.decode()
    history = history[history.index('id="history"') :]
    assert "Responsibility changed</strong>: Write runbooks" in history
    assert "<del>SRE</del> → <ins>Developers</ins>" in history
    assert "<del>Write runbooks</del> → <ins>Write and keep runbooks</ins>" in history
    assert "Responsibility removed" in history


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"description": "   ", "party": "sre"}, "Say what the responsibility is."),
        ({"description": "Tune alerts", "party": "managers"}, "Choose SRE, developers or shared."),
        ({"description": "be ON call", "party": "sre"}, "already lists that responsibility"),
        ({"description": "x" * 201, "party": "sre"}, "at most 200 characters"),
    ],
)
def test_bad_responsibilities_are_refused_and_change_nothing(client, team, owner, data, message):
    kept = responsibility_add(
        team=team, by=owner, at=NOW, description="Be on call", party="developers"
    )
    other = responsibility_add(team=team, by=owner, at=NOW, description="Other", party="sre")
    before = CharterChange.objects.count()
    client_for(client, owner)
    added = client.post(reverse("charter:responsibility_add", args=[team.slug]), data)
    assert added.status_code == 400
    assert message in added.content.decode()
    changed = client.post(reverse("charter:responsibility_edit", args=[team.slug, other.pk]), data)
    assert changed.status_code == 400
    assert message in changed.content.decode()
    assert list(team.responsibilities.values_list("description", "party")) == [
        (kept.description, kept.party),
        ("Other", "sre"),
    ]
    assert CharterChange.objects.count() == before


def _fill(team, owner, n: int) -> None:
    for i in range(n):
        responsibility_add(team=team, by=owner, at=NOW, description=f"Duty {i}", party="shared")
        charter_update(team=team, by=owner, at=NOW, mission=f"Mission {i}", sre_shape="core")
        hearing_record(
            team=team,
            by=owner,
            at=NOW,
            held_on=date(2026, 10, 1),
            heard=f"Group {i}",
            pains="",
            features=[FeatureHeard(f"Feature {i}", "it works"), FeatureHeard(f"More {i}", "ok")],
        )


@pytest.mark.parametrize("count", [1, 15])
def test_the_charter_page_reads_a_fixed_number_of_queries(
    client, team, owner, count, django_assert_num_queries
):
    _fill(team, owner, count)
    client_for(client, owner)
    # session, user, team, membership; charter, responsibilities, changes, candidates,
    # hearings
    with django_assert_num_queries(9):
        response = client.get(charter_url(team))
    assert response.status_code == 200
    assert response.content.decode().count('class="candidate"') == 2 * count


def test_team_settings_no_longer_edit_the_mission(client, team, owner):
    """The mission has one home, the charter, where its changes are kept."""
    charter_update(team=team, by=owner, at=NOW, mission="Kept.", sre_shape="core")
    client_for(client, owner).post(
        reverse("team_settings", args=[team.slug]),
        {
            "name": "Kintai",
            "mission": "Changed behind the charter's back",
            "time_zone": "Asia/Tokyo",
            "budget_at_risk_below": "25",
            "no_data_after_hours": "3",
        },
    )
    team.refresh_from_db()
    assert team.mission == "Kept."


def test_the_demo_team_has_a_charter_and_a_hearing_with_one_feature_unmeasured(client, db):
    call_command("seed_demo", stdout=None)
    team = Team.objects.get(slug=TEAM_SLUG)
    assert team.charter.sre_shape == "enabling"
    assert team.responsibilities.count() == len(DEFAULT_RESPONSIBILITIES)
    hearing = team.hearings.get()
    measured = {c.feature: sorted(s.name for s in c.slos.all()) for c in hearing.candidates.all()}
    assert len(measured) == 3
    assert sum(1 for names in measured.values() if names) == 2
    assert [c.feature for c in candidates_unmeasured(team)] == ["Paid-leave requests"]
    client_for(client, team.memberships.get(user__username="pm").user)
    page = client.get(charter_url(team)).content.decode()
    assert "Paid-leave requests" in page and "Mission changed" in page
