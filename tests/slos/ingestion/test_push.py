"""The push API: a source's token, exact rows stored, re-sending replaces, every kind of
bad row refused with nothing written, and the push token's life on the source page."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.api_tokens import api_token_create
from slos.ingestion.push import MAX_BATCH_ROWS, push_token_rotate
from slos.models import SLO, DataSource, HourlyBucket
from slos.registry import services as slo_services
from tests.conftest import client_for, utc
from tests.factories import SLOFactory

NOW = utc(2026, 11, 2, 9, 30)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sliced(service, push_source) -> SLO:
    return SLOFactory(
        service=service,
        data_source=push_source,
        name="Sliced",
        openslo_name="clock-in-sliced",
        budgeting_method="timeslices",
        timeslice_target=Decimal("95"),
        timeslice_minutes=5,
    )


def url(source: DataSource | int) -> str:
    return f"/api/v1/sources/{getattr(source, 'pk', source)}/measurements"


def push(client, source, body, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url(source), data, content_type="application/json", headers=headers)


def row(slo, hour="2026-11-01T03:00:00Z", good=990, valid=1000, **extra) -> dict:
    slo_ref = slo.pk if isinstance(slo, SLO) else slo
    return {"slo": slo_ref, "hour": hour, "good": good, "valid": valid, **extra}


def stored(slo: SLO) -> list[tuple]:
    return list(
        HourlyBucket.objects.filter(slo=slo)
        .order_by("hour")
        .values_list("hour", "good", "valid", "good_slices", "total_slices")
    )


def test_a_batch_is_stored_exactly(client, push_source, availability, sliced, token):
    response = push(
        client,
        push_source,
        {
            "measurements": [
                row(availability, "2026-11-01T03:00:00Z", 990, 1000),
                # by OpenSLO name, with an offset: 12:00 in Tokyo is 03:00 UTC
                row("clock-in-availability", "2026-11-01T13:00:00+09:00", 1204.5, 1210),
                row(sliced, "2026-11-02T08:00:00Z", 50, 60, good_slices=11, total_slices=12),
            ]
        },
        token,
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"stored": 3, "data_errors": []}
    assert stored(availability) == [
        (utc(2026, 11, 1, 3), 990.0, 1000.0, 0, 0),
        (utc(2026, 11, 1, 4), 1204.5, 1210.0, 0, 0),
    ]
    assert stored(sliced) == [(utc(2026, 11, 2, 8), 50.0, 60.0, 11, 12)]
    push_source.refresh_from_db()
    availability.refresh_from_db()
    assert push_source.last_success_at == NOW
    assert availability.last_success_at == availability.last_pull_at == NOW
    assert availability.last_pull_status == "ok"


def test_scripts_need_no_csrf_token(push_source, availability, token):
    strict = Client(enforce_csrf_checks=True)
    body = {"measurements": [row(availability)]}
    assert push(strict, push_source, body, token).status_code == 200


def test_sending_again_replaces_and_never_duplicates(client, push_source, availability, token):
    body = {"measurements": [row(availability, good=990), row(availability, "2026-11-01T04:00Z")]}
    assert push(client, push_source, body, token).status_code == 200
    assert push(client, push_source, body, token).status_code == 200
    assert HourlyBucket.objects.count() == 2
    body["measurements"][0]["good"] = 999
    assert push(client, push_source, body, token).json()["stored"] == 2
    assert stored(availability)[0] == (utc(2026, 11, 1, 3), 999.0, 1000.0, 0, 0)
    assert HourlyBucket.objects.count() == 2


def test_more_good_than_valid_is_stored_as_sent_and_reported(
    client, push_source, availability, token
):
    response = push(
        client,
        push_source,
        {"measurements": [row(availability), row(availability, "2026-11-01T04:00Z", 1010, 1000)]},
        token,
    )
    assert response.status_code == 200
    assert response.json()["data_errors"] == [
        {
            "index": 1,
            "slo": availability.pk,
            "hour": "2026-11-01T04:00:00Z",
            "message": "good (1010) is more than valid (1000): stored as sent and flagged "
            "as a data error.",
        }
    ]
    assert stored(availability)[1] == (utc(2026, 11, 1, 4), 1010.0, 1000.0, 0, 0)


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"slo": 999999}, "slo", "No SLO with the id or OpenSLO name “999999”"),
        ({"slo": "no-such-slo"}, "slo", "gets its data from this source"),
        ({"slo": None}, "slo", "This field is required."),
        ({"slo": True}, "slo", "Give the SLO's id or its OpenSLO name."),
        ({"hour": "2026-11-01T03:00:00"}, "hour", "has no time zone"),
        ({"hour": "2026-11-01T03:30:00Z"}, "hour", "is not the start of an hour (UTC)"),
        ({"hour": "2026-11-01T03:00:00+05:30"}, "hour", "hour's start, like 2026-10-31T21:00:00Z"),
        ({"hour": "yesterday"}, "hour", "is not an ISO 8601 time"),
        ({"hour": 1793500000}, "hour", "Give the hour as ISO 8601 text"),
        ({"hour": "2026-11-02T09:00:00Z"}, "hour", "is not over yet"),
        ({"hour": "2026-11-03T00:00:00Z"}, "hour", "is not over yet"),
        ({"good": -1}, "good", "A count cannot be negative."),
        ({"good": "many"}, "good", "“many” is not a number."),
        ({"good": False}, "good", "Give a number, not true or false."),
        ({"valid": None}, "valid", "This field is required."),
        ({"valid": 1e400}, "valid", "Give a finite number."),
        # Near the float's limit, a window's sum overflowed: every budget page gave 500.
        ({"valid": 1e308}, "valid", "At most 1,000,000,000,000 events fit in one hour"),
        ({"good": "1000000000001"}, "good", "At most 1,000,000,000,000 events"),
        ({"good_slices": 3}, "total_slices", "Give good_slices and total_slices together."),
        ({"good_slices": 5, "total_slices": 4}, "good_slices", "more than total_slices"),
        ({"good_slices": 1.5, "total_slices": 4}, "good_slices", "not a whole number"),
        ({"good_slices": 1, "total_slices": 61}, "total_slices", "At most 60 slices"),
        ({"goood": 3}, "goood", "Unknown field"),
    ],
)
def test_a_bad_row_refuses_the_whole_batch(
    client, push_source, availability, token, bad, field, message
):
    HourlyBucket.objects.create(slo=availability, hour=utc(2026, 10, 1), good=1, valid=1)
    good_rows = [row(availability, f"2026-11-01T0{hour}:00:00Z") for hour in range(3)]
    body = {"measurements": [*good_rows, row(availability, "2026-11-01T05:00Z") | bad]}
    response = push(client, push_source, body, token)
    assert response.status_code == 422
    answer = response.json()
    assert answer["detail"] == "1 of 4 measurements are invalid; nothing was stored."
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [(3, field)]
    assert message in answer["errors"][0]["message"]
    assert HourlyBucket.objects.count() == 1
    push_source.refresh_from_db()
    assert push_source.last_success_at is None


def test_every_problem_is_listed_with_its_index(client, push_source, availability, token):
    body = {
        "measurements": [
            row(availability),
            "not an object",
            row(availability, "2026-11-01T03:00:00Z", good=5),
            {"hour": "2026-11-01T04:00:00Z", "good": -1},
        ]
    }
    answer = push(client, push_source, body, token).json()
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [
        (1, ""),
        (2, "hour"),
        (3, "slo"),
        (3, "good"),
        (3, "valid"),
    ]
    assert answer["errors"][1]["message"] == (
        "The same SLO and hour as the measurement at index 0; send each hour once."
    )
    assert not HourlyBucket.objects.exists()


def test_a_timeslices_slo_needs_its_slices(client, push_source, sliced, token):
    answer = push(client, push_source, {"measurements": [row(sliced)]}, token).json()
    assert answer["errors"] == [
        {
            "index": 0,
            "field": "total_slices",
            "message": "This SLO counts timeslices: give good_slices and total_slices.",
        }
    ]
    too_many = row(sliced, good_slices=12, total_slices=13)
    answer = push(client, push_source, {"measurements": [too_many]}, token).json()
    assert answer["errors"][0]["message"] == "At most 12 slices fit in one hour of this SLO."


def test_an_openslo_name_shared_by_two_slos_must_be_sent_as_an_id(
    client, team, push_source, availability, token
):
    other_service = slo_services.service_create(team=team, name="Payroll")
    twin = SLOFactory(
        service=other_service,
        data_source=push_source,
        name="Twin",
        openslo_name="clock-in-availability",
    )
    answer = push(client, push_source, {"measurements": [row("clock-in-availability")]}, token)
    assert "send the SLO's id instead" in answer.json()["errors"][0]["message"]
    assert push(client, push_source, {"measurements": [row(twin)]}, token).status_code == 200


def test_an_slo_of_another_source_is_unknown(
    client, team, service, push_source, availability, token
):
    other = DataSource.objects.create(team=team, name="Other push", kind="push")
    elsewhere = SLOFactory(service=service, data_source=other, name="Elsewhere")
    answer = push(client, push_source, {"measurements": [row(elsewhere)]}, token).json()
    assert answer["errors"][0]["field"] == "slo"
    assert not HourlyBucket.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("{not json", 400, "The body is not valid JSON."),
        ("[]", 400, 'non-empty "measurements" list'),
        ({"measurements": []}, 400, 'non-empty "measurements" list'),
        ({"measurements": {"slo": 1}}, 400, 'non-empty "measurements" list'),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused(
    client, push_source, availability, token, body, status, message
):
    response = push(client, push_source, body, token)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_a_batch_over_the_limit_is_refused_with_413(client, push_source, availability, token):
    body = {"measurements": [row(availability)] * (MAX_BATCH_ROWS + 1)}
    response = push(client, push_source, body, token)
    assert response.status_code == 413
    assert "send at most 5,000 per request" in response.json()["detail"]
    assert not HourlyBucket.objects.exists()


def test_the_token_is_checked(client, owner, team, push_source, availability, token):
    body = {"measurements": [row(availability)]}
    missing = push(client, push_source, body, None)
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="api"'
    wrong = push(client, push_source, body, "rpp_not-the-token")
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "This push token is not valid."}
    # A personal API token (or a logged-in session) cannot push.
    personal = api_token_create(user=owner, name="script").raw
    assert push(client, push_source, body, personal).status_code == 401
    client_for(client, owner)
    assert push(client, push_source, body, None).status_code == 401
    # Rotating stops the old token at once.
    new = push_token_rotate(source=push_source)
    assert push(client, push_source, body, token).status_code == 401
    assert push(client, push_source, body, new).status_code == 200


def test_a_token_reaches_only_its_own_source(client, team, push_source, availability, token):
    other = DataSource.objects.create(team=team, name="Other push", kind="push")
    body = {"measurements": [row(availability)]}
    assert push(client, other, body, token).status_code == 404
    assert push(client, 999999, body, token).json() == {"detail": "No such data source."}
    assert not HourlyBucket.objects.exists()


def test_a_prometheus_source_takes_no_pushes(client, push_source, availability, token):
    DataSource.objects.filter(pk=push_source.pk).update(kind="prometheus", url="http://p:9090")
    response = push(client, push_source, {"measurements": [row(availability)]}, token)
    assert response.status_code == 409
    assert "pulled from Prometheus" in response.json()["detail"]
    assert not HourlyBucket.objects.exists()


def test_queries_do_not_grow_with_the_batch(
    client, push_source, availability, token, django_assert_num_queries
):
    def batch(count: int) -> dict:
        hours = [utc(2026, 10, 1) + timedelta(hours=index) for index in range(count)]
        return {"measurements": [row(availability, hour.isoformat()) for hour in hours]}

    # 100 rows fit in one INSERT even on SQLite (999 parameters).
    small, large = batch(3), batch(100)
    with CaptureQueriesContext(connection) as small_queries:
        assert push(client, push_source, small, token).status_code == 200
    with django_assert_num_queries(len(small_queries)):
        assert push(client, push_source, large, token).json()["stored"] == 100


def test_the_endpoint_is_described_in_the_openapi_schema(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/sources/{source_id}/measurements"]["post"]
    assert operation["operationId"] == "measurements_push"
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["measurements"]["items"]["required"] == [
        "slo",
        "hour",
        "good",
        "valid",
    ]
    assert "nothing is stored" in operation["description"]
    assert set(operation["responses"]) >= {"200", "401", "404", "409", "413", "422"}


# The push token on the source page.


def rotate(client, source):
    return client.post(reverse("slos:push_token", args=[source.pk]))


def test_an_admin_makes_a_token_that_is_shown_once(client, owner, push_source, availability):
    response = rotate(client_for(client, owner), push_source)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    raw = response.context["new_token"]
    assert raw.startswith("rpp_") and raw in response.content.decode()
    push_source.refresh_from_db()
    assert raw not in (push_source.push_token_hash, push_source.push_token_prefix)
    assert raw.startswith(push_source.push_token_prefix)
    page = client.get(reverse("slos:source_detail", args=[push_source.pk])).content.decode()
    assert raw not in page and f"{push_source.push_token_prefix}…" in page
    assert "Rotate token" in page and reverse("slos:source_csv", args=[push_source.pk]) in page
    # The page's example works as it stands.
    example = json.loads(response.context["example"])
    assert example["measurements"][0]["slo"] == "clock-in-availability"
    client.logout()
    assert push(client, push_source, example, raw).json() == {"stored": 1, "data_errors": []}
    assert stored(availability) == [(utc(2026, 11, 2, 8), 990.0, 1000.0, 0, 0)]


def test_only_admins_rotate_and_only_for_fed_sources(
    client, teammate, viewer, outsider, owner, push_source, data_source
):
    assert rotate(client_for(client, teammate), push_source).status_code == 403
    assert rotate(client_for(client, viewer), push_source).status_code == 403
    assert rotate(client_for(client, outsider), push_source).status_code == 404
    assert rotate(client_for(client, owner), data_source).status_code == 404
    push_source.refresh_from_db()
    assert push_source.push_token_hash == ""
    html = client.get(reverse("slos:source_detail", args=[data_source.pk])).content.decode()
    assert "Push token" not in html
