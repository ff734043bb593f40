"""`manage.py slo_report`: JSON Lines that match the API, a readable table, clear errors."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portal.api_tokens import api_token_create
from portal.models import Role
from tests.factories import HandFedSLOFactory, MembershipFactory
from tests.portal.test_api import add_hand_checked_buckets

AT = "2026-11-02T09:30Z"


def run(*args: str) -> str:
    out = StringIO()
    call_command("slo_report", *args, stdout=out)
    return out.getvalue()


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def test_json_is_one_object_per_slo_with_the_hand_checked_numbers(slo):
    add_hand_checked_buckets(slo)
    HandFedSLOFactory(service=slo.service, name="Export success")

    reports = json_lines(run("--json", "--at", AT))

    assert [report["name"] for report in reports] == ["Clock-in availability", "Export success"]
    report = reports[0]
    assert (report["team"], report["service"], report["target"]) == ("kintai", "Clock-in API", 99.9)
    assert report["window"] == "28d rolling"
    assert (report["good"], report["valid"]) == (9994.0, 10000.0)
    assert report["sli"] == pytest.approx(0.9994)
    assert report["error_budget_remaining"] == pytest.approx(0.4)
    assert report["bad_events_left"] == pytest.approx(4.0)
    assert report["burn_rate_1d"] == pytest.approx(2.0)
    assert report["burn_rate_7d"] == pytest.approx(0.5)
    assert report["coverage"] == pytest.approx(3 / 672)
    assert report["status"] == "healthy"
    assert reports[1]["status"] == "no_data"


@pytest.mark.parametrize("at", [AT, "2026-10-15T00:00Z"])
def test_json_matches_the_api_for_the_same_at(client, owner, slo, other_team, at):
    add_hand_checked_buckets(slo)
    HandFedSLOFactory(service=slo.service, name="Export success", window_days=7)
    MembershipFactory(team=other_team, user=owner, role=Role.VIEWER)
    HandFedSLOFactory(service__team=other_team, service__name="Billing", name="Invoices")
    raw = api_token_create(user=owner, name="report").raw

    response = client.get(
        "/api/v1/slos", {"at": at, "team": "kintai"}, headers={"Authorization": f"Bearer {raw}"}
    )

    assert response.status_code == 200
    assert json_lines(run("--json", "--at", at, "--team", "kintai")) == response.json()


def test_without_team_every_team_is_reported(slo, other_team):
    HandFedSLOFactory(service__team=other_team, service__name="Billing", name="Invoices")

    assert {report["team"] for report in json_lines(run("--json", "--at", AT))} == {
        "kintai",
        "other",
    }
    assert [report["team"] for report in json_lines(run("--json", "--team", "other"))] == ["other"]


def test_the_table_is_readable(slo):
    add_hand_checked_buckets(slo)

    lines = run("--at", AT).splitlines()

    assert lines[0] == "Error budgets for windows ending 2026-11-02T09:00:00Z"
    assert lines[1].split() == [
        "Team",
        "Service",
        "SLO",
        "Target",
        "Window",
        "SLI",
        "Budget",
        "left",
        "Burn",
        "1d",
        "Burn",
        "7d",
        "Coverage",
        "Status",
    ]
    row = lines[2]
    assert row.startswith("kintai  Clock-in API  Clock-in availability")
    assert row.split()[-9:] == [
        "99.9%",
        "28d",
        "rolling",
        "99.940%",
        "40.0%",
        "2.00",
        "0.50",
        "0.4%",
        "healthy",
    ]


def test_no_slos_says_so(db):
    assert run("--at", AT).strip() == "No SLOs."
    assert run("--json", "--at", AT) == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "yesterday"], "--at: “yesterday” is not an ISO 8601 time"),
        (["--at", "2026-11-02T09:30"], "has no time zone"),
        (["--team", "nope"], "No team with the slug “nope”."),
    ],
)
def test_bad_arguments_are_command_errors(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("--json", *args)
