"""The summary of a retro: the Markdown a closed session keeps and offers for download
(pure), its Slack form within Slack's limits, and its way through the real outbox to a
local Slack receiver when the session is closed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.utils.formats import date_format

from retros.services import (
    kudos_add,
    retro_action_add,
    retro_session_close,
    retro_session_plan,
    retro_session_start,
)
from retros.summary import (
    ActionLine,
    BudgetLine,
    KudosLine,
    NoteLine,
    RetroSummary,
    ReviewLine,
    TicketLine,
    session_markdown,
)
from slos.models import OutboxKind, OutboxMessage, OutboxStatus
from slos.notifications.delivery import (
    SLACK_BLOCKS_MAX,
    SLACK_SECTION_MAX,
    slack_mrkdwn_sections,
    slack_summary,
    summary_enqueue,
)
from tests.conftest import utc
from tests.slos.notifications.test_delivery import SlackReceiver

NOW = utc(2026, 12, 9, 2, 0)


def _summary(**changes) -> RetroSummary:
    values = dict(
        team="Kintai",
        week_of=date(2026, 12, 7),
        time_zone="Asia/Tokyo",
        started_at=utc(2026, 12, 9, 1, 0),
        closed_at=utc(2026, 12, 9, 1, 31),
        facilitator="Aiko Sato",
        attendees=("Aiko Sato", "Ben Ito"),
        budgets=(
            BudgetLine(
                service="Clock-in API",
                slo="Clock-in availability",
                status="healthy",
                remaining=0.8,
                previous_remaining=0.9,
                policy_step="",
            ),
            BudgetLine(
                service="Payroll",
                slo="Payroll latency",
                status="at risk",
                remaining=0.125,
                previous_remaining=0.5,
                policy_step="Freeze risky deploys",
                release_decision="slow down",
            ),
            BudgetLine(service="Payroll", slo="Export | batch", status="no data", remaining=None),
        ),
        tickets=(
            TicketLine(
                title="Disk 85% full",
                service="Payroll",
                decision="dismiss",
                note="cleaned up\nby hand",
            ),
            TicketLine(
                title="Slow export",
                service="Payroll",
                slo="Payroll latency",
                decision="turn into a backlog item",
                backlog_item_id=42,
            ),
            TicketLine(title="Cert expires soon", carried=True),
        ),
        reviews=(
            ReviewLine(
                service="Clock-in API",
                slo="Clock-in availability",
                target=Decimal("99.9"),
                decision="tighten",
                new_target=Decimal("99.95"),
                note="a quiet quarter",
            ),
            ReviewLine(service="Payroll", slo="Payroll latency", target=Decimal("99")),
        ),
        actions_reviewed=(
            ActionLine(text="Add a runbook", owner="Ben Ito", outcome="done"),
            ActionLine(
                text="Alert on cert expiry", owner="", due_on=date(2026, 12, 1), outcome="carried"
            ),
        ),
        actions_new=(
            ActionLine(text="Split the export job", owner="Aiko Sato", due_on=date(2026, 12, 16)),
        ),
        kudos=(KudosLine(person="Ben Ito", what="Fixed the flaky probe", practice="Monitoring"),),
        notes=(
            NoteLine(section="tickets", text="Too many disk tickets", author="Ben Ito"),
            NoteLine(section="kudos", text="Thanks all"),
        ),
        url="https://portal.example/retros/7/",
    )
    values.update(changes)
    return RetroSummary(**values)


def _section(markdown: str, heading: str) -> str:
    """The text under a `## heading`, up to the next one."""
    start = markdown.index(f"## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


# --- The Markdown -----------------------------------------------------------------------


def test_the_head_names_team_week_time_facilitator_and_attendees():
    markdown = session_markdown(_summary())
    assert markdown.startswith("# Retro of Kintai, week of 7 Dec 2026\n")
    # Times in the team's zone.
    assert "held 9 Dec 2026 10:00–10:31 JST (Asia/Tokyo)" in markdown
    assert "facilitator: Aiko Sato" in markdown
    assert "attendees: Aiko Sato, Ben Ito" in markdown
    assert "[The session](https://portal.example/retros/7/)" in markdown


def test_the_numbers_put_the_burning_slo_first_with_its_change_since_last_week():
    numbers = _section(session_markdown(_summary()), "The numbers")
    rows = [line for line in numbers.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| SLO | Status | Budget left | Change since last week |")
    assert rows[1] == (
        "| Payroll / Payroll latency | at risk | 12.5% | -37.5 pts | Freeze risky deploys |"
    )
    assert rows[2] == "| Clock-in API / Clock-in availability | healthy | 80.0% | -10.0 pts | – |"
    # No data, and a pipe in a name that would break the table, last.
    assert rows[3] == "| Payroll / Export \\| batch | no data | – | – | – |"


def test_a_budget_that_grew_shows_a_plus():
    summary = _summary(
        budgets=(
            BudgetLine(
                service="S", slo="A", status="healthy", remaining=0.9, previous_remaining=0.6
            ),
        )
    )
    assert "| +30.0 pts |" in session_markdown(summary)


def test_release_ticket_and_review_decisions():
    markdown = session_markdown(_summary())
    assert "- **Payroll / Payroll latency**: slow down" in _section(markdown, "Release decisions")
    tickets = _section(markdown, "Ticket decisions")
    # A note on several lines stays on the ticket's line.
    assert "- **Disk 85% full** (Payroll): dismiss: cleaned up by hand" in tickets
    assert (
        "- **Slow export** (Payroll / Payroll latency): turn into a backlog item → backlog item #42"
        in tickets
    )
    assert "Undecided, carried to the next retro (1):" in tickets
    assert "- Cert expires soon" in tickets
    reviews = _section(markdown, "SLO reviews")
    assert (
        "- **Clock-in API / Clock-in availability** (99.9%): tighten → 99.95%: a quiet quarter"
        in reviews
    )
    assert "- **Payroll / Payroll latency** (99%): _not reviewed_" in reviews


def test_actions_with_owners_and_due_dates_kudos_and_notes():
    markdown = session_markdown(_summary())
    actions = _section(markdown, "Actions")
    assert "- Add a runbook (owner: Ben Ito): **done**" in actions
    assert "- Alert on cert expiry (no owner, due 1 Dec 2026): **carried**" in actions
    assert "### New" in actions
    assert "- Split the export job (owner: Aiko Sato, due 16 Dec 2026)" in actions
    assert "- **Ben Ito** (Monitoring): Fixed the flaky probe" in _section(markdown, "Kudos")
    notes = _section(markdown, "Notes")
    # By section, in the agenda's order.
    assert notes.index("### Kudos") < notes.index("### Error tickets")
    assert "- Too many disk tickets (Ben Ito)" in notes


def test_an_empty_session_says_so_in_every_part():
    markdown = session_markdown(RetroSummary(team="Kintai", week_of=date(2026, 12, 7)))
    for text in (
        "_No SLOs._",
        "_None recorded._",
        "_No error tickets since the last retro._",
        "_No SLO was due for review._",
        "_No actions._",
        "_No kudos this week._",
    ):
        assert text in markdown
    assert "## Notes" not in markdown


# --- Slack -------------------------------------------------------------------------------


def test_slack_form_has_bold_headings_links_bullets_and_a_table_in_a_code_block():
    body = slack_summary(session_markdown(_summary()))
    assert body["text"] == "Retro of Kintai, week of 7 Dec 2026"
    text = "\n".join(block["text"]["text"] for block in body["blocks"])
    assert "*The numbers*" in text
    assert "<https://portal.example/retros/7/|The session>" in text
    assert "• *Payroll / Payroll latency*: slow down" in text
    assert "```\nSLO  " in text
    assert "Payroll / Export | batch" in text  # the escaped pipe, plain again
    assert "**" not in text and "## " not in text


def test_slack_form_escapes_what_people_typed():
    summary = _summary(kudos=(KudosLine(person="<!channel>", what="a & b", practice="Monitoring"),))
    text = "\n".join(b["text"]["text"] for b in slack_summary(session_markdown(summary))["blocks"])
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text and "a &amp; b" in text


def test_slack_form_stays_within_slacks_limits():
    many = tuple(
        BudgetLine(
            service=f"Service {i}", slo=f"SLO {i} " + "x" * 60, status="healthy", remaining=0.5
        )
        for i in range(2000)
    )
    notes = tuple(NoteLine(section="budgets", text="y" * 5000) for _ in range(3))
    markdown = session_markdown(_summary(budgets=many, notes=notes))
    sections = slack_mrkdwn_sections(markdown)
    assert all(len(text) <= SLACK_SECTION_MAX for text in sections)
    # A table split over blocks stays a code block in each.
    assert all(text.count("```") % 2 == 0 for text in sections)
    body = slack_summary(markdown)
    assert len(body["blocks"]) <= SLACK_BLOCKS_MAX
    assert body["blocks"][-1]["text"]["text"] == "_The rest was cut._"


# --- Through the outbox ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_summary_enqueue_is_idempotent_and_needs_a_webhook(team):
    assert summary_enqueue(team=team, key="retro-summary:1", text="# Hi", at=NOW) is None
    team.slack_webhook_url = "http://127.0.0.1:9/hook"
    team.save(update_fields=["slack_webhook_url"])
    with time_machine.travel(NOW, tick=False):
        # No receiver listens on port 9: the first attempt fails, the message waits.
        message = summary_enqueue(team=team, key="retro-summary:1", text="# Hi", at=NOW)
    assert message is not None and message.kind == OutboxKind.SUMMARY
    assert summary_enqueue(team=team, key="retro-summary:1", text="# Hi", at=NOW) is None
    assert OutboxMessage.objects.filter(key="retro-summary:1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_summary_is_posted_by_the_outbox_to_the_teams_webhook(team):
    with SlackReceiver() as receiver, time_machine.travel(NOW, tick=False):
        team.slack_webhook_url = receiver.url
        team.save(update_fields=["slack_webhook_url"])
        # Committed at once (no transaction around it): the delivery task runs eagerly.
        message = summary_enqueue(
            team=team, key="retro-summary:2", text=session_markdown(_summary()), at=NOW
        )
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert receiver.texts() == ["Retro of Kintai, week of 7 Dec 2026"]
    assert "*Kudos*" in str(receiver.accepted[0]["blocks"])


def test_a_closed_sessions_summary_lands_in_the_teams_slack(
    team, slo, teammate, owner, django_capture_on_commit_callbacks
):
    with SlackReceiver() as receiver, time_machine.travel(NOW, tick=False):
        team.slack_webhook_url = receiver.url
        team.save(update_fields=["slack_webhook_url"])
        kudos_add(
            team=team,
            user=owner,
            person=teammate,
            person_name="",
            what="Quiet pager week",
            practice="monitoring",
            at=NOW,
        )
        session = retro_session_start(
            session=retro_session_plan(team=team, at=NOW), user=teammate, at=NOW
        )
        retro_action_add(
            session=session,
            user=teammate,
            text="Tune the disk alert",
            owner=owner,
            due_on=date(2026, 12, 16),
            at=NOW,
        )
        with django_capture_on_commit_callbacks(execute=True):
            retro_session_close(session=session, user=teammate, at=NOW)

    session.refresh_from_db()
    assert "Tune the disk alert (owner: owner, due 16 Dec 2026)" in session.summary
    message = OutboxMessage.objects.get(kind=OutboxKind.SUMMARY)
    assert message.status == OutboxStatus.SENT
    assert receiver.texts() == [
        f"Retro of Kintai, week of {date_format(session.week_of, 'DATE_FORMAT')}"
    ]
    posted = "\n".join(block["text"]["text"] for block in receiver.accepted[0]["blocks"])
    assert "*Kudos*" in posted and "Quiet pager week" in posted
    assert "• Tune the disk alert (owner: owner, due 16 Dec 2026)" in posted
