""" "Try the queries" on the SLO form: the form's queries evaluated against the chosen
source over the last day, as a pull evaluates them (slos/ingestion/trial.py), against
the suite's real Prometheus; and every way it cannot give numbers, said in words. The
trial stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from portal.formatting import sli_text, whole_count_text
from slos.ingestion.trial import TRIAL_HOURS, TrialOutcome, slo_queries_try
from slos.models import SLO, HourlyBucket, PullRun
from slos.registry import services
from tests.conftest import client_for
from tests.factories import DataSourceFactory
from tests.prom import (
    DATA_END,
    GOOD_QUERY,
    HOUR,
    STEP,
    VALID_QUERY,
    expected_hour,
    find,
    hours_between,
    value_at,
)
from tests.realparts import free_port
from tests.slos.ingestion.fake_http import ScriptedServer
from tests.slos.registry.test_slo_views import slo_form

# Half an hour into the first hour after the data ends: the last complete day is the
# data's last day, every hour of it with samples.
AT = DATA_END + timedelta(minutes=30)
DAY = list(hours_between(DATA_END - timedelta(hours=TRIAL_HOURS), DATA_END))
BAD_QUERY = 'sum(increase(http_requests_total{job="api",code=~"5.."}[$window]))'


@pytest.fixture
def prom_source(team, prometheus):
    return services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )


def trial_slo(source, **definition) -> SLO:
    """An SLO as the form builds it before saving: never stored."""
    definition.setdefault("good_query", GOOD_QUERY)
    definition.setdefault("valid_query", VALID_QUERY)
    return SLO(data_source=source, name="Tried", target="99.9", **definition)


def day_totals(series) -> tuple[int, int]:
    hours = [expected_hour(series, hour) for hour in DAY]
    return sum(good for good, _ in hours), sum(valid for _, valid in hours)


# The numbers, from the real Prometheus --------------------------------------------------


@pytest.mark.prometheus
def test_a_ratio_gives_the_last_days_exact_counts(prom_source, prometheus):
    trial = slo_queries_try(trial_slo(prom_source), at=AT)

    good, valid = day_totals(prometheus.series)
    assert trial.outcome == TrialOutcome.NUMBERS
    assert (trial.start, trial.end) == (DAY[0], DATA_END)
    assert (trial.good, trial.valid) == (good, valid)
    assert trial.hours_with_data == trial.hours == 24
    assert trial.sli_percent == pytest.approx(good / valid * 100)
    assert trial.inconsistent_hours == 0
    assert [query.text for query in trial.queries] == [
        VALID_QUERY.replace("$window", "1h"),
        GOOD_QUERY.replace("$window", "1h"),
    ]
    assert not SLO.objects.exists() and not HourlyBucket.objects.exists()
    assert not PullRun.objects.exists()


@pytest.mark.prometheus
def test_counting_bad_events_gives_the_same_good_ones(prom_source, prometheus):
    trial = slo_queries_try(
        trial_slo(prom_source, ratio_of="bad", good_query="", bad_query=BAD_QUERY), at=AT
    )
    assert (trial.good, trial.valid) == day_totals(prometheus.series)
    assert trial.queries[1].role == "bad events query"


@pytest.mark.prometheus
def test_a_histogram_counts_its_bucket_over_its_count(prom_source, prometheus):
    trial = slo_queries_try(
        trial_slo(
            prom_source,
            sli_kind="histogram",
            histogram_metric="http_request_duration_seconds",
            histogram_labels='job="api"',
            threshold=0.5,
        ),
        at=AT,
    )
    [bucket] = find(prometheus.series, "http_request_duration_seconds_bucket")
    [count] = find(prometheus.series, "http_request_duration_seconds_count")
    assert trial.outcome == TrialOutcome.NUMBERS
    assert trial.good == bucket.increase(DAY[0], DATA_END)
    assert trial.valid == count.increase(DAY[0], DATA_END)
    assert trial.queries[1].role == "histogram bucket le=0.5 (good events)"


@pytest.mark.prometheus
def test_a_gauge_counts_its_good_timeslices(prom_source, prometheus):
    trial = slo_queries_try(
        trial_slo(
            prom_source,
            sli_kind="gauge",
            gauge_query='max(queue_lag_seconds{job="worker"})',
            threshold_op="lt",
            threshold=10,
            budgeting_method="timeslices",
            timeslice_target="95",
            timeslice_minutes=5,
        ),
        at=AT,
    )
    [lag] = find(prometheus.series, "queue_lag_seconds")
    slice_ends = [DAY[0] + STEP * n for n in range(1, 24 * 12 + 1)]
    assert trial.outcome == TrialOutcome.NUMBERS
    assert trial.uses_timeslices
    assert trial.total_slices == 288
    assert trial.good_slices == sum(1 for end in slice_ends if value_at(lag, end) < 10)
    assert 0 < trial.good_slices < 288  # the generated lag spikes now and then
    assert trial.sli_percent == pytest.approx(trial.good_slices / 288 * 100)


@pytest.mark.prometheus
def test_swapped_queries_are_flagged_as_a_data_error(prom_source):
    trial = slo_queries_try(
        trial_slo(prom_source, good_query=VALID_QUERY, valid_query=GOOD_QUERY), at=AT
    )
    assert trial.outcome == TrialOutcome.NUMBERS
    assert trial.good > trial.valid
    assert trial.inconsistent_hours > 0


@pytest.mark.prometheus
def test_hours_before_the_metric_existed_are_no_data(prom_source):
    """Six hours after the data ends, six of the day's hours have no samples."""
    trial = slo_queries_try(trial_slo(prom_source), at=DATA_END + 6 * HOUR + timedelta(minutes=1))
    assert trial.hours_with_data == 18
    assert trial.hours == 24


# Every way there are no numbers ----------------------------------------------------------


@pytest.mark.prometheus
def test_a_query_prometheus_refuses_names_the_query_and_quotes_prometheus(prom_source):
    trial = slo_queries_try(
        trial_slo(prom_source, good_query='sum(increase(http_requests_total{job="api"[$window]))'),
        at=AT,
    )
    assert trial.outcome == TrialOutcome.REFUSED
    [refused] = trial.refused
    assert refused.role == "good events query"
    assert "Prometheus rejected the query" in refused.error and "parse error" in refused.error


@pytest.mark.prometheus
def test_a_query_with_several_series_is_told_to_sum_them(prom_source):
    trial = slo_queries_try(
        trial_slo(prom_source, valid_query="increase(http_requests_total[$window])"), at=AT
    )
    assert trial.outcome == TrialOutcome.REFUSED
    [refused] = trial.refused
    assert refused.role == "valid events query"
    assert "returned 2 series" in refused.error and "sum(" in refused.error


@pytest.mark.prometheus
def test_an_unknown_metric_is_no_data_not_zero(prom_source):
    trial = slo_queries_try(
        trial_slo(
            prom_source,
            good_query="sum(increase(no_such_metric_total[$window]))",
            valid_query="sum(increase(no_such_metric_total[$window]))",
        ),
        at=AT,
    )
    assert trial.outcome == TrialOutcome.NO_DATA
    assert trial.hours_with_data == 0 and trial.sli_percent is None


def test_an_unreachable_source_says_it_could_not_connect(team):
    source = DataSourceFactory(team=team, url=f"http://127.0.0.1:{free_port()}")
    trial = slo_queries_try(trial_slo(source), at=AT)
    assert trial.outcome == TrialOutcome.SOURCE
    assert "could not connect" in trial.source_error
    assert "after 1 attempts" in trial.source_error  # a person waits: no retries


def test_a_source_answering_garbage_says_so(team):
    with ScriptedServer([], default="garbage") as server:
        source = DataSourceFactory(team=team, url=server.url)
        trial = slo_queries_try(trial_slo(source), at=AT)
    assert trial.outcome == TrialOutcome.SOURCE
    assert "not JSON" in trial.source_error
    assert len(server.requests) == 1


def test_a_source_answering_the_wrong_shape_says_so(team):
    with ScriptedServer([], default="wrong-shape") as server:
        source = DataSourceFactory(team=team, url=server.url)
        trial = slo_queries_try(trial_slo(source), at=AT)
    assert trial.outcome == TrialOutcome.SOURCE
    assert "not a range-query result" in trial.source_error


def test_a_pushed_source_is_not_queried(team):
    pushed = DataSourceFactory(team=team, kind="push", url="")
    trial = slo_queries_try(trial_slo(pushed), at=AT)
    assert trial.outcome == TrialOutcome.PUSHED
    assert trial.queries == ()


# The page ---------------------------------------------------------------------------------


def try_url(team) -> str:
    return reverse("slos:queries_try", args=[team.slug])


HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.prometheus
@time_machine.travel(AT, tick=True)
def test_a_member_sees_the_numbers_in_place_and_nothing_is_saved(
    client, teammate, team, service, prom_source, prometheus
):
    client_for(client, teammate)
    data = slo_form(service, prom_source, good_query=GOOD_QUERY, valid_query=VALID_QUERY)
    response = client.post(try_url(team), data, **HTMX)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page and page.lstrip().startswith('<div id="query-trial"')
    good, valid = day_totals(prometheus.series)
    assert f'id="trial-good">{whole_count_text(good)}<' in page
    assert f'id="trial-valid">{whole_count_text(valid)}<' in page
    assert f'id="trial-sli">{sli_text(good / valid * 100)}%<' in page
    assert 'id="trial-hours">24 of 24<' in page
    assert 'data-outcome="numbers"' in page
    assert response["Vary"] and "HX-Request" in response["Vary"]
    assert not SLO.objects.exists() and not PullRun.objects.exists()


def test_without_script_the_trial_answers_a_page_of_its_own(client, teammate, team, service):
    pushed = DataSourceFactory(team=team, name="Batch jobs", kind="push", url="")
    client_for(client, teammate)
    response = client.post(try_url(team), slo_form(service, pushed))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and "Nothing was saved" in page
    assert "“Batch jobs” is not queried" in page


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"data_source": ""}, "Choose the data source to try the queries on."),
        ({"valid_query": ""}, "A ratio SLI needs a query for valid events."),
        ({"good_query": "sum(x)"}, "must contain $window"),
        ({"sli_kind": "gauge", "gauge_query": "max(lag)"}, "choose the Timeslices method"),
    ],
)
def test_what_keeps_the_queries_from_a_try_is_said_in_the_region(
    client, teammate, team, service, data_source, overrides, said
):
    client_for(client, teammate)
    data = {**slo_form(service, data_source), **overrides}
    swapped = client.post(try_url(team), data, **HTMX)
    assert swapped.status_code == 200  # htmx swaps only a successful answer
    assert 'id="query-trial-problems"' in swapped.content.decode()
    assert said in swapped.content.decode()
    plain = client.post(try_url(team), data)
    assert plain.status_code == 400
    assert said in plain.content.decode()
    assert not SLO.objects.exists()


def test_another_teams_source_cannot_be_tried(client, teammate, team, service, other_team):
    theirs = DataSourceFactory(team=other_team, name="Theirs")
    client_for(client, teammate)
    response = client.post(try_url(team), slo_form(service, theirs), **HTMX)
    assert "Select a valid choice" in response.content.decode()
    assert 'data-outcome="' not in response.content.decode()


def test_the_page_names_an_unreachable_source_and_links_to_it(client, teammate, team, service):
    source = DataSourceFactory(team=team, name="Old Prometheus", url="http://127.0.0.1:9")
    client_for(client, teammate)
    page = client.post(try_url(team), slo_form(service, source), **HTMX).content.decode()
    assert 'data-outcome="source"' in page
    assert "“Old Prometheus” gave no usable answer" in page
    assert "could not connect" in page
    assert reverse("slos:source_detail", args=[source.pk]) in page


def test_only_members_may_try_queries(client, viewer, outsider, team, service, data_source):
    data = slo_form(service, data_source)
    client_for(client, viewer)
    assert client.post(try_url(team), data, **HTMX).status_code == 403
    client_for(client, outsider)
    assert client.post(try_url(team), data, **HTMX).status_code == 404
    assert client.get(try_url(team)).status_code == 405
