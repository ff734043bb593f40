"""Backlog items from a spreadsheet: checked and previewed with nothing saved, then
created all at once on confirmation; every bad file changes nothing and says which row
and column to correct."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tests.conftest import client_for, utc
from tests.factories import BacklogItemFactory, MembershipFactory, SLOFactory
from toil.models import BacklogItem
from toil.transfer.spreadsheet import read_import

NOW = utc(2026, 12, 2, 3)
HEADER = "title,kind,impact,likelihood,size,status,toil_hours_per_month,owner,slo,tracker_url"


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def url(team) -> str:
    return f"/backlog/{team.slug}/import/"


def upload(client, team, text: str | bytes, name: str = "backlog.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(url(team), {"file": SimpleUploadedFile(name, data, "text/csv")})


def good_file(teammate) -> str:
    return "\n".join(
        [
            HEADER,
            f"Automate cert renewal,toil,1,3,S,ready,6,{teammate.username},,https://tracker.example/1",
            "Runbook for failover,Operability,2,1,m,,,,Clock-in availability,",
            "Patch the base image,security,3,2,XS,in_progress,0.5,,,",
        ]
    )


def test_members_see_the_upload_form(client, team, teammate, now):
    response = client_for(client, teammate).get(url(team))
    assert response.status_code == 200
    assert 'type="file"' in response.content.decode()


def test_a_good_file_previews_then_imports_all(client, team, teammate, slo, now):
    client_for(client, teammate)
    response = upload(client, team, "\ufeff" + good_file(teammate))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: 3 items, nothing imported yet" in html
    assert "Automate cert renewal" in html and "Clock-in availability" in html
    assert not BacklogItem.objects.exists()

    payload = response.context["payload"]
    response = client.post(url(team), {"payload": payload})
    assert response.status_code == 302
    assert response["Location"] == f"/backlog/{team.slug}/plan/"
    items = {item.title: item for item in BacklogItem.objects.all()}
    assert set(items) == {"Automate cert renewal", "Runbook for failover", "Patch the base image"}
    assert {item.created_by for item in items.values()} == {teammate}
    assert {item.team for item in items.values()} == {team}
    cert = items["Automate cert renewal"]
    assert (cert.owner, cert.status, cert.toil_relief, cert.tracker_url) == (
        teammate,
        "ready",
        2,
        "https://tracker.example/1",
    )
    runbook = items["Runbook for failover"]
    assert (runbook.slo, runbook.kind, runbook.effort, runbook.status) == (
        slo,
        "operability",
        "M",
        "proposed",
    )
    # The same confirmation twice imports nothing more: it is checked again, and the
    # titles are taken now.
    response = client.post(url(team), {"payload": payload})
    assert response.status_code == 400
    assert "already has this title" in response.content.decode()
    assert BacklogItem.objects.count() == 3


def test_columns_in_any_order_any_case_labels_and_no_bom(client, team, owner, now):
    text = (
        "Size,LIKELIHOOD,Impact,Description,Kind,Title\r\n"
        'xl,Happening now,Many users,"Two lines,\nwith a comma",Tech debt,Retire the old queue\r\n'
        "S,0,0,,tech_debt,Tidy dashboards\r\n"
    )
    client_for(client, owner)
    payload = upload(client, team, text).context["payload"]
    assert client.post(url(team), {"payload": payload}).status_code == 302
    queue = BacklogItem.objects.get(title="Retire the old queue")
    assert (queue.kind, queue.impact, queue.likelihood, queue.effort) == ("tech_debt", 3, 3, "XL")
    assert queue.description == "Two lines,\nwith a comma"
    assert BacklogItem.objects.get(title="Tidy dashboards").toil_hours_per_month == 0


def test_english_labels_are_understood_in_any_language(team):
    with translation.override("ja"):
        check = read_import(
            "title,kind,impact,likelihood,size\nA,Tech debt,Some users,May happen,L\n",
            members={},
            slos={},
            open_titles=[],
        )
    assert check.ok, check.errors
    assert (check.rows[0].kind, check.rows[0].impact, check.rows[0].likelihood) == (
        "tech_debt",
        2,
        1,
    )


ROW_ERRORS = [
    (f"{HEADER}\nA,chores,1,1,S,,,,,\n", 2, "kind", "is not allowed for kind"),
    (f"{HEADER}\nA,toil,4,1,S,,,,,\n", 2, "impact", "is not allowed for impact"),
    (f"{HEADER}\nA,toil,1,-1,S,,,,,\n", 2, "likelihood", "is not allowed for likelihood"),
    (f"{HEADER}\nA,toil,1,1,XXL,,,,,\n", 2, "size", "is not allowed for size"),
    (f"{HEADER}\nA,toil,1,1,S,started,,,,\n", 2, "status", "is not allowed for status"),
    (f"{HEADER}\nA,toil,1,1,S,,1e9,,,\n", 2, "toil_hours_per_month", "toil hours a month"),
    (f"{HEADER}\nA,toil,1,1,S,,NaN,,,\n", 2, "toil_hours_per_month", "toil hours a month"),
    (f"{HEADER}\nA,toil,1,1,S,,-2,,,\n", 2, "toil_hours_per_month", "toil hours a month"),
    (f"{HEADER}\nA,toil,1,1,S,,,stranger,,\n", 2, "owner", "is not a member"),
    (f"{HEADER}\nA,toil,1,1,S,,,,Their SLO,\n", 2, "slo", "no SLO named"),
    (f"{HEADER}\nA,toil,1,1,S,,,,,javascript:alert(1)\n", 2, "tracker_url", "http:// or https://"),
    (f"{HEADER}\nA,toil,1,1,S,,,,,ftp://files.example/a\n", 2, "tracker_url", "http://"),
    (
        f"{HEADER}\nA,toil,1,1,S,,,,,\nB,toil,1,1,S,,,,,\na,toil,1,1,S,,,,,\n",
        4,
        "title",
        "same title is on row 2",
    ),
    (f"{HEADER}\nGood,toil,1,1,S,,,,,\nTaken,toil,1,1,S,,,,,\n", 3, "title", "already has this"),
    (f"{HEADER}\n,toil,1,1,S,,,,,\n", 2, "title", "Give a title"),
    (f"{HEADER}\n{'x' * 201},toil,1,1,S,,,,,\n", 2, "title", "Give a title"),
    (f"{HEADER}\nA,toil,1\n", 2, "—", "has 3 cells"),
]


@pytest.mark.parametrize(("text", "row", "column", "message"), ROW_ERRORS)
def test_bad_values_change_nothing_and_name_the_row_and_column(
    client, team, owner, other_team, now, text, row, column, message
):
    SLOFactory(service__team=other_team, name="Their SLO")
    MembershipFactory(team=other_team, user__username="stranger")
    BacklogItemFactory(team=team, title="Taken")
    response = upload(client_for(client, owner), team, text)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<tr data-row="{row}"><td class="num">{row}</td><td>{column}</td>' in html
    assert message in html
    assert "Nothing was imported" in html
    assert "payload" not in response.context or not response.context["payload"]
    assert BacklogItem.objects.count() == 1


FILE_ERRORS = [
    ("title,kind,impact\nA,toil,1\n", "missing: likelihood, size"),
    ("title,kind,impact,likelihood,size,colour\nA,toil,1,1,S,red\n", "not understood: colour"),
    ("title,kind,impact,likelihood,size,title\nA,toil,1,1,S,B\n", "a column twice"),
    ("", "The file is empty"),
    ("\n \n", "The file is empty"),
    (HEADER + "\n", "no rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    ("title,kind,impact,likelihood,size\nCaf\xe9,toil,1,1,S\n".encode("latin-1"), "not UTF-8"),
    (
        HEADER + "\n" + "\n".join(f"T{n},toil,1,1,S,,,,," for n in range(2001)),
        "more than 2000 rows",
    ),
    (HEADER + "\n" + "x" * 1_000_001, "larger than"),
    (f'{HEADER}\n"{"x" * 200_000}",toil,1,1,S,,,,,\n', "not a readable CSV"),
]


@pytest.mark.parametrize(("text", "message"), FILE_ERRORS)
def test_bad_files_change_nothing(client, team, owner, now, text, message):
    BacklogItemFactory(team=team, title="Taken")
    response = upload(client_for(client, owner), team, text)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert BacklogItem.objects.count() == 1


def test_2000_rows_are_allowed(client, team, owner, now):
    text = HEADER + "\n" + "\n".join(f"T{n},toil,1,1,S,,,,," for n in range(2000))
    response = upload(client_for(client, owner), team, text)
    assert response.status_code == 200
    assert "Preview: 2000 items" in response.content.decode()


def test_no_file_is_a_400(client, team, owner, now):
    response = client_for(client, owner).post(url(team), {})
    assert response.status_code == 400
    assert "Choose a CSV file" in response.content.decode()


def test_a_tampered_or_foreign_confirmation_is_refused(
    client, team, other_team, owner, teammate, now
):
    MembershipFactory(team=other_team, user=owner)
    client_for(client, owner)
    payload = upload(client, team, f"{HEADER}\nA,toil,1,1,S,,,,,\n").context["payload"]
    for forged in (payload[:-2] + "xx", "", "A,toil,1,1,S", "x" * 2_000_001):
        response = client.post(url(team), {"payload": forged})
        assert response.status_code == 400
        assert "expired or was changed" in response.content.decode()
    # Signed for this team and this user: not another team, not another person.
    assert client.post(url(other_team), {"payload": payload}).status_code == 400
    client_for(client, teammate)
    assert client.post(url(team), {"payload": payload}).status_code == 400
    assert not BacklogItem.objects.exists()


def test_an_expired_preview_is_refused(client, team, owner, time_machine):
    time_machine.move_to(NOW, tick=False)
    client_for(client, owner)
    payload = upload(client, team, f"{HEADER}\nA,toil,1,1,S,,,,,\n").context["payload"]
    time_machine.move_to(NOW.replace(hour=5), tick=False)
    assert client.post(url(team), {"payload": payload}).status_code == 400
    assert not BacklogItem.objects.exists()


def test_roles(client, team, viewer, outsider, now):
    assert client_for(client, viewer).get(url(team)).status_code == 403
    assert upload(client, team, f"{HEADER}\nA,toil,1,1,S,,,,,\n").status_code == 403
    assert client_for(client, outsider).get(url(team)).status_code == 404
    assert upload(client, team, f"{HEADER}\nA,toil,1,1,S,,,,,\n").status_code == 404
    assert not BacklogItem.objects.exists()


def test_a_viewer_cannot_confirm_a_members_preview(client, team, owner, viewer, now):
    client_for(client, owner)
    payload = upload(client, team, f"{HEADER}\nA,toil,1,1,S,,,,,\n").context["payload"]
    client_for(client, viewer)
    assert client.post(url(team), {"payload": payload}).status_code == 403
    assert not BacklogItem.objects.exists()


def test_empty_columns_a_spreadsheet_adds_are_ignored(team):
    check = read_import(
        "title,kind,impact,likelihood,size,,\r\nA,toil,1,1,S,,\r\n",
        members={},
        slos={},
        open_titles=[],
    )
    assert check.ok, (check.problem, check.errors)
    assert [row.title for row in check.rows] == ["A"]
