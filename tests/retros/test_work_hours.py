"""The retro's reliability-work section: hours logged on backlog items against the
reserved time, frozen with the agenda, and items finished since the last retro."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from retros.agenda import section_index
from retros.selectors import retro_agenda
from retros.services import retro_session_plan, retro_session_start
from tests.conftest import client_for, utc
from tests.factories import BacklogItemFactory, WorkLogEntryFactory
from toil import services

STARTED = utc(2026, 12, 2, 1, 30)  # Wednesday 10:30 in Tokyo; the week began on 30 Nov


def test_the_work_section_shows_hours_against_the_reserved_time(client, team, owner, time_machine):
    time_machine.move_to(STARTED, tick=False)
    services.backlog_settings_update(team=team, by=owner, at=STARTED, reserved_hours=Decimal(10))
    item = BacklogItemFactory(team=team, title="Retry uploads")
    finished = BacklogItemFactory(team=team, title="Tag alerts")
    services.backlog_item_update(item=finished, by=owner, at=utc(2026, 11, 30, 3), status="done")
    log = dict(team=team, person=owner, at=STARTED)
    WorkLogEntryFactory(**log, item=item, on=date(2026, 11, 24), hours=Decimal(4))
    WorkLogEntryFactory(**log, on=date(2026, 11, 25), hours=Decimal(4), toil=True)
    WorkLogEntryFactory(**log, item=item, on=date(2026, 12, 1), hours=Decimal("1.5"))

    session = retro_session_start(
        session=retro_session_plan(team=team, at=STARTED), user=owner, at=STARTED
    )
    work = retro_agenda(session, at=STARTED).work
    assert work.hours == {
        "reserved": "10.0",
        "last_week": "4.00",
        "this_week": "1.50",
        "last_week_toil_share": "50",
    }
    assert [row.title for row in work.done] == ["Tag alerts"]
    html = client_for(client, owner).get(f"/retros/{session.pk}/?section=work").content.decode()
    assert "Reserved for reliability: <strong>10 h</strong>" in html
    assert "last week: <strong>4 h</strong>; this week so far: <strong>1.5 h</strong>" in html
    work_index = section_index("work")
    shown = client.get(f"/retros/{session.pk}/present/?section={work_index}").content.decode()
    assert "Reserved for reliability: <strong>10 h</strong>" in shown
    assert 'id="work-hours"' in shown


def test_an_agenda_frozen_before_hours_existed_still_renders(client, team, owner, time_machine):
    time_machine.move_to(STARTED, tick=False)
    session = retro_session_start(
        session=retro_session_plan(team=team, at=STARTED), user=owner, at=STARTED
    )
    frozen = session.frozen
    del frozen["work"]["hours"]  # as sessions started before this section had hours
    type(session).objects.filter(pk=session.pk).update(frozen=frozen)
    response = client_for(client, owner).get(f"/retros/{session.pk}/?section=work")
    assert response.status_code == 200
    assert 'id="work-hours"' not in response.content.decode()
