"""The backlog as CSV: the export recomputes to the same ranking; the import previews,
then creates every row or none; bad files change nothing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import client_for, utc
from tests.factories import BacklogItemFactory, HourlyBucketFactory, MembershipFactory, SLOFactory
from toil import services
from toil.models import BacklogItem
from toil.scoring import Rankable, ScoreFactors, Weights, compute_score, rank

NOW = utc(2026, 12, 2, 3)
HEADER = "title,kind,impact,likelihood,size,status,toil_hours_per_month,owner,slo,tracker_url"


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def export(client, team) -> list[dict[str, str]]:
    response = client.get(f"/backlog/{team.slug}/plan.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_export_recomputes_to_the_same_ranking(client, team, owner, slo, now):
    valid = 100_000.0
    HourlyBucketFactory(
        slo=slo, hour=NOW.replace(minute=0) - timedelta(hours=2), good=valid - 80, valid=valid
    )
    services.backlog_settings_update(
        team=team, by=owner, at=NOW, weight_slo_risk=Decimal("2.5"), weight_age=Decimal("0.5")
    )
    old = BacklogItemFactory(team=team, title="Old", impact=1, likelihood=2, effort="S")
    BacklogItem.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(weeks=9))
    BacklogItemFactory(
        team=team, title="Risky", impact=1, likelihood=1, slo=slo, toil_hours_per_month=3
    )
    BacklogItemFactory(team=team, title="Big", impact=3, likelihood=3, effort="XL")
    pinned = BacklogItemFactory(team=team, title="Pinned", impact=0, likelihood=0)
    services.backlog_item_pin(item=pinned, reason="Audit", by=owner, at=NOW)

    rows = export(client_for(client, owner), team)
    assert rows[0]["title"] == "Pinned" and rows[0]["pinned"] == "yes"
    recomputed = []
    for row in rows:
        weights = Weights(
            impact_likelihood=Decimal(row["weight_impact_likelihood"]),
            toil_relief=Decimal(row["weight_toil_relief"]),
            slo_risk=Decimal(row["weight_slo_risk"]),
            age=Decimal(row["weight_age"]),
            age_horizon_weeks=int(row["age_horizon_weeks"]),
        )
        breakdown = compute_score(
            ScoreFactors(
                impact=int(row["impact"]),
                likelihood=int(row["likelihood"]),
                toil_relief=int(row["toil_relief"]),
                slo_risk=int(row["slo_risk"]),
                effort_points=int(row["effort_points"]),
                age_weeks=float(row["age_weeks"]),
            ),
            weights,
        )
        assert breakdown.score == float(row["score"])
        recomputed.append(
            Rankable(
                key=row["title"],
                score=breakdown.score,
                created_at=utc(2000, 1, 1) + timedelta(weeks=-float(row["age_weeks"])),
                pinned_at=NOW if row["pinned"] else None,
            )
        )
    assert rank(recomputed) == [row["title"] for row in rows]
    assert [row["place"] for row in rows] == ["1", "2", "3", "4"]
    risky = next(row for row in rows if row["title"] == "Risky")
    assert risky["slo_risk"] == "2" and float(risky["slo_budget_remaining"]) == pytest.approx(0.2)


def test_formulas_are_defused(client, team, owner, now):
    BacklogItemFactory(team=team, title='=HYPERLINK("http://evil")')
    rows = export(client_for(client, owner), team)
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'


def test_viewers_export_and_outsiders_get_404(client, team, viewer, outsider, now):
    BacklogItemFactory(team=team)
    assert len(export(client_for(client, viewer), team)) == 1
    assert client_for(client, outsider).get(f"/backlog/{team.slug}/plan.csv").status_code == 404


@pytest.mark.parametrize("count", [2, 20])
def test_the_export_runs_a_fixed_number_of_queries(
    client, team, owner, slo, now, django_assert_num_queries, count
):
    for index in range(count):
        BacklogItemFactory(
            team=team, slo=slo if index % 2 else None, owner=MembershipFactory(team=team).user
        )
    client_for(client, owner)
    with django_assert_num_queries(11):
        assert len(export(client, team)) == count


# --- Import ---------------------------------------------------------------------------


def upload(client, team, text: str | bytes, name: str = "backlog.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        f"/backlog/{team.slug}/import/", {"file": SimpleUploadedFile(name, data, "text/csv")}
    )


def good_file(teammate) -> str:
    return "\n".join(
        [
            HEADER,
            f"Automate cert renewal,toil,1,3,S,ready,6,{teammate.username},,https://tracker.example/1",
            "Runbook for failover,Operability,2,1,m,,,,Clock-in availability,",
            "Patch the base image,security,3,2,XS,in_progress,0.5,,,",
        ]
    )


def test_a_good_file_previews_then_imports_all(client, team, teammate, slo, now):
    client_for(client, teammate)
    response = upload(client, team, "\ufeff" + good_file(teammate))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: 3 items, nothing imported yet" in html
    assert not BacklogItem.objects.exists()

    payload = response.context["payload"]
    response = client.post(f"/backlog/{team.slug}/import/", {"payload": payload})
    assert response.status_code == 302
    items = {item.title: item for item in BacklogItem.objects.all()}
    assert set(items) == {"Automate cert renewal", "Runbook for failover", "Patch the base image"}
    cert = items["Automate cert renewal"]
    assert (cert.owner, cert.status, cert.toil_relief, cert.created_by) == (
        teammate,
        "ready",
        2,
        teammate,
    )
    assert items["Runbook for failover"].slo == slo
    assert items["Runbook for failover"].kind == "operability"
    assert items["Runbook for failover"].effort == "M"
    # The same confirmation twice imports nothing more: the titles are taken now.
    assert client.post(f"/backlog/{team.slug}/import/", {"payload": payload}).status_code == 400
    assert BacklogItem.objects.count() == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title,kind,impact\nA,toil,1\n", "missing: likelihood, size"),
        ("title,kind,impact,likelihood,size,colour\nA,toil,1,1,S,red\n", "not understood: colour"),
        (f"{HEADER}\nA,chores,1,1,S,,,,,\n", "is not allowed for kind"),
        (f"{HEADER}\nA,toil,4,1,S,,,,,\n", "is not allowed for impact"),
        (f"{HEADER}\nA,toil,1,1,XXL,,,,,\n", "is not allowed for size"),
        (f"{HEADER}\nA,toil,1,1,S,,1e9,,,\n", "toil hours a month"),
        (f"{HEADER}\nA,toil,1,1,S,,NaN,,,\n", "toil hours a month"),
        (f"{HEADER}\nA,toil,1,1,S,,,nobody,,\n", "is not a member"),
        (f"{HEADER}\nA,toil,1,1,S,,,,Their SLO,\n", "no SLO named"),
        (f"{HEADER}\nA,toil,1,1,S,,,,,javascript:alert(1)\n", "http:// or https://"),
        (
            f"{HEADER}\nA,toil,1,1,S,,,,,\nB,toil,1,1,S,,,,,\na,toil,1,1,S,,,,,\n",
            "same title is on line 2",
        ),
        (f"{HEADER}\nTaken,toil,1,1,S,,,,,\n", "already has this title"),
        (f"{HEADER}\n,toil,1,1,S,,,,,\n", "Give a title"),
        (f"{HEADER}\nA,toil,1\n", "has 3 cells"),
        ("", "empty"),
        (HEADER + "\n", "no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        ("title,kind,impact,likelihood,size\nCaf\xe9,toil,1,1,S\n".encode("latin-1"), "not UTF-8"),
        (
            HEADER + "\n" + "\n".join(f"T{n},toil,1,1,S,,,,," for n in range(2001)),
            "more than 2000 rows",
        ),
        (HEADER + "\n" + "x" * 1_000_001, "larger than"),
    ],
)
def test_bad_files_change_nothing(client, team, owner, other_team, now, text, message):
    SLOFactory(service__team=other_team, name="Their SLO")
    BacklogItemFactory(team=team, title="Taken")
    response = upload(client_for(client, owner), team, text)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert BacklogItem.objects.count() == 1


def test_errors_name_the_line_and_column(client, team, owner, now):
    response = upload(
        client_for(client, owner), team, f"{HEADER}\nGood,toil,1,1,S,,,,,\nBad,toil,9,1,S,,,,,\n"
    )
    html = response.content.decode()
    assert '<tr data-line="3"><td class="num">3</td><td>impact</td>' in html
    assert not BacklogItem.objects.exists()


def test_a_tampered_or_foreign_confirmation_is_refused(
    client, team, other_team, owner, teammate, now
):
    MembershipFactory(team=other_team, user=owner)
    client_for(client, owner)
    payload = upload(client, team, f"{HEADER}\nA,toil,1,1,S,,,,,\n").context["payload"]
    assert (
        client.post(f"/backlog/{team.slug}/import/", {"payload": payload[:-2] + "xx"}).status_code
        == 400
    )
    # Signed for this team and this user: not another team, not another person.
    assert (
        client.post(f"/backlog/{other_team.slug}/import/", {"payload": payload}).status_code == 400
    )
    client_for(client, teammate)
    assert client.post(f"/backlog/{team.slug}/import/", {"payload": payload}).status_code == 400
    assert not BacklogItem.objects.exists()


def test_roles(client, team, viewer, outsider, now):
    assert client_for(client, viewer).get(f"/backlog/{team.slug}/import/").status_code == 403
    assert upload(client, team, f"{HEADER}\nA,toil,1,1,S,,,,,\n").status_code == 403
    assert client_for(client, outsider).get(f"/backlog/{team.slug}/import/").status_code == 404
    assert upload(client, team, f"{HEADER}\nA,toil,1,1,S,,,,,\n").status_code == 404
    assert not BacklogItem.objects.exists()
