"""OpenSLO as other tools write it (#18): openslo/v1alpha read as v1, calendar weeks and
days, DataSources named from another file or already in the portal, and SLOs on sources
the portal cannot query (Datadog, …) imported as push-fed with a note. The fixtures are
written for these tests in the shapes of the spec repository's examples."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from slos.ingestion.push import push_token_rotate
from slos.models import SLO, DataSource, HourlyBucket, Service
from slos.openslo import OpenSLOError, SourceFile, openslo_export, openslo_import
from tests.conftest import client_for, utc
from tests.factories import DataSourceFactory


def notes(report) -> list[str]:
    return [str(warning) for warning in report.warnings]


def problems_of(files: list[SourceFile], **kwargs) -> list[str]:
    with pytest.raises(OpenSLOError) as caught:
        openslo_import(files=files, **kwargs)
    return [str(problem) for problem in caught.value.problems]


# --- openslo/v1alpha ------------------------------------------------------------------

# The shape of the spec's v1alpha examples: a list of objects, a ratio metric inside the
# objective, windows as a unit and a count, metric sources as `source` and `query`.
V1ALPHA = """\
- apiVersion: openslo/v1alpha
  kind: Service
  metadata:
    name: timesheets
    displayName: Timesheets
  spec:
    description: Monthly timesheets
- apiVersion: openslo/v1alpha
  kind: SLO
  metadata:
    name: timesheet-saves
    displayName: Timesheet saves
  spec:
    description: Saving a timesheet works
    service: timesheets
    timeWindows:
      - unit: Day
        count: 28
        isRolling: true
    budgetingMethod: Occurrences
    objectives:
      - displayName: Saves
        target: 0.995
        value: 1
        ratioMetrics:
          incremental: true
          good:
            source: Prometheus
            queryType: query
            query: timesheet_saves_total{outcome="ok"}
          total:
            source: Prometheus
            queryType: query
            query: timesheet_saves_total
- apiVersion: openslo/v1alpha
  kind: SLO
  metadata:
    name: timesheet-latency
  spec:
    service: timesheets
    indicator:
      thresholdMetric:
        source: Prometheus
        queryType: query
        query: max(timesheet_save_seconds)
    timeWindows:
      - unit: Week
        count: 1
        isRolling: false
        calendar:
          startTime: 2022-01-01 12:00:00
          timeZone: Asia/Tokyo
    budgetingMethod: Timeslices
    objectives:
      - displayName: Fast
        op: lte
        value: 0.5
        target: 0.98
        timeSliceTarget: 0.95
"""


def test_a_v1alpha_file_imports_as_v1(team):
    report = openslo_import(files=[SourceFile("v1alpha.yaml", V1ALPHA)], team=team)

    service = Service.objects.get(team=team, openslo_name="timesheets")
    assert (service.name, service.description) == ("Timesheets", "Monthly timesheets")

    saves = SLO.objects.get(openslo_name="timesheet-saves")
    assert saves.name == "Timesheet saves"
    assert saves.why == "Saving a timesheet works"
    assert saves.service == service
    assert (saves.sli_kind, saves.ratio_of) == ("ratio", "good")
    # incremental: true is v1's counter: true
    assert saves.good_query == 'sum(increase(timesheet_saves_total{outcome="ok"}[$window]))'
    assert saves.valid_query == "sum(increase(timesheet_saves_total[$window]))"
    assert (saves.window_kind, saves.window_days) == ("rolling", 28)
    assert saves.target == Decimal("99.5")

    latency = SLO.objects.get(openslo_name="timesheet-latency")
    assert latency.sli_kind == "gauge"
    assert latency.gauge_query == "max(timesheet_save_seconds)"
    assert (latency.threshold_op, latency.threshold) == ("lte", 0.5)
    assert (latency.budgeting_method, latency.timeslice_target) == ("timeslices", Decimal("95"))
    assert latency.timeslice_minutes == 5
    assert (latency.window_kind, latency.calendar_period) == ("calendar", "week")

    assert notes(report) == [
        "v1alpha.yaml: document 1, item 1: apiVersion: openslo/v1alpha, read as openslo/v1",
        "v1alpha.yaml: document 1, item 2: apiVersion: openslo/v1alpha, read as openslo/v1",
        "v1alpha.yaml: document 1, item 3: spec.objectives: openslo/v1alpha gives no "
        "timeSliceWindow: slices of 5 minutes are used",
        "v1alpha.yaml: document 1, item 3: apiVersion: openslo/v1alpha, read as openslo/v1",
        "v1alpha.yaml: document 1, item 2: spec.indicator: no metricSourceRef: the SLO has no "
        "data source; choose one before pulling",
        "v1alpha.yaml: document 1, item 3: spec.indicator: no metricSourceRef: the SLO has no "
        "data source; choose one before pulling",
    ]
    # Imported again: the same objects, unchanged.
    again = openslo_import(files=[SourceFile("v1alpha.yaml", V1ALPHA)], team=team)
    assert {change.action for change in again.changes} == {"unchanged"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "      - unit: Day\n",
            "      - unit: Second\n",
            "v1alpha.yaml: document 1, item 2: spec.timeWindows[0].unit: must be Day, Week, "
            "Month or Quarter",
            id="unit",
        ),
        pytest.param(
            "            queryType: query\n            query: timesheet_saves_total\n",
            "            queryType: query\n",
            "v1alpha.yaml: document 1, item 2: "
            "spec.objectives[0].ratioMetrics.total.query: required",
            id="v1alpha-paths",
        ),
        pytest.param(
            "  kind: Service\n",
            "  kind: DataSource\n",
            "v1alpha.yaml: document 1, item 1: kind: openslo/v1alpha has Service and SLO "
            "documents only, not “DataSource”",
            id="kind",
        ),
    ],
)
def test_a_bad_v1alpha_document_says_where_and_writes_nothing(team, old, new, expected):
    assert old in V1ALPHA
    found = problems_of([SourceFile("v1alpha.yaml", V1ALPHA.replace(old, new, 1))], team=team)
    assert expected in found
    assert not SLO.objects.exists()


# --- Calendar weeks and days -----------------------------------------------------------

WEEKLY = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: weekly-availability
spec:
  service: clock-in-api
  indicator:
    metadata:
      name: clock-in
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{code!~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total
  timeWindow:
    - duration: 1w
      isRolling: false
      calendar:
        startTime: 2022-01-01 12:00:00
        timeZone: America/New_York
  budgetingMethod: Timeslices
  objectives:
    - displayName: Objective
      op: gt
      target: 0.9995
      timeSliceTarget: 0.95
      timeSliceWindow: 1m
"""


@pytest.mark.parametrize(("duration", "period"), [("1w", "week"), ("1d", "day")])
def test_a_calendar_week_or_day_is_that_calendar_period(team, duration, period):
    text = WEEKLY.replace("duration: 1w", f"duration: {duration}")
    report = openslo_import(files=[SourceFile("weekly.yaml", text)], team=team)

    slo = SLO.objects.get(openslo_name="weekly-availability")
    assert (slo.window_kind, slo.calendar_period) == ("calendar", period)
    assert not [note for note in notes(report) if "duration" in note]
    exported = openslo_export(teams=[team])
    assert f"duration: {duration}" in exported
    assert {
        change.action
        for change in openslo_import(
            files=[SourceFile("exported.yaml", exported)], team=team
        ).changes
    } == {"unchanged"}


def test_other_calendar_durations_are_still_refused(team):
    found = problems_of(
        [SourceFile("weekly.yaml", WEEKLY.replace("duration: 1w", "duration: 2w"))], team=team
    )
    assert found == [
        "weekly.yaml: document 1: spec.timeWindow[0].duration: a calendar window is 1d "
        "(a day), 1w (a week), 1M (a month) or 1Q (a quarter)"
    ]


# --- DataSources named by reference ------------------------------------------------------

BY_REFERENCE = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: clock-in-errors
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource:
        metricSourceRef: SOURCE
        spec:
          query: http_requests_total{code=~"5.."}
    total:
      metricSource:
        metricSourceRef: SOURCE
        spec:
          query: http_requests_total
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: clock-in-availability
spec:
  service: clock-in-api
  indicatorRef: clock-in-errors
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"""

PROMETHEUS_DOCUMENT = """\
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: prometheus-eu
spec:
  type: Prometheus
  connectionDetails:
    - url: http://prometheus.eu:9090
"""


def test_a_data_source_already_in_the_portal_is_found_by_its_name(team):
    # Imported once as "prom-1" and renamed in the portal since: its name still finds it.
    source = DataSourceFactory(team=team, name="Prometheus", openslo_name="prom-1")
    DataSourceFactory(team=team, name="Loki")

    openslo_import(
        files=[SourceFile("slos.yaml", BY_REFERENCE.replace("SOURCE", "prometheus"))], team=team
    )

    assert SLO.objects.get(openslo_name="clock-in-availability").data_source == source


def test_a_data_source_of_another_team_is_not_found(team, other_team):
    DataSourceFactory(team=other_team, name="Prometheus")
    found = problems_of(
        [SourceFile("slos.yaml", BY_REFERENCE.replace("SOURCE", "prometheus"))], team=team
    )
    assert found[0].endswith("no DataSource named “prometheus” in the files or in team kintai")


def test_a_data_source_defined_in_another_file_is_found(team):
    openslo_import(
        files=[
            SourceFile("slos.yaml", BY_REFERENCE.replace("SOURCE", "prometheus-eu")),
            SourceFile("sources.yaml", PROMETHEUS_DOCUMENT),
        ],
        team=team,
    )
    slo = SLO.objects.get(openslo_name="clock-in-availability")
    assert slo.data_source.url == "http://prometheus.eu:9090"


# --- Sources the portal cannot query ------------------------------------------------------

# The shape of the spec's SLI example on Datadog, with an SLO that names it.
DATADOG_SOURCE = """\
- apiVersion: openslo/v1
  kind: DataSource
  metadata:
    name: my-datadog
    displayName: Datadog
  spec:
    type: Datadog
    connectionDetails:
      - apiKey: not-a-real-key
      - appKey: not-a-real-key
"""
DATADOG_SLO = """\
- apiVersion: openslo/v1
  kind: SLI
  metadata:
    name: search-availability
  spec:
    ratioMetric:
      counter: true
      good:
        metricSource:
          metricSourceRef: my-datadog
          type: Datadog
          spec:
            query: sum:trace.http.request.hits.by_http_status{http.status_code:200}.as_count()
      total:
        metricSource:
          metricSourceRef: my-datadog
          type: Datadog
          spec:
            query: sum:trace.http.request.hits.by_http_status{*}.as_count()
- apiVersion: openslo/v1
  kind: SLO
  metadata:
    name: search-availability
    displayName: Search availability
  spec:
    service: search
    indicatorRef: search-availability
    timeWindow:
      - duration: 28d
        isRolling: true
    budgetingMethod: Occurrences
    objectives:
      - target: 0.99
"""
DATADOG = DATADOG_SOURCE + DATADOG_SLO


def test_a_datadog_slo_is_imported_push_fed_with_a_note(client, teammate, team):
    client_for(client, teammate)
    response = client.post(
        reverse("slos:openslo_import", args=[team.slug]),
        {"files": [SimpleUploadedFile("datadog.yaml", DATADOG.encode(), "application/yaml")]},
    )

    assert response.status_code == 200
    page = response.content.decode()
    note = (
        "datadog.yaml: document 1, item 3: spec.indicatorRef: reads Datadog, which the portal "
        "cannot query: imported as fed by the push source “Datadog”, without its queries; "
        "send its hourly counts with the push API or a CSV upload"
    )
    assert note in page
    source = DataSource.objects.get(team=team)
    assert (source.name, source.openslo_name, source.kind) == ("Datadog", "my-datadog", "push")
    assert source.url == "" and source.bearer_token == "" and source.extra_headers == {}
    slo = SLO.objects.get(openslo_name="search-availability")
    assert slo.data_source == source
    assert (slo.sli_kind, slo.good_query, slo.valid_query) == ("ratio", "", "")

    # It takes pushed counts like any push-fed SLO, by its OpenSLO name.
    token = push_token_rotate(source=source)
    with time_machine.travel(utc(2026, 11, 2, 9, 30), tick=False):
        pushed = client.post(
            f"/api/v1/sources/{source.pk}/measurements",
            json.dumps(
                {
                    "measurements": [
                        {
                            "slo": "search-availability",
                            "hour": "2026-11-01T03:00:00Z",
                            "good": 990,
                            "valid": 1000,
                        }
                    ]
                }
            ),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert pushed.status_code == 200
    assert HourlyBucket.objects.get(slo=slo).good == 990


def test_a_datadog_slo_without_a_data_source_gets_a_push_source_of_its_type(team):
    text = DATADOG_SLO.replace("          metricSourceRef: my-datadog\n", "")

    report = openslo_import(files=[SourceFile("datadog.yaml", text)], team=team)

    source = DataSource.objects.get(team=team)
    assert (source.name, source.kind) == ("datadog", "push")
    assert SLO.objects.get().data_source == source
    assert any("the push source “datadog” is created" in note for note in notes(report))


def test_an_existing_push_source_is_used_for_a_datadog_slo(team):
    source = DataSourceFactory(team=team, name="My Datadog", kind="push", url="")
    text = DATADOG_SLO

    openslo_import(files=[SourceFile("datadog.yaml", text)], team=team)

    assert SLO.objects.get().data_source == source
    assert DataSource.objects.filter(team=team).count() == 1


def test_a_datadog_slo_naming_a_prometheus_source_is_refused(team):
    DataSourceFactory(team=team, name="my-datadog")  # a Prometheus source
    text = DATADOG_SLO
    found = problems_of([SourceFile("datadog.yaml", text)], team=team)
    assert (
        "datadog.yaml: document 1, item 1: spec.ratioMetric.good.metricSource.type: is "
        "“Datadog”, but the DataSource “my-datadog” is a Prometheus source"
    ) in found
    assert not SLO.objects.exists()


def test_a_threshold_counted_by_the_sender_is_a_ratio(team):
    # The spec's budgeting-method example: any source, a latency threshold, Occurrences.
    text = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-slo
  displayName: Searching time
spec:
  service: web-shop
  indicator:
    metadata:
      name: search-latency
    spec:
      thresholdMetric:
        metricSource:
          type: Any
          spec:
            query: Any
  timeWindow:
    - duration: 2w
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good experience
      op: lt
      value: 500
      target: 0.99
  alertPolicies:
"""
    report = openslo_import(files=[SourceFile("search.yaml", text)], team=team)

    slo = SLO.objects.get(openslo_name="search-slo")
    assert (slo.sli_kind, slo.window_days, slo.data_source.kind) == ("ratio", 14, "push")
    assert (
        "search.yaml: document 1: spec.objectives[0].value: a thresholdMetric counted in "
        "Occurrences is stored as a ratio: send the events that meet the objective as good "
        "and all events as valid"
    ) in notes(report)


def test_a_push_fed_slo_exports_and_imports_back(team):
    openslo_import(files=[SourceFile("datadog.yaml", DATADOG)], team=team)
    first = openslo_export(teams=[team])

    report = openslo_import(files=[SourceFile("export.yaml", first)], team=team)

    assert {change.action for change in report.changes} == {"unchanged"}
    assert openslo_export(teams=[team]) == first
