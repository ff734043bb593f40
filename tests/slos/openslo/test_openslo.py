"""OpenSLO v1 in and out: the spec's examples import, every kind of invalid file is
refused with its file, document and field path and writes nothing, re-import is
idempotent, export → import → export is stable, and the page and commands behave."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse

from portal.models import Team
from slos.models import SLO, DataSource, Service
from slos.openslo import (
    OpenSLOError,
    SourceFile,
    event_count_query,
    openslo_export,
    openslo_import,
)
from slos.registry import services as slo_services
from tests.conftest import client_for

EXAMPLES = Path(__file__).parent / "openslo_examples"


def example(name: str) -> SourceFile:
    return SourceFile(name=name, text=(EXAMPLES / name).read_text())


def counts() -> tuple[int, int, int, int]:
    return (
        Team.objects.count(),
        Service.objects.count(),
        DataSource.objects.count(),
        SLO.objects.count(),
    )


def problems_of(files: list[SourceFile], **kwargs) -> list[str]:
    with pytest.raises(OpenSLOError) as caught:
        openslo_import(files=files, **kwargs)
    return [str(problem) for problem in caught.value.problems]


VALID_SLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: clock-in-availability
spec:
  service: clock-in-api
  indicator:
    metadata:
      name: clock-in-errors
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
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"""


def _slo(**replacements: str) -> str:
    text = VALID_SLO.replace("clock-in-availability", "other-slo")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


REF_SLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: by-reference
spec:
  service: clock-in-api
  indicatorRef: no-such-sli
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"""


# --- The spec's own examples ------------------------------------------------------------


def test_the_specs_v1_examples_import(db):
    report = openslo_import(files=[example("spec_v1_examples.yaml")], default_team="team-a")

    team = Team.objects.get(slug="team-a")  # created: the label names it, --team picks it
    assert {str(change) for change in report.changes} >= {
        "Team team-a (team team-a): created",
        "SLO web-availability (team team-a): created",
    }
    web = SLO.objects.get(openslo_name="web-availability")
    assert web.name == "SLO for web availability"
    assert web.why == "X% of search requests are successful"
    assert web.service.team == team
    assert web.service.openslo_name == "web"  # no Service document: created
    assert web.sli_kind == "ratio"
    assert web.ratio_of == "good"
    # counter: true with sum(SELECTOR): read as the sum of the counter's increases.
    assert web.good_query == (
        'sum(increase(http_requests{k8s_cluster="prod",component="web",code=~"2xx|4xx"}[$window]))'
    )
    assert web.valid_query == (
        'sum(increase(http_requests{k8s_cluster="prod",component="web"}[$window]))'
    )
    assert web.target == Decimal("99.5")
    assert web.budgeting_method == "timeslices"
    assert web.timeslice_target == Decimal("95")
    assert web.timeslice_minutes == 1
    assert (web.window_kind, web.calendar_period) == ("calendar", "month")
    assert web.data_source is None  # no metricSourceRef

    lag = SLO.objects.get(openslo_name="annotator-lag")
    assert lag.sli_kind == "gauge"
    assert lag.gauge_query.startswith("sum(min_over_time(kafka_consumergroup_lag{")
    assert (lag.threshold_op, lag.threshold) == ("lte", 1000)
    assert lag.timeslice_target == Decimal("100")
    assert lag.timeslice_minutes == 2
    assert (lag.window_kind, lag.window_days) == ("rolling", 28)
    assert lag.data_source.openslo_name == "prometheus"
    assert lag.data_source.url == "http://prometheus.example.com"
    assert lag.service.description == "Example service description"

    assert team.time_zone == "America/New_York"  # a new team takes its calendar's zone
    warnings = [str(warning) for warning in report.warnings]
    assert any("spec.service: no Service document named “web”" in w for w in warnings)
    assert any("no metricSourceRef" in w for w in warnings)


def test_the_readme_ratio_metric_with_an_sli_document_imports(team):
    openslo_import(files=[example("readme_ratio_metric.yaml")], team=team)

    slo = SLO.objects.get(openslo_name="test-slo")
    assert slo.name == "Test SLO"
    assert slo.service.name == "Foo"
    assert slo.data_source.name == "Prometheus"
    assert slo.data_source.url == "http://prometheus:9090"
    assert slo.good_query == (
        'sum(increase(localhost_server_requests{code=~"2xx|3xx",host="*",'
        'instance="127.0.0.1:9090"}[$window]))'
    )
    assert slo.valid_query == (
        'sum(increase(localhost_server_requests{code="total",host="*",'
        'instance="127.0.0.1:9090"}[$window]))'
    )
    assert slo.target == Decimal("99.99")  # targetPercent
    assert slo.window_days == 1


def test_the_sdk_example_wraps_counter_selectors(team):
    openslo_import(files=[example("sdk_v1_slos.yaml")], team=team)

    slo = SLO.objects.get(openslo_name="foo-slo")
    assert slo.good_query == 'sum(increase(http_requests_total{status_code="200"}[$window]))'
    assert slo.valid_query == "sum(increase(http_requests_total{}[$window]))"
    assert slo.target == Decimal("98")
    assert (slo.window_kind, slo.window_days) == ("rolling", 28)  # no timeWindow
    assert slo.data_source.openslo_name == "thanos"


def test_a_realistic_team_file_maps_every_kind_of_sli(team):
    report = openslo_import(files=[example("kintai.yaml")], team=team)

    source = DataSource.objects.get(openslo_name="prometheus")
    assert (source.name, source.url, source.timeout_seconds) == (
        "Production Prometheus",
        "http://prometheus.kintai.internal:9090",
        20.0,
    )
    availability = SLO.objects.get(openslo_name="clock-in-availability")
    assert availability.ratio_of == "bad"
    assert availability.bad_query.endswith('code=~"5.."}[$window]))')  # kept as written
    assert availability.target == Decimal("99.9")
    assert availability.why.startswith("A failed clock-in means")

    latency = SLO.objects.get(openslo_name="clock-in-latency")
    assert latency.sli_kind == "histogram"  # an le bucket over its _count
    assert latency.histogram_metric == "http_request_duration_seconds"
    assert latency.histogram_labels == 'job="api",route="/clock-in"'
    assert latency.threshold == 0.5
    assert (latency.window_kind, latency.calendar_period) == ("calendar", "month")
    assert (latency.timeslice_target, latency.timeslice_minutes) == (Decimal("95"), 5)

    lag = SLO.objects.get(openslo_name="payroll-export-lag")
    assert lag.sli_kind == "gauge"
    assert "max_over_time(payroll_export_lag_seconds" in lag.gauge_query
    assert (lag.calendar_period, lag.timeslice_minutes) == ("quarter", 60)
    assert lag.service.name == "Payroll"

    assert "kintai.yaml: document 8: kind: AlertPolicy is not imported; skipped" in [
        str(warning) for warning in report.warnings
    ]
    assert report.summary() == "Imported: 6 created, 0 updated, 0 unchanged."


@pytest.mark.parametrize(
    ("query", "counter", "expected"),
    [
        ("http_requests_total", True, "sum(increase(http_requests_total[$window]))"),
        (
            'http_requests_total{code!~"5..", route="/a{b}"}',
            True,
            'sum(increase(http_requests_total{code!~"5..", route="/a{b}"}[$window]))',
        ),
        ("sum(errors_total{job='x'})", True, "sum(increase(errors_total{job='x'}[$window]))"),
        ('{__name__="up"}', True, 'sum(increase({__name__="up"}[$window]))'),
        (
            "sum(rate(x_total[$window])) * 3600",
            True,
            "sum(rate(x_total[$window])) * 3600",
        ),
        ("sum(increase(x_total[$window]))", False, "sum(increase(x_total[$window]))"),
        ("rate(x_total[5m])", True, None),
        ("sum by (code) (x_total)", True, None),
        ("x_total", False, None),
    ],
)
def test_counter_selectors_are_wrapped_and_queries_with_window_kept(query, counter, expected):
    assert event_count_query(query, counter=counter) == expected


# --- Invalid files: the precise problem, and nothing written -----------------------------


INVALID = [
    pytest.param(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: [unclosed\n",
        "bad.yaml: document 2: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(line 33, column 1)",
        id="bad-yaml",
    ),
    pytest.param(
        "apiVersion: openslo/v1\nkind: Dashboard\nmetadata:\n  name: x\nspec: {}\n",
        "bad.yaml: document 2: kind: unknown kind “Dashboard”: expected one of Service, "
        "DataSource, SLI, SLO, AlertPolicy, AlertCondition, AlertNotificationTarget",
        id="unknown-kind",
    ),
    pytest.param(
        _slo(**{"  budgetingMethod: Occurrences\n": ""}),
        "bad.yaml: document 2: spec.budgetingMethod: required",
        id="missing-field",
    ),
    pytest.param(
        _slo(**{"target: 0.999": "target: 99.9"}),
        "bad.yaml: document 2: spec.objectives[0].target: must be between 0 and 1 "
        "(a fraction: 0.999 is 99.9%; use targetPercent for a percentage)",
        id="target-above-one",
    ),
    pytest.param(
        _slo(**{"target: 0.999": "target: 0.3"}),
        "bad.yaml: document 2: spec.objectives[0].target: "
        "Ensure this value is greater than or equal to 50.",
        id="target-below-the-models-minimum",
    ),
    pytest.param(
        _slo(**{"  objectives:\n": "  objectivs: []\n  objectives:\n"}),
        "bad.yaml: document 2: spec.objectivs: unknown field",
        id="unknown-field",
    ),
    pytest.param(
        REF_SLO,
        "bad.yaml: document 2: spec.indicatorRef: no SLI named “no-such-sli” in the imported files",
        id="unknown-sli",
    ),
    pytest.param(
        _slo(
            **{
                "type: Prometheus\n            spec:\n              query: http_requests_total\n": (
                    "type: Datadog\n            spec:\n              query: http_requests_total\n"
                )
            }
        ),
        "bad.yaml: document 2: spec.indicator.spec.ratioMetric.total.metricSource.type: "
        "all queries of an SLO read one data source: this is “Datadog”, "
        "spec.indicator.spec.ratioMetric.good.metricSource.type is “Prometheus”",
        id="two-kinds-of-source",
    ),
    pytest.param(
        _slo(**{"budgetingMethod: Occurrences": "budgetingMethod: RatioTimeslices"}),
        "bad.yaml: document 2: spec.budgetingMethod: RatioTimeslices is not supported: use "
        "Timeslices (a slice is good when its ratio reaches timeSliceTarget) or Occurrences",
        id="ratio-timeslices",
    ),
    pytest.param(
        _slo(**{"name: other-slo": "name: Other_SLO"}),
        "bad.yaml: document 2: metadata.name: must be a DNS-1123 label: at most 63 lowercase "
        "letters, digits and '-', starting and ending with a letter or digit",
        id="name-not-a-dns-label",
    ),
    pytest.param(
        _slo(**{"counter: true": "counter: false"}),
        "bad.yaml: document 2: spec.indicator.spec.ratioMetric.good.metricSource.spec.query: "
        "the query must contain $window where the range goes, e.g. "
        "sum(increase(http_requests_total[$window])); or set counter: true and give a plain "
        "counter selector",
        id="no-window-without-counter",
    ),
    pytest.param(
        _slo(**{"duration: 28d": "duration: 1Y"}),
        "bad.yaml: document 2: spec.timeWindow[0].duration: a rolling window is a whole "
        "number of days or weeks, e.g. 28d or 4w",
        id="rolling-window-in-years",
    ),
    pytest.param(
        _slo(**{"apiVersion: openslo/v1": "apiVersion: openslo/v2alpha"}),
        "bad.yaml: document 2: apiVersion: only openslo/v1 and openslo/v1alpha can be "
        "imported, not “openslo/v2alpha”",
        id="other-api-version",
    ),
    pytest.param(
        _slo(**{"budgetingMethod: Occurrences": "budgetingMethod: Timeslices"}),
        "bad.yaml: document 2: spec.objectives[0].timeSliceTarget: required with Timeslices",
        id="timeslices-without-target",
    ),
]


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_an_invalid_document_after_a_valid_one_writes_nothing(team, text, expected):
    before = counts()
    # A valid document precedes the invalid one, in the same file and in an earlier file.
    files = [
        SourceFile("good.yaml", VALID_SLO),
        SourceFile(
            "bad.yaml", VALID_SLO.replace("clock-in-availability", "first") + "---\n" + text
        ),
    ]
    found = problems_of(files, team=team)

    assert expected in found, found
    assert counts() == before


def test_a_calendar_in_another_time_zone_follows_the_teams_with_a_note(team):
    text = _slo(
        **{
            "    - duration: 28d\n      isRolling: true\n": (
                "    - duration: 1Q\n      calendar:\n        startTime: 2026-01-01 00:00:00\n"
                "        timeZone: America/New_York\n"
            )
        }
    )
    report = openslo_import(files=[SourceFile("slos.yaml", text)], team=team)
    slo = SLO.objects.get(openslo_name="other-slo")
    assert (slo.window_kind, slo.calendar_period) == ("calendar", "quarter")
    assert (
        "slos.yaml: document 1: spec.timeWindow[0].calendar.timeZone: calendar windows "
        "follow the team's time zone, Asia/Tokyo, not America/New_York"
    ) in [str(warning) for warning in report.warnings]


def test_an_sli_named_by_two_slos_reports_its_problem_once(team):
    sli = (
        "apiVersion: openslo/v1\nkind: SLI\nmetadata:\n  name: shared\nspec:\n"
        "  thresholdMetric:\n    metricSource:\n      type: Prometheus\n"
        "      spec:\n        query: ''\n"
    )
    first = REF_SLO.replace("no-such-sli", "shared")
    second = first.replace("name: by-reference", "name: also-by-reference")
    found = problems_of([SourceFile("slos.yaml", "---\n".join([sli, first, second]))], team=team)
    assert found == [
        "slos.yaml: document 1: spec.thresholdMetric.metricSource.spec.query: "
        "must be a PromQL query"
    ]


def test_an_empty_file_imports_nothing_with_a_note(team):
    before = counts()
    report = openslo_import(files=[SourceFile("empty.yaml", "# nothing yet\n")], team=team)
    assert counts() == before
    assert [str(warning) for warning in report.warnings] == [
        "empty.yaml: no OpenSLO documents found"
    ]


def test_a_missing_field_inside_a_list_names_the_index(team):
    text = _slo(**{"    - target: 0.999\n": "    - target: 0.999\n    - op: lt\n      target: x\n"})
    found = problems_of([SourceFile("slos.yaml", text)], team=team)
    assert found == ["slos.yaml: document 1: spec.objectives[1].target: must be a number"]


def test_every_problem_in_every_file_is_reported_at_once(team):
    found = problems_of(
        [
            SourceFile("a.yaml", _slo(**{"target: 0.999": "target: 1.5"})),
            SourceFile("b.yaml", "kind: SLO\n"),
            SourceFile("c.yaml", "- 1\n"),
        ],
        team=team,
    )
    assert found == [
        "a.yaml: document 1: spec.objectives[0].target: must be between 0 and 1 "
        "(a fraction: 0.999 is 99.9%; use targetPercent for a percentage)",
        "b.yaml: document 1: apiVersion: required",
        "c.yaml: document 1, item 1: expected an OpenSLO object (a mapping with apiVersion, "
        "kind, metadata, spec)",
    ]


def test_a_reference_to_an_unknown_data_source_is_refused(team):
    ref = "metricSourceRef: nowhere"
    text = _slo(
        **{
            "type: Prometheus\n            spec:\n              query: http_requests_total\n": (
                f"{ref}\n            spec:\n              query: http_requests_total\n"
            )
        }
    )
    found = problems_of([SourceFile("slos.yaml", text)], team=team)
    assert found == [
        "slos.yaml: document 1: spec.indicator.spec.ratioMetric.total.metricSource."
        "metricSourceRef: no DataSource named “nowhere” in the files or in team kintai"
    ]


def test_the_same_name_twice_is_refused(team):
    found = problems_of(
        [SourceFile("a.yaml", VALID_SLO), SourceFile("b.yaml", VALID_SLO)], team=team
    )
    assert found == [
        "b.yaml: document 1: metadata.name: “clock-in-availability” is defined twice "
        "(first at a.yaml: document 1)"
    ]


def test_a_team_label_for_another_team_is_refused_in_a_teams_import(team):
    text = VALID_SLO.replace(
        "  name: clock-in-availability\n",
        ("  name: clock-in-availability\n  labels:\n    team: payroll-team\n"),
    )
    found = problems_of([SourceFile("slos.yaml", text)], team=team)
    assert found == [
        "slos.yaml: document 1: metadata.labels.team: names payroll-team, but this import "
        "is for team kintai"
    ]


def test_without_a_team_label_or_default_nothing_is_imported(db):
    found = problems_of([SourceFile("slos.yaml", VALID_SLO)])
    assert found == [
        "slos.yaml: document 1: metadata.labels.team: no team: add a team label or choose "
        "the team to import into (--team)"
    ]
    assert counts() == (0, 0, 0, 0)


def test_a_phase_two_failure_rolls_everything_back(team, monkeypatch):
    """Even a failure while writing (after every check passed) leaves nothing behind."""

    def broken_create(**kwargs):
        raise IntegrityError("disk on fire")

    monkeypatch.setattr(slo_services, "slo_create", broken_create)
    before = counts()
    with pytest.raises(OpenSLOError, match="could not be saved: disk on fire"):
        openslo_import(files=[example("kintai.yaml")], team=team)
    assert counts() == before


# --- Idempotence and the round trip ---------------------------------------------------------


def test_reimport_updates_and_never_duplicates(team):
    openslo_import(files=[example("kintai.yaml")], team=team)
    before = counts()

    again = openslo_import(files=[example("kintai.yaml")], team=team)
    assert counts() == before
    assert again.summary() == "Imported: 0 created, 0 updated, 6 unchanged."

    changed = example("kintai.yaml").text.replace("targetPercent: 99.9", "targetPercent: 99.5")
    report = openslo_import(files=[SourceFile("kintai.yaml", changed)], team=team)
    assert counts() == before
    assert "SLO clock-in-availability (team kintai): updated" in map(str, report.changes)
    assert SLO.objects.get(openslo_name="clock-in-availability").target == Decimal("99.5")


def test_a_dry_run_reports_and_writes_nothing(team):
    before = counts()
    report = openslo_import(files=[example("kintai.yaml")], team=team, dry_run=True)
    assert counts() == before
    assert report.summary() == ("Checked, nothing written: 6 to create, 0 to update, 0 unchanged.")


def test_export_import_export_gives_the_same_text(team):
    openslo_import(files=[example("kintai.yaml")], team=team)
    first = openslo_export(teams=[team])

    report = openslo_import(files=[SourceFile("export.yaml", first)], team=team)
    second = openslo_export(teams=[team])

    assert second == first
    assert report.count("created") == 0
    assert report.count("updated") == 0


def test_objects_made_in_the_portal_export_and_import_back_onto_themselves(
    team, service, data_source, slo
):
    """No OpenSLO names yet: the export makes them, the import adopts the objects."""
    slo_services.slo_create(
        service=service,
        data_source=data_source,
        name="Clock-in latency",
        sli_kind="histogram",
        histogram_metric="http_request_duration_seconds",
        histogram_labels='job="api"',
        threshold=0.3,
        target=Decimal("99"),
        budgeting_method="timeslices",
        timeslice_target=Decimal("90"),
        timeslice_minutes=10,
        window_kind="calendar",
        calendar_period="quarter",
    )
    first = openslo_export(teams=[team])
    before = counts()

    openslo_import(files=[SourceFile("export.yaml", first)], team=team)
    assert counts() == before
    assert openslo_export(teams=[team]) == first
    slo.refresh_from_db()
    assert slo.openslo_name == "clock-in-availability"
    latency = SLO.objects.get(name="Clock-in latency")
    assert latency.sli_kind == "histogram"  # came back as the same kind


def test_the_export_is_openslo_v1_that_reads_like_the_spec(team, slo):
    text = openslo_export(teams=[team])
    assert text == (
        "---\n"
        "apiVersion: openslo/v1\n"
        "kind: Service\n"
        "metadata:\n"
        "  name: clock-in-api\n"
        "  displayName: Clock-in API\n"
        "  labels:\n"
        "    team: kintai\n"
        "spec: {}\n"
        "---\n"
        "apiVersion: openslo/v1\n"
        "kind: DataSource\n"
        "metadata:\n"
        "  name: prometheus\n"
        "  displayName: Prometheus\n"
        "  labels:\n"
        "    team: kintai\n"
        "spec:\n"
        "  type: Prometheus\n"
        "  connectionDetails:\n"
        "    url: http://127.0.0.1:9\n"
        "    timeoutSeconds: 2.0\n"
        "---\n"
        "apiVersion: openslo/v1\n"
        "kind: SLO\n"
        "metadata:\n"
        "  name: clock-in-availability\n"
        "  displayName: Clock-in availability\n"
        "  labels:\n"
        "    team: kintai\n"
        "spec:\n"
        "  service: clock-in-api\n"
        "  indicator:\n"
        "    metadata:\n"
        "      name: clock-in-availability\n"
        "    spec:\n"
        "      ratioMetric:\n"
        "        counter: true\n"
        "        good:\n"
        "          metricSource:\n"
        "            metricSourceRef: prometheus\n"
        "            type: Prometheus\n"
        "            spec:\n"
        '              query: http_requests_total{code!~"5.."}\n'
        "        total:\n"
        "          metricSource:\n"
        "            metricSourceRef: prometheus\n"
        "            type: Prometheus\n"
        "            spec:\n"
        "              query: http_requests_total\n"
        "  timeWindow:\n"
        "  - duration: 28d\n"
        "    isRolling: true\n"
        "  budgetingMethod: Occurrences\n"
        "  objectives:\n"
        "  - target: 0.999\n"
    )


def test_slos_on_a_push_source_name_it_and_come_back_to_it(team, service, slo):
    push = DataSource.objects.create(team=team, name="Mobile push", kind="push", url="")
    slo.data_source = push
    slo.save()
    first = openslo_export(teams=[team])
    sources = [
        d["metadata"]["name"] for d in yaml.safe_load_all(first) if d["kind"] == "DataSource"
    ]
    assert sources == ["prometheus"]  # the push source is not Prometheus: it stays here
    document = next(d for d in yaml.safe_load_all(first) if d["kind"] == "SLO")
    source = document["spec"]["indicator"]["spec"]["ratioMetric"]["total"]["metricSource"]
    assert source == {"metricSourceRef": "mobile-push", "spec": {"query": "http_requests_total"}}

    openslo_import(files=[SourceFile("export.yaml", first)], team=team)
    slo.refresh_from_db()
    assert slo.data_source == push
    assert openslo_export(teams=[team]) == first

    as_prometheus = (
        "apiVersion: openslo/v1\nkind: DataSource\nmetadata:\n  name: mobile-push\n"
        "  displayName: Mobile push\nspec:\n  type: Prometheus\n"
        "  connectionDetails:\n    url: http://prometheus:9090\n"
    )
    found = problems_of([SourceFile("sources.yaml", as_prometheus)], team=team)
    assert len(found) == 1
    assert found[0].startswith(
        "sources.yaml: document 1: spec.type: team kintai already has “Mobile push” as a "
    )


def test_the_export_runs_three_queries_whatever_the_size(team, django_assert_num_queries):
    openslo_import(files=[example("kintai.yaml")], team=team)
    with django_assert_num_queries(3):
        openslo_export(teams=[team])


def test_exporting_every_team_keeps_each_object_in_its_team(db):
    openslo_import(files=[example("spec_v1_examples.yaml")], default_team="team-a")
    openslo_import(files=[example("sdk_v1_slos.yaml")], default_team="team-b")
    first = openslo_export(teams=Team.objects.all())
    before = counts()

    openslo_import(files=[SourceFile("all.yaml", first)])  # the labels name the teams
    assert counts() == before
    assert openslo_export(teams=Team.objects.all()) == first
    kinds = [document["kind"] for document in yaml.safe_load_all(first)]
    assert kinds == ["Service", "Service", "DataSource", "SLO", "SLO"] + [
        "Service",
        "DataSource",
        "SLO",
    ]


# --- The page --------------------------------------------------------------------------


def upload(client, team, *files: SourceFile, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("slos:openslo_import", args=[team.slug]),
        {
            "files": [
                SimpleUploadedFile(f.name, f.text.encode(), "application/yaml") for f in files
            ],
            **extra,
        },
    )


def test_a_member_uploads_files(client, teammate, team):
    client_for(client, teammate)
    page = client.get(reverse("slos:openslo_import", args=[team.slug]))
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content

    response = upload(client, team, example("kintai.yaml"), example("sdk_v1_slos.yaml"))
    assert response.status_code == 200
    assert b"Imported: 9 created, 0 updated, 0 unchanged." in response.content
    assert SLO.objects.filter(service__team=team).count() == 4


def test_an_upload_with_a_bad_document_shows_where_and_writes_nothing(client, teammate, team):
    client_for(client, teammate)
    before = counts()
    bad = SourceFile("slos.yaml", _slo(**{"target: 0.999": "target: 2"}))
    response = upload(client, team, example("kintai.yaml"), bad)
    assert response.status_code == 400
    assert "Nothing was imported" in response.content.decode()
    assert "slos.yaml: document 1: spec.objectives[0].target: must be between 0 and 1" in (
        response.content.decode()
    )
    assert counts() == before


def test_the_check_only_box_writes_nothing(client, owner, team):
    client_for(client, owner)
    before = counts()
    response = upload(client, team, example("kintai.yaml"), dry_run="on")
    assert response.status_code == 200
    assert b"Checked, nothing written: 6 to create" in response.content
    assert counts() == before


def test_viewers_may_not_import_and_outsiders_do_not_see_the_team(client, viewer, outsider, team):
    url = reverse("slos:openslo_import", args=[team.slug])
    client_for(client, viewer)
    assert client.get(url).status_code == 403
    assert upload(client, team, example("kintai.yaml")).status_code == 403
    client_for(client, outsider)
    assert client.get(url).status_code == 404
    assert upload(client, team, example("kintai.yaml")).status_code == 404
    assert SLO.objects.count() == 0


def test_any_member_downloads_the_teams_openslo(client, viewer, outsider, team, slo):
    url = reverse("slos:openslo_export", args=[team.slug])
    client_for(client, viewer)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="openslo-kintai.yaml"'
    assert response.content.decode() == openslo_export(teams=[team])
    client_for(client, outsider)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


# --- The commands -----------------------------------------------------------------------


def test_the_import_command_prints_what_it_did(db):
    out = StringIO()
    call_command(
        "import_openslo",
        str(EXAMPLES / "spec_v1_examples.yaml"),
        str(EXAMPLES / "sdk_v1_slos.yaml"),
        "--team",
        "team-a",
        stdout=out,
    )
    text = out.getvalue()
    assert "Team team-a (team team-a): created" in text
    assert "SLO foo-slo (team team-a): created" in text
    assert "note: " in text
    assert text.rstrip().endswith("Imported: 9 created, 0 updated, 0 unchanged.")

    out = StringIO()
    call_command(
        "import_openslo", str(EXAMPLES / "sdk_v1_slos.yaml"), "--team", "team-a", stdout=out
    )
    assert out.getvalue().rstrip().endswith("Imported: 0 created, 0 updated, 2 unchanged.")


def test_the_import_command_fails_with_every_problem_and_writes_nothing(db, tmp_path):
    bad = tmp_path / "slos.yaml"
    bad.write_text(
        VALID_SLO
        + "---\n"
        + _slo(**{"budgetingMethod: Occurrences": "budgetingMethod: RatioTimeslices"})
    )
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_openslo", str(bad), "--team", "kintai", stderr=err, stdout=StringIO())
    assert caught.value.returncode == 1
    assert str(caught.value) == "1 problem(s) found; nothing was imported."
    assert f"{bad}: document 2: spec.budgetingMethod: RatioTimeslices is not supported" in (
        err.getvalue()
    )
    assert counts() == (0, 0, 0, 0)  # not even the team


def test_the_import_command_refuses_a_missing_file(db, tmp_path):
    err = StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("import_openslo", str(tmp_path / "nope.yaml"), stderr=err)
    assert "nope.yaml: cannot read" in err.getvalue()


def test_the_export_command_writes_yaml_and_a_summary(team, slo, tmp_path):
    out, err = StringIO(), StringIO()
    call_command("export_openslo", "--team", "kintai", stdout=out, stderr=err)
    assert out.getvalue() == openslo_export(teams=[team])
    assert err.getvalue().strip() == (
        "Exported 1 service(s), 1 data source(s) and 1 SLO(s) of team kintai."
    )

    target = tmp_path / "out.yaml"
    out = StringIO()
    call_command("export_openslo", "--output", str(target), stdout=out)
    assert target.read_text() == openslo_export(teams=[team])
    assert "of 1 team(s). Written to" in out.getvalue()

    with pytest.raises(CommandError, match="No team with slug"):
        call_command("export_openslo", "--team", "nope")


def test_command_round_trip_through_files(team, tmp_path):
    call_command(
        "import_openslo", str(EXAMPLES / "kintai.yaml"), "--team", "kintai", stdout=StringIO()
    )
    first = tmp_path / "first.yaml"
    call_command("export_openslo", "--output", str(first), stdout=StringIO())
    call_command("import_openslo", str(first), stdout=StringIO())
    second = tmp_path / "second.yaml"
    call_command("export_openslo", "--output", str(second), stdout=StringIO())
    assert second.read_text() == first.read_text()
