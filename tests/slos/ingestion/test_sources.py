"""Data sources: admins only, secrets write-only, clear messages; the source page, the
ingestion health page and the pull progress partial."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from slos.models import DataSource, PullRun
from tests.conftest import client_for
from tests.factories import DataSourceFactory, PullRunFactory, hourly_buckets, hours_before


def source_post(**overrides) -> dict:
    data = {
        "name": "Prom",
        "kind": "prometheus",
        "url": "http://prometheus:9090/",
        "timeout_seconds": "10",
        "verify_tls": "on",
        "auth_kind": "none",
        "bearer_token": "",
        "basic_username": "",
        "basic_password": "",
        "extra_headers": "",
    }
    return data | overrides


def test_only_admins_add_data_sources(client, owner, teammate, team):
    url = reverse("slos:source_create", args=[team.slug])
    assert client_for(client, teammate).get(url).status_code == 403
    client_for(client, owner)
    response = client.post(url, source_post())
    source = DataSource.objects.get(team=team)
    assert response["Location"] == reverse("slos:source_detail", args=[source.pk])
    assert source.url == "http://prometheus:9090"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": "ftp://x"}, "http:// or https://"),
        ({"url": "prometheus:9090"}, "http:// or https://"),
        ({"url": "http://prometheus:99999"}, "port in this URL"),
        ({"url": ""}, "needs the URL of its API"),
        ({"timeout_seconds": "0"}, "greater than or equal to 0.5"),
        ({"auth_kind": "bearer"}, "Give the bearer token"),
        ({"auth_kind": "basic"}, "Give the basic auth user name"),
        ({"extra_headers": "{not json"}, "Not valid JSON"),
        ({"extra_headers": '{"X-Org": 1}'}, "JSON object of text values"),
        ({"kind": "carrier-pigeon"}, "Select a valid choice"),
    ],
)
def test_bad_source_values_are_refused(client, owner, team, overrides, message):
    response = client_for(client, owner).post(
        reverse("slos:source_create", args=[team.slug]), source_post(**overrides)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DataSource.objects.exists()


def test_secrets_are_never_shown_back_and_blank_keeps_them(client, owner, team):
    source = DataSource.objects.create(
        team=team,
        name="Prom",
        url="http://prometheus:9090",
        auth_kind="bearer",
        bearer_token="super-secret-token-9876",
        extra_headers={"X-Scope-OrgID": "tenant-secret-value"},
    )
    client_for(client, owner)
    edit_url = reverse("slos:source_edit", args=[team.slug, source.pk])
    for page in [client.get(edit_url), client.get(reverse("slos:source_detail", args=[source.pk]))]:
        html = page.content.decode()
        assert "super-secret-token-9876" not in html and "tenant-secret-value" not in html
        assert "••••9876" in html
    form = client.get(edit_url).context["form"]
    response = client.post(
        edit_url,
        source_post(
            auth_kind="bearer",
            timeout_seconds="20",
            extra_headers=form.initial["extra_headers"],
        ),
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.bearer_token == "super-secret-token-9876"
    assert source.extra_headers == {"X-Scope-OrgID": "tenant-secret-value"}
    assert source.timeout_seconds == 20


def test_outsiders_and_viewers(client, viewer, outsider, team):
    source = DataSourceFactory(team=team, name="Prom", url="http://p:9090")
    client_for(client, viewer)
    assert client.get(reverse("slos:source_detail", args=[source.pk])).status_code == 200
    assert client.post(reverse("slos:source_pull", args=[source.pk])).status_code == 403
    client.logout()
    client_for(client, outsider)
    assert client.get(reverse("slos:source_detail", args=[source.pk])).status_code == 404
    assert "Prom" not in client.get(reverse("slos:ingestion")).content.decode()


def test_health_page_shows_runs_with_outcomes(client, viewer, team, slo):
    now = timezone.now()
    PullRun.objects.create(
        data_source=slo.data_source,
        started_at=now - timedelta(seconds=42),
        finished_at=now,
        until=now,
        status="partial",
        hours_stored=120,
        count_ok=3,
        count_partial=2,
        count_failed=1,
        outcomes=[{"slo_id": 2, "status": "failed", "message": "timed out"}],
    )
    html = client_for(client, viewer).get(reverse("slos:ingestion")).content.decode()
    assert "42.0 s" in html
    assert "3 / 2 / 1" in html
    assert ">120<" in html


def test_runs_recorded_before_the_counts_are_counted_and_trimmed(slo):
    """Migration 0015: a run from before kept one entry per SLO."""
    now = timezone.now()
    ok = {"status": "ok", "message": "", "hours_missing": 24, "hours_stored": 24}
    no_data = {"status": "ok", "message": "", "hours_missing": 24, "hours_stored": 20}
    failed = {"status": "failed", "message": "timed out", "hours_missing": 24, "hours_stored": 0}
    partial = {"status": "partial", "message": "HTTP 500", "hours_missing": 24, "hours_stored": 9}
    run = PullRunFactory(
        data_source=slo.data_source, started_at=now, outcomes=[ok, no_data, ok, failed, partial, ok]
    )
    empty = PullRunFactory(data_source=slo.data_source, started_at=now)

    import_module("slos.migrations.0015_pull_run_counts").count_and_trim(apps, None)

    run.refresh_from_db()
    assert (run.count_ok, run.count_partial, run.count_failed) == (4, 1, 1)
    assert run.outcomes == [no_data, failed, partial]
    empty.refresh_from_db()
    assert (empty.count_ok, empty.count_partial, empty.count_failed) == (0, 0, 0)
    assert empty.outcomes == []


def test_progress_partial_polls_while_running_and_stops_when_done(client, viewer, slo):
    now = timezone.now()
    run = PullRun.objects.create(
        data_source=slo.data_source,
        slo=slo,
        trigger="backfill",
        started_at=now,
        until=now,
        hours_missing=672,
        hours_done=168,
    )
    url = reverse("slos:pull_progress", args=[slo.pk])
    html = client_for(client, viewer).get(url).content.decode()
    assert 'hx-trigger="every 2s"' in html and "168 of 672 hours" in html
    run.status, run.finished_at, run.hours_stored = "ok", now, 672
    run.save()
    html = client.get(url).content.decode()
    assert "hx-trigger" not in html and "672 hour(s) stored" in html


def test_the_slo_page_says_stale_since_and_flags_a_silent_series(client, viewer, team, slo):

    from slos.models import SLO
    from tests.conftest import utc

    now = utc(2026, 11, 2, 9, 30)
    # the last row is 04:00-05:00, four hours before the window ends at 09:00
    hourly_buckets(slo, hours_before(utc(2026, 11, 2, 5), 48), good=9, valid=10)
    SLO.objects.filter(pk=slo.pk).update(
        last_pull_status="failed",
        last_pull_error="Prometheus at http://127.0.0.1:9 failed after 3 attempts",
        last_success_at=utc(2026, 11, 1, 2),
    )
    import time_machine

    with time_machine.travel(now, tick=False):
        html = client_for(client, viewer).get(reverse("slos:detail", args=[slo.pk]))
    html = html.content.decode()
    assert "Data stale since 1 Nov 2026 11:00 JST" in html
    assert "failed after 3 attempts" in html
    assert "No data for the last 4 hours" in html


def test_an_slo_on_a_push_source_needs_no_queries(team, service):
    from decimal import Decimal

    from django.core.exceptions import ValidationError

    from slos.registry import services

    pushed = DataSource.objects.create(team=team, name="Pushed", kind="push")
    slo = services.slo_create(
        service=service, data_source=pushed, name="Batch", target=Decimal("99"), backfill=False
    )
    assert slo.good_query == ""
    prometheus = DataSource.objects.create(team=team, name="Prom", url="http://p:9090")
    with pytest.raises(ValidationError, match="needs a query for valid events"):
        services.slo_create(service=service, data_source=prometheus, name="X", target="99")
