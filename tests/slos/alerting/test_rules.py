"""Prometheus rules for SLOs: the burn-rate factors scale with the SLO's window, the
generated file passes `promtool check rules` for every SLO shape, `promtool test rules`
shows the page and ticket alerts firing on a burn and quiet on healthy traffic, the
output is stable, and the downloads are for the team only."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from fractions import Fraction
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse

from slos.alerting.rules import (
    BURN_ALERTS,
    INTAKE_TOKEN_PLACEHOLDER,
    RuleSLO,
    burn_rate_factor,
    render_alertmanager,
    render_rules,
    window_days_of,
)
from slos.models import DataSource, DataSourceKind
from slos.registry import services as slo_services
from slos.sli import EventQueries, histogram_queries
from tests.conftest import client_for
from tests.realparts import PROMTOOL, executable, require


def factors(window_days: int) -> list[float]:
    return [
        burn_rate_factor(
            budget_fraction=alert.budget_fraction,
            window_days=window_days,
            long_window=alert.long_window,
        )
        for alert in BURN_ALERTS
    ]


def run_promtool(*args: str) -> subprocess.CompletedProcess:
    require(executable(PROMTOOL), "promtool (Debian package prometheus)")
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, check=False
    )


# The factors, checked by hand.


def test_a_30_day_window_uses_the_workbook_factors_exactly():
    assert factors(30) == [14.4, 6, 3, 1]


def test_a_28_day_window_scales_the_factors_down():
    # 2% of 672 h in 1 h = 13.44; 5% in 6 h = 5.6; 10% in 24 h = 2.8; 10% in 72 h = 0.9333…
    assert factors(28) == [13.44, 5.6, 2.8, pytest.approx(0.933333333)]
    assert burn_rate_factor(
        budget_fraction=Fraction(10, 100), window_days=28, long_window="3d"
    ) == float(Fraction(28, 30))


def test_calendar_windows_use_the_nominal_period_length():
    month = window_days_of(window_kind="calendar", window_days=7, calendar_period="month")
    quarter = window_days_of(window_kind="calendar", window_days=7, calendar_period="quarter")
    rolling = window_days_of(window_kind="rolling", window_days=7, calendar_period="month")

    week = window_days_of(window_kind="calendar", window_days=28, calendar_period="week")
    day = window_days_of(window_kind="calendar", window_days=28, calendar_period="day")

    assert (month, quarter, rolling, week, day) == (30, 90, 7, 7, 1)
    assert factors(month) == [14.4, 6, 3, 1]
    assert factors(quarter) == [43.2, 18, 9, 3]


# promtool check rules: every SLO shape, made through the real services.


@pytest.fixture
def many_shapes(team, service, data_source, slo):
    """Besides `slo` (good/valid, 99.9, 28-day rolling): bad/valid, histogram, 30-day,
    calendar month and quarter, a name with template braces, and three that are skipped
    (gauge, timeslices, a push source)."""
    create = slo_services.slo_create
    common = {"service": service, "data_source": data_source}
    create(
        **common,
        name="Clock-in errors",
        ratio_of="bad",
        bad_query='sum(increase(http_requests_total{code=~"5.."}[$window]))',
        valid_query="sum(increase(http_requests_total[$window]))",
        target=Decimal("99.5"),
        window_days=30,
    )
    create(
        **common,
        name="Clock-in latency",
        sli_kind="histogram",
        histogram_metric="http_request_duration_seconds",
        histogram_labels='job="api",route="/clock-in"',
        threshold=0.5,
        target=Decimal("99"),
        window_kind="calendar",
        calendar_period="month",
    )
    create(
        **common,
        name="Quarterly {{ weird }} name",
        good_query='sum(increase(http_requests_total{code!~"5.."}[$window]))',
        valid_query="sum(increase(http_requests_total[$window]))",
        target=Decimal("95"),
        window_kind="calendar",
        calendar_period="quarter",
    )
    create(
        **common,
        name="Queue lag",
        sli_kind="gauge",
        gauge_query="max_over_time(queue_lag_seconds[$window])",
        threshold_op="lt",
        threshold=30,
        target=Decimal("99"),
        budgeting_method="timeslices",
        timeslice_target=Decimal("95"),
    )
    create(
        **common,
        name="Sliced availability",
        good_query='sum(increase(http_requests_total{code!~"5.."}[$window]))',
        valid_query="sum(increase(http_requests_total[$window]))",
        target=Decimal("99"),
        budgeting_method="timeslices",
        timeslice_target=Decimal("95"),
    )
    pushed = DataSource.objects.create(team=team, name="Pushed", kind=DataSourceKind.PUSH)
    create(
        service=service,
        data_source=pushed,
        name="Pushed availability",
        target=Decimal("99"),
    )


def render_command(*args: str) -> str:
    out = StringIO()
    call_command("render_rules", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_promtool_accepts_the_rules_for_every_slo_shape(many_shapes, tmp_path):
    path = tmp_path / "slo-rules.yaml"
    call_command("render_rules", "--team", "kintai", "--out", str(path), stdout=StringIO())

    checked = run_promtool("check", "rules", str(path))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    # 4 SLOs with rules × (7 recording + 4 alerting rules).
    assert "SUCCESS: 44 rules found" in checked.stdout
    text = path.read_text()
    document = yaml.safe_load(text)
    assert [group["name"] for group in document["groups"]] == [
        "slo:kintai:clock-in-api:clock-in-availability",
        "slo:kintai:clock-in-api:clock-in-errors",
        "slo:kintai:clock-in-api:clock-in-latency",
        "slo:kintai:clock-in-api:quarterly-weird-name",
    ]
    assert "# Skipped kintai/clock-in-api/queue-lag (Queue lag): a gauge SLI" in text
    assert "# Skipped kintai/clock-in-api/sliced-availability" in text
    assert "not Prometheus (data arrives by push)" in text


def test_each_shape_records_its_own_error_ratio_and_thresholds(many_shapes):
    groups = {group["name"]: group["rules"] for group in yaml.safe_load(render_command())["groups"]}

    errors = groups["slo:kintai:clock-in-api:clock-in-errors"]
    assert [rule.get("record") for rule in errors[:7]] == [
        f"slo:sli_error:ratio_rate{window}"
        for window in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    ]
    assert errors[0]["expr"] == (
        '(sum(increase(http_requests_total{code=~"5.."}[5m])))\n/\n'
        "(sum(increase(http_requests_total[5m])))"
    )
    assert errors[0]["labels"] == {
        "slo": "clock-in-errors",
        "service": "clock-in-api",
        "team": "kintai",
    }
    # 99.5% over 30 days: the workbook's factors times a 0.005 budget.
    assert [rule["expr"].split(" > ")[1].split("\n")[0] for rule in errors[7:]] == [
        "(14.4 * 0.005)",
        "(6 * 0.005)",
        "(3 * 0.005)",
        "(1 * 0.005)",
    ]
    latency = groups["slo:kintai:clock-in-api:clock-in-latency"]
    assert (
        'http_request_duration_seconds_bucket{job="api",route="/clock-in",le="0.5"}[1h]'
        in (latency[2]["expr"])
    )
    assert latency[2]["expr"].startswith("1 - (")
    # The fixture's SLO: 99.9% over 28 days.
    page = groups["slo:kintai:clock-in-api:clock-in-availability"][7]
    assert page["alert"] == "SLOErrorBudgetBurnPage"
    assert page["expr"] == (
        'slo:sli_error:ratio_rate1h{slo="clock-in-availability",service="clock-in-api",'
        'team="kintai"} > (13.44 * 0.001)\nand\n'
        'slo:sli_error:ratio_rate5m{slo="clock-in-availability",service="clock-in-api",'
        'team="kintai"} > (13.44 * 0.001)'
    )
    assert page["labels"]["severity"] == "page"
    assert "Clock-in availability" in page["annotations"]["summary"]
    assert "2% of its 28-day budget" in page["annotations"]["summary"]
    ticket = groups["slo:kintai:clock-in-api:clock-in-availability"][10]
    assert ticket["labels"]["severity"] == "ticket"
    assert "10% of its 28-day budget goes in 3d" in ticket["annotations"]["summary"]


def test_the_output_is_stable_and_links_to_the_slo_page(many_shapes, slo):
    first = render_command("--base-url", "https://portal.example.com/")

    assert render_command("--base-url", "https://portal.example.com/") == first
    assert f"slo_url: https://portal.example.com/slos/{slo.pk}/\n" in first
    assert "http://127.0.0.1:8000" in render_command()


def test_the_command_refuses_an_unknown_team(db):
    with pytest.raises(CommandError, match="nope"):
        call_command("render_rules", "--team", "nope", stdout=StringIO())


def test_a_team_without_slos_gets_an_empty_but_valid_file(team, tmp_path):
    path = tmp_path / "empty.yaml"
    call_command("render_rules", "--team", "kintai", "--out", str(path), stdout=StringIO())

    assert yaml.safe_load(path.read_text()) == {"groups": []}
    checked = run_promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


# promtool test rules: the alerts fire on a burn and stay quiet on healthy traffic.


def scenario(pk: int, label: str, queries: EventQueries) -> RuleSLO:
    return RuleSLO(
        pk=pk,
        name=f"{label.title()} availability",
        slo_label=label,
        service_label="api",
        team_label="kintai",
        service_name="API",
        target_percent=Decimal("99.9"),
        window_days=30,
        page_path=f"/slos/{pk}/",
        queries=queries,
    )


def requests_queries(job: str, *, count_bad: bool) -> EventQueries:
    valid = f'sum(increase(http_requests_total{{job="{job}"}}[$window]))'
    if count_bad:
        return EventQueries(
            valid=valid,
            bad=f'sum(increase(http_requests_total{{job="{job}",code=~"5.."}}[$window]))',
        )
    return EventQueries(
        valid=valid,
        good=f'sum(increase(http_requests_total{{job="{job}",code!~"5.."}}[$window]))',
    )


# A 99.9% SLO over 30 days pages above 1.44% errors (1h and 5m) or 0.6% (6h and 30m),
# and tickets above 0.3% (1d and 2h) or 0.1% (3d and 6h).
BURST = scenario(1, "burst", requests_queries("burst", count_bad=False))  # 9.1% for an hour
SLOW = scenario(2, "slow", requests_queries("slow", count_bad=True))  # 0.5%: tickets only
HEALTHY = scenario(
    3, "healthy", histogram_queries("http_request_duration_seconds", 'job="healthy"', 0.5)
)  # 0.04% slow requests: nothing

SERIES = [
    # One sample a minute for 130 minutes; the burst's errors stop after the first hour.
    {"series": 'http_requests_total{job="burst",code="200"}', "values": "0+100x130"},
    {"series": 'http_requests_total{job="burst",code="500"}', "values": "0+10x60 600+0x70"},
    {"series": 'http_requests_total{job="slow",code="200"}', "values": "0+995x130"},
    {"series": 'http_requests_total{job="slow",code="500"}', "values": "0+5x130"},
    {
        "series": 'http_request_duration_seconds_bucket{job="healthy",le="0.5"}',
        "values": "0+9996x130",
    },
    {"series": 'http_request_duration_seconds_count{job="healthy"}', "values": "0+10000x130"},
]


def expected(rules_text: str, slo: RuleSLO, long_window: str) -> dict:
    """The alert as the rule file says it fires: its labels and annotations."""
    for group in yaml.safe_load(rules_text)["groups"]:
        for rule in group["rules"]:
            labels = rule.get("labels", {})
            if labels.get("slo") == slo.slo_label and labels.get("long_window") == long_window:
                return {"exp_labels": labels, "exp_annotations": rule["annotations"]}
    raise AssertionError(f"no alert for {slo.slo_label} over {long_window}")


def promtool_test(tmp_path: Path, rules_text: str, tests: list[dict]) -> None:
    (tmp_path / "rules.yaml").write_text(rules_text)
    unit = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(unit, sort_keys=False))

    result = run_promtool("test", "rules", str(tmp_path / "test.yaml"))

    assert result.returncode == 0, result.stdout + result.stderr


def alert_test(at: str, alertname: str, alerts: list[dict]) -> dict:
    return {"eval_time": at, "alertname": alertname, "exp_alerts": alerts}


def test_promtool_sees_pages_and_tickets_fire_on_a_burn_and_healthy_traffic_stay_quiet(
    tmp_path,
):
    text = render_rules([HEALTHY, SLOW, BURST])

    def fires(slo: RuleSLO, long_window: str) -> dict:
        return expected(text, slo, long_window)

    promtool_test(
        tmp_path,
        text,
        [
            {
                "interval": "1m",
                "input_series": SERIES,
                "alert_rule_test": [
                    # During the burst: both pages and both tickets for it; the slow burn
                    # only tickets; the healthy SLO nothing.
                    alert_test(
                        "55m", "SLOErrorBudgetBurnPage", [fires(BURST, "1h"), fires(BURST, "6h")]
                    ),
                    alert_test(
                        "55m",
                        "SLOErrorBudgetBurnTicket",
                        [
                            fires(BURST, "1d"),
                            fires(BURST, "3d"),
                            fires(SLOW, "1d"),
                            fires(SLOW, "3d"),
                        ],
                    ),
                    # 55 minutes after the burst ended the short windows are clean: no
                    # more pages, while the tickets for the spent budget stay.
                    alert_test("115m", "SLOErrorBudgetBurnPage", []),
                    alert_test(
                        "115m",
                        "SLOErrorBudgetBurnTicket",
                        [
                            fires(BURST, "1d"),
                            fires(BURST, "3d"),
                            fires(SLOW, "1d"),
                            fires(SLOW, "3d"),
                        ],
                    ),
                ],
            }
        ],
    )


def test_promtool_sees_healthy_traffic_stay_quiet_for_hours(tmp_path):
    healthy_for_ten_hours = [
        {
            "series": 'http_request_duration_seconds_bucket{job="healthy",le="0.5"}',
            "values": "0+9996x600",
        },
        {"series": 'http_request_duration_seconds_count{job="healthy"}', "values": "0+10000x600"},
    ]
    checks = [
        alert_test(at, alertname, [])
        for at in ["10m", "1h", "5h", "10h"]
        for alertname in ["SLOErrorBudgetBurnPage", "SLOErrorBudgetBurnTicket"]
    ]
    promtool_test(
        tmp_path,
        render_rules([HEALTHY]),
        [{"interval": "1m", "input_series": healthy_for_ten_hours, "alert_rule_test": checks}],
    )


def test_names_that_slugify_alike_get_distinct_labels():
    twin = RuleSLO(**{**BURST.__dict__, "pk": 9, "name": "Burst  availability"})

    groups = yaml.safe_load(render_rules([twin, BURST]))["groups"]

    assert [group["name"] for group in groups] == [
        "slo:kintai:api:burst",
        "slo:kintai:api:burst-9",
    ]


# The Alertmanager routing.


def test_the_alertmanager_snippet_routes_pages_to_slack_and_tickets_to_the_intake():
    config = yaml.safe_load(
        render_alertmanager(team_slug="kintai", base_url="https://portal.example.com/")
    )

    team_route = config["route"]["routes"][0]
    assert team_route["matchers"] == ['team="kintai"']
    assert [(route["matchers"], route["receiver"]) for route in team_route["routes"]] == [
        (['severity="page"'], "kintai-slack"),
        (['severity="ticket"'], "kintai-portal-intake"),
    ]
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    assert receivers["kintai-slack"]["slack_configs"][0]["api_url"].startswith(
        "https://hooks.slack.com/"
    )
    assert receivers["kintai-portal-intake"]["webhook_configs"][0]["url"] == (
        f"https://portal.example.com/api/v1/intake/alertmanager/{INTAKE_TOKEN_PLACEHOLDER}"
    )


# The downloads.


@pytest.mark.parametrize("member", ["owner", "teammate", "viewer"])
def test_any_team_member_downloads_the_rules(request, client, slo, member):
    user = request.getfixturevalue(member)

    response = client_for(client, user).get(reverse("slos:rules", args=["kintai"]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="slo-rules-kintai.yaml"'
    text = response.content.decode()
    assert [group["name"] for group in yaml.safe_load(text)["groups"]] == [
        "slo:kintai:clock-in-api:clock-in-availability"
    ]
    assert f"slo_url: http://testserver/slos/{slo.pk}/" in text


def test_a_team_member_downloads_the_alertmanager_routing(client, teammate):
    response = client_for(client, teammate).get(reverse("slos:alertmanager", args=["kintai"]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="alertmanager-kintai.yaml"'
    config = yaml.safe_load(response.content)
    assert config["receivers"][1]["webhook_configs"][0]["url"] == (
        f"http://testserver/api/v1/intake/alertmanager/{INTAKE_TOKEN_PLACEHOLDER}"
    )


@pytest.mark.parametrize("name", ["slos:rules", "slos:alertmanager"])
def test_outsiders_get_404_and_strangers_the_login_page(client, slo, outsider, name):
    url = reverse(name, args=["kintai"])

    assert client.get(url).status_code == 302
    assert client_for(client, outsider).get(url).status_code == 404
    assert client.get(reverse(name, args=["no-such-team"])).status_code == 404


def test_the_download_is_get_only(client, owner, slo):
    response = client_for(client, owner).post(reverse("slos:rules", args=["kintai"]))

    assert response.status_code == 405


def test_the_download_leaves_out_other_teams_slos(client, owner, slo, other_team, outsider):
    other_service = slo_services.service_create(team=other_team, name="Payroll")
    other_source = slo_services.data_source_create(
        team=other_team, name="Prom", url="http://127.0.0.1:9", timeout_seconds=2
    )
    slo_services.slo_create(
        service=other_service,
        data_source=other_source,
        name="Payroll availability",
        good_query="sum(increase(ok_total[$window]))",
        valid_query="sum(increase(all_total[$window]))",
        target=Decimal("99"),
    )

    text = client_for(client, owner).get(reverse("slos:rules", args=["kintai"])).content
    other = client_for(client, outsider).get(reverse("slos:rules", args=["other"])).content

    assert b"payroll" not in text
    assert b"clock-in" not in other and b"payroll-availability" in other


def test_alerts_that_can_never_fire_are_pointed_out(tmp_path):
    # 90% over 30 days: the 1h page needs errors above 14.4 × 0.1 = 144%.
    loose = RuleSLO(**{**BURST.__dict__, "target_percent": Decimal("90.00000")})

    text = render_rules([loose])

    assert "# Note: the page alert of burst over 1h can never fire" in text
    assert "target 90%" in text
    assert "over 6h can never fire" not in text  # 6 × 0.1 = 0.6 is reachable


def test_the_download_runs_the_same_queries_for_any_number_of_slos(
    client, owner, service, data_source, slo, django_assert_num_queries
):
    url = reverse("slos:rules", args=["kintai"])
    client = client_for(client, owner)
    client.get(url)  # the session and user, loaded once
    with django_assert_num_queries(5) as one:
        client.get(url)
    for number in range(3):
        slo_services.slo_create(
            service=service,
            data_source=data_source,
            name=f"Endpoint {number}",
            good_query="sum(increase(ok_total[$window]))",
            valid_query="sum(increase(all_total[$window]))",
            target=Decimal("99"),
        )

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert response.content.count(b"- name: slo:kintai:") == 4
