"""The retro's screens and writes over HTTP: viewers read and follow, members write,
outsiders learn nothing; bad input gets a clear 4xx and changes nothing; the follow
endpoint a meeting screen polls every second runs a fixed small number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from portal.models import Role
from retros.models import (
    ActionReview,
    RetroAction,
    RetroSession,
    SessionNote,
    SessionStatus,
    TicketDecision,
)
from retros.services import (
    retro_action_add,
    retro_note_add,
    retro_session_close,
    retro_session_plan,
    retro_session_start,
)
from tests.conftest import client_for, utc
from tests.factories import (
    HandFedSLOFactory,
    IntakeSourceFactory,
    MembershipFactory,
    NotificationFactory,
    hourly_buckets,
    hours_from,
)

NOW = utc(2025, 3, 12, 1, 30)  # Wednesday 10:30 in Tokyo
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def slo(service):
    slo = HandFedSLOFactory(service=service, name="Clock-in availability")
    # A bad day: the budget burns, so a release decision is due.
    hourly_buckets(slo, hours_from(NOW - timedelta(days=2), 24), good=900, valid=1000)
    return slo


@pytest.fixture
def ticket(team):
    return NotificationFactory(
        source=IntakeSourceFactory(team=team, kind="sentry"),
        title="Timeout talking to the cache",
        notification_class="ticket",
        first_seen_at=NOW - timedelta(hours=3),
    )


@pytest.fixture
def planned(team):
    return retro_session_plan(team=team, at=NOW)


@pytest.fixture
def live(planned, owner, slo, ticket):
    return retro_session_start(session=planned, user=owner, at=NOW)


def url(name: str, *args) -> str:
    return reverse(f"retros:{name}", args=args)


def version(session: RetroSession) -> int:
    return RetroSession.objects.values_list("version", flat=True).get(pk=session.pk)


# --- Reading --------------------------------------------------------------------------


def test_the_list_plans_each_teams_next_session(client, viewer, team, outsider, other_team):
    page = client_for(client, viewer).get(url("list"))

    assert page.status_code == 200
    planned = RetroSession.objects.get(team=team)
    assert planned.status == SessionStatus.PLANNED
    assert url("detail", planned.pk) in page.content.decode()
    assert url("present", planned.pk) in page.content.decode()
    # Planned once: a second visit finds it.
    client.get(url("list"))
    assert RetroSession.objects.filter(team=team).count() == 1
    # The other team's retro is not shown to the viewer.
    assert "Other" not in page.content.decode()


def test_a_planned_session_past_its_time_says_so(client, viewer, team):
    client = client_for(client, viewer)
    with time_machine.travel(utc(2025, 3, 10, 1, 0), tick=False):  # Monday: still ahead
        assert "data-overdue" not in client.get(url("list")).content.decode()
    html = client.get(url("list")).content.decode()  # Wednesday 10:30, it was at 10:00
    assert "data-overdue" in html
    assert "Its time was 30 minutes ago and it has not been started" in html


def test_viewer_reads_the_whole_agenda_without_forms(client, viewer, live):
    page = client_for(client, viewer).get(url("detail", live.pk))

    assert page.status_code == 200
    html = page.content.decode()
    for slug in ("kudos", "budgets", "dashboard", "tickets", "reviews", "work", "actions"):
        assert f'id="section-{slug}"' in html
    assert "Timeout talking to the cache" in html
    assert "Clock-in availability" in html
    assert url("note_add", live.pk) not in html
    assert url("close", live.pk) not in html


def test_member_gets_the_forms_of_a_live_session(client, teammate, live):
    html = client_for(client, teammate).get(url("detail", live.pk)).content.decode()

    assert url("note_add", live.pk) in html
    assert url("action_add", live.pk) in html
    item = TicketDecision.objects.get(session=live)
    assert url("ticket_decide", item.pk) in html
    assert url("release_decide", live.snapshots.get().pk) in html
    assert teammate in live.attendees.all()  # opening the live session attends it


def test_a_closed_session_is_read_only_with_its_summary(client, teammate, owner, live):
    retro_session_close(session=live, user=owner, at=NOW + timedelta(minutes=30))
    html = client_for(client, teammate).get(url("detail", live.pk)).content.decode()

    assert url("note_add", live.pk) not in html
    assert url("action_add", live.pk) not in html
    assert "data-summary" in html

    download = client.get(url("summary", live.pk))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/markdown")
    assert "attachment" in download["Content-Disposition"]
    live.refresh_from_db()
    assert download.content.decode() == live.summary


def test_a_live_sessions_summary_section_previews_what_closing_will_send(
    client, viewer, teammate, owner, live
):
    response = client_for(client, viewer).get(url("present", live.pk), {"section": 7}, **HX)
    html = response.content.decode()
    assert "data-summary-preview" in html
    assert "Clock-in availability" in html  # the budgets table of the summary
    assert "Timeout talking to the cache" in html  # the undecided ticket

    retro_note_add(session=live, user=teammate, section="summary", text="Ship on Friday", at=NOW)
    html = client.get(url("present", live.pk), {"section": 7}, **HX).content.decode()
    assert "Ship on Friday" in html.split("data-summary-preview")[1]

    retro_session_close(session=live, user=owner, at=NOW + timedelta(minutes=30))
    live.refresh_from_db()
    html = client.get(url("detail", live.pk)).content.decode()
    assert "data-summary-preview" not in html
    assert "Ship on Friday" in live.summary


def test_the_meeting_screen_and_its_section_partial(client, viewer, live):
    client = client_for(client, viewer)
    page = client.get(url("present", live.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and 'id="present"' in html
    assert 'data-section="0"' in html and 'id="section-kudos"' in html

    partial = client.get(url("present", live.pk), {"section": "3"}, **HX)
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert 'id="section-tickets"' in partial.content.decode()
    assert "HX-Request" in partial["Vary"]
    # A section out of range shows the facilitator's.
    odd = client.get(url("present", live.pk), {"section": "99"}, **HX)
    assert 'id="section-kudos"' in odd.content.decode()


def test_outsider_gets_404_everywhere(client, outsider, live):
    client = client_for(client, outsider)
    item = TicketDecision.objects.get(session=live)
    snapshot = live.snapshots.get()
    for path in (
        url("detail", live.pk),
        url("present", live.pk),
        url("follow", live.pk),
        url("summary", live.pk),
    ):
        assert client.get(path).status_code == 404, path
    before = version(live)
    for path, data in (
        (url("start", live.pk), {}),
        (url("close", live.pk), {}),
        (url("move", live.pk), {"index": 2}),
        (url("note_add", live.pk), {"section": "kudos", "text": "hi"}),
        (url("action_add", live.pk), {"text": "Fix it"}),
        (url("ticket_decide", item.pk), {"decision": "tune"}),
        (url("release_decide", snapshot.pk), {"decision": "slow"}),
    ):
        assert client.post(path, data).status_code == 404, path
    assert version(live) == before
    assert client.get(url("follow", 999999)).status_code == 404


def test_anonymous_is_sent_to_log_in(client, live):
    for path in (url("list"), url("detail", live.pk), url("follow", live.pk)):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


# --- Following ------------------------------------------------------------------------


def test_viewer_follows_and_the_poll_runs_a_fixed_number_of_queries(
    client, viewer, live, django_assert_num_queries
):
    client = client_for(client, viewer)
    client.get(url("list"))  # the session is loaded once; the poll then runs alone
    # The session and user of the login, the follow state, the membership.
    with django_assert_num_queries(4):
        answer = client.get(url("follow", live.pk))
    assert answer.status_code == 200
    assert answer.json() == {
        "version": version(live),
        "section": 0,
        "status": "live",
        "facilitator": live.facilitator_id,
        "elapsed": 0,
    }
    assert answer["Cache-Control"] == "no-store"


def test_a_member_moves_and_leads(client, teammate, live):
    answer = client_for(client, teammate).post(
        url("move", live.pk), {"index": 3}, HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 200
    assert answer.json()["section"] == 3
    assert answer.json()["facilitator"] == teammate.pk
    live.refresh_from_db()
    assert (live.current_section, live.facilitator) == (3, teammate)


def test_viewers_cannot_move_and_bad_moves_are_refused(client, viewer, teammate, live):
    before = version(live)
    assert client_for(client, viewer).post(url("move", live.pk), {"index": 2}).status_code == 403
    client = client_for(client, teammate)
    for bad in ({"index": 8}, {"index": -1}, {"index": "two"}, {}):
        answer = client.post(url("move", live.pk), bad)
        assert answer.status_code == 400, bad
        assert "section" in answer.content.decode()
    assert client.get(url("move", live.pk)).status_code == 405
    live.refresh_from_db()
    assert (live.current_section, live.version) == (0, before)


def test_a_planned_session_cannot_be_moved(client, teammate, planned):
    answer = client_for(client, teammate).post(url("move", planned.pk), {"index": 2})
    assert answer.status_code == 409
    assert "not started" in answer.content.decode()


# --- Starting and closing -------------------------------------------------------------


def test_viewer_cannot_start_member_can_once(client, viewer, teammate, planned):
    assert client_for(client, viewer).post(url("start", planned.pk)).status_code == 403
    planned.refresh_from_db()
    assert planned.status == SessionStatus.PLANNED

    client = client_for(client, teammate)
    answer = client.post(url("start", planned.pk))
    assert answer.status_code == 302
    assert answer.url == url("present", planned.pk)
    planned.refresh_from_db()
    assert planned.status == SessionStatus.LIVE
    assert planned.facilitator == teammate

    again = client.post(url("start", planned.pk))
    assert again.status_code == 409
    assert "already started" in again.content.decode()


def test_close_then_writes_are_refused_with_409(client, teammate, live):
    client = client_for(client, teammate)
    assert client.post(url("close", live.pk)).status_code == 302
    live.refresh_from_db()
    assert live.status == SessionStatus.CLOSED

    answer = client.post(url("note_add", live.pk), {"section": "kudos", "text": "late"}, **HX)
    assert answer.status_code == 409
    assert "closed" in answer.content.decode()
    assert not SessionNote.objects.exists()
    assert client.post(url("close", live.pk)).status_code == 409


# --- Writing --------------------------------------------------------------------------


def test_member_adds_a_note_and_gets_the_section_back(client, teammate, live):
    before = version(live)
    answer = client_for(client, teammate).post(
        url("note_add", live.pk),
        {"section": "budgets", "text": "  The cache again  ", "mode": "present"},
        **HX,
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert html.lstrip().startswith('<section class="agenda-section agenda-budgets"')
    assert "The cache again" in html
    note = SessionNote.objects.get()
    assert (note.section, note.text, note.author) == ("budgets", "The cache again", teammate)
    assert version(live) > before


def test_without_htmx_a_write_goes_back_to_the_page(client, teammate, live):
    answer = client_for(client, teammate).post(
        url("note_add", live.pk), {"section": "tickets", "text": "Look at the rule"}
    )
    assert answer.status_code == 302
    assert answer.url == url("detail", live.pk) + "#section-tickets"


def test_viewer_cannot_write(client, viewer, live):
    client = client_for(client, viewer)
    item = TicketDecision.objects.get(session=live)
    before = version(live)
    for path, data in (
        (url("note_add", live.pk), {"section": "kudos", "text": "hi"}),
        (url("action_add", live.pk), {"text": "Fix it"}),
        (url("ticket_decide", item.pk), {"decision": "tune"}),
        (url("release_decide", live.snapshots.get().pk), {"decision": "slow"}),
        (url("close", live.pk), {}),
    ):
        assert client.post(path, data, **HX).status_code == 403, path
    assert version(live) == before
    assert not SessionNote.objects.exists() and not RetroAction.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"section": "kudos", "text": "   "}, "Write the note first."),
        ({"section": "kudos"}, "Write the note first."),
        ({"section": "nowhere", "text": "hi"}, "There is no such section."),
        ({"section": "kudos", "text": "x" * 2001}, "2000"),
    ],
)
def test_a_bad_note_is_refused_and_changes_nothing(client, teammate, live, data, message):
    before = version(live)
    answer = client_for(client, teammate).post(url("note_add", live.pk), data, **HX)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not SessionNote.objects.exists()
    assert version(live) == before


def test_a_bad_note_without_htmx_shows_the_page_with_the_error(client, teammate, live):
    answer = client_for(client, teammate).post(url("note_add", live.pk), {"section": "work"})
    assert answer.status_code == 400
    assert "<html" in answer.content.decode()
    assert "Write the note first." in answer.content.decode()


def test_tune_opens_the_routing_policy_with_a_rule_matching_the_ticket(
    client, owner, teammate, team, live
):
    html = client_for(client, teammate).get(url("detail", live.pk)).content.decode()
    policy = reverse("slos:routing_policy", args=[team.slug])
    start = html.index(f'href="{policy}?')
    link = html[start + len('href="') : html.index('"', start + len('href="'))]
    form = client_for(client, owner).get(link.replace("&amp;", "&")).context["form"]
    assert form.initial["conditions"] == "title = Timeout talking to the cache"
    assert form.initial["source_kind"] == "sentry"
    assert form.initial["outcome"] == "ticket"


def test_ticket_decisions_over_http(client, teammate, live):
    client = client_for(client, teammate)
    item = TicketDecision.objects.get(session=live)
    path = url("ticket_decide", item.pk)

    for bad, message in (
        ({"decision": "dismiss", "note": "  "}, "Say why the ticket is dismissed."),
        ({"decision": "ignore"}, "Choose dismiss, tune, escalate or backlog."),
        ({"decision": ""}, "Choose dismiss, tune, escalate or backlog."),
    ):
        answer = client.post(path, bad, **HX)
        assert answer.status_code == 400, bad
        assert message in answer.content.decode()
    item.refresh_from_db()
    assert item.decision == ""

    answer = client.post(path, {"decision": "dismiss", "note": "Known flake"}, **HX)
    assert answer.status_code == 200
    item.refresh_from_db()
    assert (item.decision, item.note, item.decided_by) == ("dismiss", "Known flake", teammate)
    again = client.post(path, {"decision": "tune"}, **HX)
    assert again.status_code == 409
    assert "already been decided" in again.content.decode()


def test_release_decision_over_http(client, teammate, live):
    client = client_for(client, teammate)
    snapshot = live.snapshots.get()
    path = url("release_decide", snapshot.pk)

    bad = client.post(path, {"decision": "yolo"}, **HX)
    assert bad.status_code == 400
    assert "keep shipping" in bad.content.decode()
    snapshot.refresh_from_db()
    assert snapshot.release_decision == ""

    assert client.post(path, {"decision": "slow"}, **HX).status_code == 200
    snapshot.refresh_from_db()
    assert snapshot.release_decision == "slow"


def test_actions_over_http(client, teammate, owner, outsider, team, live):
    client = client_for(client, teammate)
    path = url("action_add", live.pk)
    for bad, message in (
        ({"text": ""}, "Say what the action is."),
        ({"text": "Fix it", "due_on": "next week"}, "YYYY-MM-DD"),
        ({"text": "Fix it", "owner": outsider.pk}, "The owner must be in the team."),
    ):
        answer = client.post(path, bad, **HX)
        assert answer.status_code == 400, bad
        assert message in answer.content.decode()
    assert not RetroAction.objects.exists()

    answer = client.post(
        path, {"text": "Add a cache timeout alert", "owner": owner.pk, "due_on": "2025-03-19"}, **HX
    )
    assert answer.status_code == 200
    assert "Add a cache timeout alert" in answer.content.decode()
    action = RetroAction.objects.get()
    assert (action.owner, str(action.due_on), action.opened_in) == (owner, "2025-03-19", live)


def test_action_review_over_http(client, teammate, owner, team, live):
    retro_action_add(
        session=live, user=owner, text="Add an alert", owner=owner, due_on=None, at=NOW
    )
    retro_session_close(session=live, user=owner, at=NOW + timedelta(minutes=30))
    later = NOW + timedelta(days=7)
    with time_machine.travel(later, tick=False):
        following = retro_session_start(
            session=retro_session_plan(team=team, at=later), user=owner, at=later
        )
        review = ActionReview.objects.get(session=following)
        client = client_for(client, teammate)
        path = url("action_review", review.pk)

        assert client.post(path, {"outcome": "maybe"}, **HX).status_code == 400
        review.refresh_from_db()
        assert review.outcome == ""

        assert client.post(path, {"outcome": "done"}, **HX).status_code == 200
        review.refresh_from_db()
        assert review.outcome == "done"
        assert RetroAction.objects.get().status == "done"


def test_review_over_http(client, teammate, team, service, owner):
    provisional = HandFedSLOFactory(service=service, name="Payroll export", provisional=True)
    session = retro_session_start(session=retro_session_plan(team=team, at=NOW), user=owner, at=NOW)
    item = session.reviews.get(slo=provisional)
    client = client_for(client, teammate)
    path = url("review_record", item.pk)

    for bad in (
        {"decision": "tighten", "new_target": ""},
        {"decision": "loosen", "new_target": "99.99", "note": "too strict"},
        {"decision": "bogus"},
        {"decision": "keep", "new_target": "abc"},
    ):
        assert client.post(path, bad, **HX).status_code == 400, bad
    item.refresh_from_db()
    assert item.review is None

    answer = client.post(path, {"decision": "keep", "note": ""}, **HX)
    assert answer.status_code == 200
    item.refresh_from_db()
    assert item.review.decision == "keep"


# --- The team's cadence -------------------------------------------------------------------


def test_team_settings_hold_the_retro_cadence(client, owner, team):
    client = client_for(client, owner)
    settings_url = reverse("team_settings", args=[team.slug])
    page = client.get(settings_url).content.decode()
    assert 'name="retro_weekday"' in page and 'name="retro_minutes"' in page

    base = {
        "name": team.name,
        "time_zone": team.time_zone,
        "budget_at_risk_below": "25",
        "no_data_after_hours": "3",
        "alerts_per_week_target": "5",
    }
    bad = client.post(settings_url, {**base, "retro_minutes": "5"})
    assert bad.status_code == 400
    assert "from 10 to 180 minutes" in bad.content.decode()

    good = client.post(
        settings_url,
        {**base, "retro_weekday": "4", "retro_time": "15:30", "retro_minutes": "45"},
    )
    assert good.status_code == 302
    team.refresh_from_db()
    assert (team.retro_weekday, team.retro_time.strftime("%H:%M"), team.retro_minutes) == (
        4,
        "15:30",
        45,
    )


def test_a_settings_form_without_the_cadence_keeps_it(client, owner, team):
    team.retro_minutes = 60
    team.save(update_fields=["retro_minutes"])
    answer = client_for(client, owner).post(
        reverse("team_settings", args=[team.slug]),
        {
            "name": team.name,
            "time_zone": team.time_zone,
            "budget_at_risk_below": "25",
            "no_data_after_hours": "3",
            "alerts_per_week_target": "5",
        },
    )
    assert answer.status_code == 302
    team.refresh_from_db()
    assert team.retro_minutes == 60


def test_members_of_another_role_see_the_planned_preview(client, team):
    member = MembershipFactory(team=team, user__username="newcomer", role=Role.MEMBER).user
    planned = retro_session_plan(team=team, at=NOW)
    html = client_for(client, member).get(url("detail", planned.pk)).content.decode()
    assert url("start", planned.pk) in html
    assert url("note_add", planned.pk) not in html  # notes only once it is live
