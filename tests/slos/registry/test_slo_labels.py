"""An SLO's labels (tier=critical, journey=clock-in): written in the SLO form, carried in
and out through OpenSLO's metadata.labels, and a filter of the SLO list."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from slos.labels import LABELS_MAX, LabelError, labels_text, parse_labels
from slos.models import SLO
from slos.openslo import OpenSLOError, SourceFile, openslo_export, openslo_import
from tests.conftest import client_for, utc
from tests.factories import SLOFactory
from tests.slos.openslo.test_openslo import VALID_SLO
from tests.slos.registry.test_slo_list_filters import budget_rows
from tests.slos.registry.test_slo_views import slo_form


def test_labels_read_as_key_value_pairs_and_write_back_sorted():
    labels = parse_labels("tier=critical, journey = clock-in\nowner-team=payroll/api")
    assert labels == {"tier": "critical", "journey": "clock-in", "owner-team": "payroll/api"}
    assert labels_text(labels) == "journey=clock-in, owner-team=payroll/api, tier=critical"
    assert parse_labels("  ") == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("tier", "“tier” is not key=value."),
        ("=critical", "“=critical” is not key=value."),
        ("tier=a, tier=b", "The label “tier” is given twice."),
        ("Tier=critical", "“Tier” is not a label name"),
        ("tier=", "The label “tier” needs a value"),
        (", ".join(f"k{index}=v" for index in range(LABELS_MAX + 1)), "At most 20 labels."),
    ],
)
def test_labels_that_break_a_rule_say_which(text, problem):
    with pytest.raises(LabelError) as caught:
        parse_labels(text)
    assert problem in str(caught.value)


def test_the_form_saves_labels_and_shows_them_for_editing(
    client, teammate, team, service, data_source
):
    client_for(client, teammate)
    data = slo_form(service, data_source, labels="tier=critical, journey=payroll")
    client.post(reverse("slos:create", args=[team.slug]), data)
    slo = SLO.objects.get(name="Payroll export success")
    assert slo.labels == {"tier": "critical", "journey": "payroll"}

    page = client.get(reverse("slos:edit", args=[slo.pk])).content.decode()
    assert 'value="journey=payroll, tier=critical"' in page


def test_bad_labels_in_the_form_are_said_and_nothing_is_saved(
    client, teammate, team, service, data_source
):
    client_for(client, teammate)
    data = slo_form(service, data_source, labels="tier critical")
    response = client.post(reverse("slos:create", args=[team.slug]), data)
    assert response.status_code == 400
    assert "“tier critical” is not key=value." in response.content.decode()
    assert not SLO.objects.filter(name="Payroll export success").exists()


def test_openslo_labels_come_in_and_go_out_beside_the_team(team):
    text = VALID_SLO.replace(
        "  name: clock-in-availability\n",
        "  name: clock-in-availability\n  labels:\n    tier: critical\n    journey: clock-in\n",
    )
    openslo_import(files=[SourceFile("slo.yaml", text)], team=team)
    slo = SLO.objects.get(openslo_name="clock-in-availability")
    assert slo.labels == {"tier": "critical", "journey": "clock-in"}  # not the team's
    exported = openslo_export(teams=[team])
    assert "tier: critical" in exported and f"team: {team.slug}" in exported


def test_a_bad_openslo_label_is_refused_with_its_path(team):
    text = VALID_SLO.replace(
        "  name: clock-in-availability\n",
        "  name: clock-in-availability\n  labels:\n    Tier: critical\n",
    )
    with pytest.raises(OpenSLOError) as caught:
        openslo_import(files=[SourceFile("slo.yaml", text)], team=team)
    assert any("metadata.labels" in str(problem) for problem in caught.value.problems)
    assert not SLO.objects.exists()


@time_machine.travel(utc(2026, 11, 2, 9, 30), tick=False)
def test_the_list_filters_by_label(client, owner, service, data_source):
    SLOFactory(service=service, data_source=data_source, name="a", labels={"tier": "critical"})
    SLOFactory(service=service, data_source=data_source, name="b", labels={"tier": "standard"})
    SLOFactory(service=service, data_source=data_source, name="c")
    client_for(client, owner)

    page = client.get(reverse("slos:list"), {"label": "tier=critical"}).content.decode()

    assert budget_rows(page) == ["a"]
    assert "tier=critical" in page and 'value="tier=standard"' in page  # the choices
    unknown = client.get(reverse("slos:list"), {"label": "tier=gold"})
    assert unknown.status_code == 400
