"""A team admin sets the at-risk threshold (and time zone); the status follows it."""

import time_machine
from django.urls import reverse

from slos.budget import BudgetStatus
from slos.registry.selectors import slo_with_budget
from tests.conftest import client_for, utc
from tests.factories import HourlyBucketFactory

NOW = utc(2026, 11, 2, 9, 30)


def settings_post(**overrides) -> dict:
    data = {
        "name": "Kintai",
        "mission": "",
        "time_zone": "Asia/Tokyo",
        "budget_at_risk_below": "25",
        "no_data_after_hours": "3",
    }
    return data | overrides


@time_machine.travel(NOW, tick=False)
def test_the_at_risk_threshold_is_the_teams(client, owner, team, slo):
    # 60% of the budget left: healthy at 25%, at risk once the team says 75%.
    HourlyBucketFactory(slo=slo, hour=utc(2026, 11, 2, 8), good=999_600, valid=1_000_000)
    assert slo_with_budget(slo.pk, at=NOW).budget.status == BudgetStatus.HEALTHY

    response = client_for(client, owner).post(
        reverse("team_settings", args=[team.slug]), settings_post(budget_at_risk_below="75")
    )

    assert response.status_code == 302
    assert slo_with_budget(slo.pk, at=NOW).budget.status == BudgetStatus.AT_RISK


def test_bad_settings_are_refused_with_a_message(client, owner, team):
    client_for(client, owner)
    for field, value, message in [
        ("time_zone", "Mars/Olympus", "is not a time zone"),
        ("budget_at_risk_below", "0", "above 0"),
        ("budget_at_risk_below", "abc", "Enter a number"),
        ("no_data_after_hours", "500", "from 1 to 168"),
    ]:
        response = client.post(
            reverse("team_settings", args=[team.slug]), settings_post(**{field: value})
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    team.refresh_from_db()
    assert (team.time_zone, team.budget_at_risk_below) == ("Asia/Tokyo", 25)


def test_only_admins_change_settings(client, teammate, outsider, team):
    url = reverse("team_settings", args=[team.slug])
    assert client_for(client, teammate).get(url).status_code == 403
    client.logout()
    assert client_for(client, outsider).post(url, settings_post(name="Hacked")).status_code == 404
    team.refresh_from_db()
    assert team.name == "Kintai"


def test_the_alerts_per_week_target_is_set_and_checked(client, owner, team):
    url = reverse("team_settings", args=[team.slug])
    client_for(client, owner)
    assert 'name="alerts_per_week_target"' in client.get(url).content.decode()
    assert team.alerts_per_week_target == 5  # the default

    assert client.post(url, settings_post(alerts_per_week_target="2")).status_code == 302
    team.refresh_from_db()
    assert team.alerts_per_week_target == 2

    for value, message in [
        ("-1", "from 0 to 1000"),
        ("1001", "from 0 to 1000"),
        ("", "from 0 to 1000"),
        ("many", "Enter a whole number"),
    ]:
        response = client.post(url, settings_post(alerts_per_week_target=value, name="Renamed"))
        assert response.status_code == 400, value
        assert message in response.content.decode(), value
    team.refresh_from_db()
    assert (team.alerts_per_week_target, team.name) == (2, "Kintai")

    # A form posted without the field (an older page, a script) keeps the target.
    assert client.post(url, settings_post()).status_code == 302
    team.refresh_from_db()
    assert team.alerts_per_week_target == 2
