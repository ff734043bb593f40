"""Input limits of the push API and the CSV upload (#18): hours from 2000 to the last
complete hour, one home for every bound (slos/limits.py) that the OpenAPI schema shows
too, and a property test: whatever a client sends to push is stored or refused with a
4xx, never a 500."""

from __future__ import annotations

import json
import math

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.api import api
from slos import limits
from slos.ingestion import push
from slos.ingestion.forms import DataSourceForm
from slos.models import DataSource, HourlyBucket
from tests.conftest import client_for, utc
from tests.factories import DataSourceFactory, SLOFactory

NOW = utc(2026, 11, 2, 9, 30)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def push_json(client, source: DataSource, body, token: str):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/api/v1/sources/{source.pk}/measurements",
        data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def row(slo, hour="2026-11-01T03:00:00Z", good=990, valid=1000, **extra) -> dict:
    return {"slo": slo.pk, "hour": hour, "good": good, "valid": valid, **extra}


# --- Hours: the last one before datetime's end was an OverflowError -------------------


def test_an_hour_at_the_end_of_time_is_refused_not_a_500(client, push_source, token, availability):
    response = push_json(
        client,
        push_source,
        {"measurements": [row(availability, hour="9999-12-31T23:00:00Z")]},
        token,
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "index": 0,
            "field": "hour",
            "message": "The hour starting 9999-12-31T23:00:00Z is not over yet; send only "
            "complete hours.",
        }
    ]
    assert not HourlyBucket.objects.exists()


def test_an_hour_before_2000_is_refused_and_2000_itself_is_stored(
    client, push_source, token, availability
):
    refused = push_json(
        client,
        push_source,
        {"measurements": [row(availability, hour="1999-12-31T23:00:00Z")]},
        token,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"] == (
        "“1999-12-31T23:00:00Z” is before 2000-01-01T00:00:00Z; the portal takes no earlier hours."
    )
    assert not HourlyBucket.objects.exists()

    stored = push_json(
        client,
        push_source,
        {"measurements": [row(availability, hour="2000-01-01T00:00:00Z")]},
        token,
    )
    assert stored.status_code == 200
    assert HourlyBucket.objects.get().hour == limits.EARLIEST_HOUR


def test_a_csv_hour_at_the_end_of_time_is_a_line_error_not_a_500(client, teammate, team, service):
    csv_source = DataSourceFactory(team=team, name="Spreadsheet", kind="csv", url="")
    slo = SLOFactory(service=service, data_source=csv_source, name="Availability")
    client_for(client, teammate)
    text = f"slo,hour,good,valid\n{slo.pk},9999-12-31T23:00:00Z,990,1000\n"

    response = client.post(
        reverse("slos:source_csv", args=[csv_source.pk]),
        {"file": SimpleUploadedFile("hours.csv", text.encode(), "text/csv")},
    )

    assert response.status_code == 400
    assert "is not over yet" in response.content.decode()
    assert not HourlyBucket.objects.exists()


def test_the_csv_page_states_the_bounds(client, teammate, team):
    csv_source = DataSourceFactory(team=team, name="Spreadsheet", kind="csv", url="")
    client_for(client, teammate)
    page = client.get(reverse("slos:source_csv", args=[csv_source.pk])).content.decode()
    assert "Only complete hours, from 1 Jan 2000 on." in page
    assert "from 0 to 1,000,000,000,000." in page


def test_an_id_of_thousands_of_digits_is_no_slo_not_a_500(client, push_source, token, availability):
    body = {"measurements": [{**row(availability), "slo": "9" * 5000}]}
    response = push_json(client, push_source, body, token)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "slo"


def test_the_bounds_have_one_home():
    assert push.MAX_BATCH_ROWS is limits.MAX_BATCH_ROWS
    assert push.MAX_CSV_BYTES is limits.MAX_CSV_BYTES
    assert push.MAX_CSV_ROWS is limits.MAX_CSV_ROWS


def test_a_data_source_header_with_nul_is_a_form_error(team):
    form = DataSourceForm(
        data={
            "name": "Thanos",
            "kind": "prometheus",
            "url": "http://thanos:9090",
            "timeout_seconds": 10,
            "auth_kind": "none",
            "extra_headers": '{"X-Scope-OrgID": "pay\\u0000roll"}',
        },
        team=team,
    )
    assert not form.is_valid()
    assert form.errors["extra_headers"] == [
        "Header names and values cannot hold control characters (NUL, line breaks…)."
    ]


# --- The OpenAPI schema says the same -----------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    return api.get_openapi_schema()


def test_the_push_schema_shows_the_bounds(schema):
    body = schema["paths"]["/api/v1/sources/{source_id}/measurements"]["post"]["requestBody"]
    measurements = body["content"]["application/json"]["schema"]["properties"]["measurements"]
    assert measurements["minItems"] == 1
    assert measurements["maxItems"] == limits.MAX_BATCH_ROWS
    fields = measurements["items"]["properties"]
    assert fields["hour"]["format"] == "date-time"
    assert "from 2000-01-01T00:00:00Z to the last complete hour" in fields["hour"]["description"]
    assert fields["good"]["maximum"] == fields["valid"]["maximum"] == limits.MAX_EVENTS_PER_HOUR


def test_the_at_parameter_is_a_date_time(schema):
    for path in ["/api/v1/slos", "/api/v1/slos/{slo_id}"]:
        (at,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "at"]
        assert at["schema"]["type"] == "string"
        assert at["schema"]["format"] == "date-time"
        assert at["required"] is False


@pytest.mark.parametrize("kind", ["alertmanager", "sentry", "generic"])
def test_the_intake_operations_declare_their_body(schema, kind):
    operation = schema["paths"][f"/api/v1/intake/{kind}/{{token}}"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    described = body["content"]["application/json"]["schema"]
    assert "$ref" not in json.dumps(described)  # every definition in place
    if kind == "alertmanager":
        assert set(described["required"]) == {"version", "status", "alerts"}
    elif kind == "sentry":
        assert described["properties"]["data"]["required"] == ["event"]
    else:
        assert [option["title"] for option in described["oneOf"]] == [
            "GenericNotification",
            "GenericBatch",
        ]


def test_the_sentry_operation_declares_its_signature_header(schema):
    parameters = schema["paths"]["/api/v1/intake/sentry/{token}"]["post"]["parameters"]
    headers = {p["name"]: p for p in parameters if p["in"] == "header"}
    assert headers["Sentry-Hook-Signature"]["required"] is True
    assert headers["Sentry-Hook-Resource"]["required"] is False


def test_the_intake_schemas_are_not_invented_for_operations_without_headers(schema):
    for kind in ["alertmanager", "generic"]:
        parameters = schema["paths"][f"/api/v1/intake/{kind}/{{token}}"]["post"]["parameters"]
        assert [p["in"] for p in parameters] == ["path"]


# --- Whatever a client sends: stored, or a 4xx ------------------------------------------

counts = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.integers(min_value=10**300, max_value=10**320),  # past float's range
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 999_999_999_999, 10**12, 10**12 + 1, 1e308, -0.0]),
    st.text(max_size=30),
    st.from_regex(r"[+-]?\d{1,400}(\.\d{0,5})?([eE][+-]?\d{1,4})?", fullmatch=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
hours = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    st.datetimes().map(lambda moment: moment.replace(minute=0, second=0).isoformat() + "Z"),
    st.sampled_from(
        [
            "9999-12-31T23:00:00Z",
            "9999-12-31T23:00:00-23:59",
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00Z",
            "1999-12-31T23:00:00Z",
            "2000-01-01T00:00:00Z",
            "2026-11-01T03:00:00Z",
            "2026-11-02T09:00:00Z",
        ]
    ),
    st.text(max_size=40),
    st.integers(),
    st.none(),
)
texts = st.text(max_size=60)  # NUL, lone surrogates and every other code point included


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    good=counts,
    valid=counts,
    hour=hours,
    slo=st.one_of(texts, st.integers(), st.just("clock-in-availability"), st.just("own-pk")),
    slices=st.one_of(st.none(), st.tuples(counts, counts)),
    extra=st.dictionaries(texts, texts, max_size=2),
)
def test_anything_pushed_is_stored_or_refused_never_a_500(
    push_source, token, availability, good, valid, hour, slo, slices, extra
):
    measurement = {
        "slo": availability.pk if slo == "own-pk" else slo,
        "hour": hour,
        "good": good,
        "valid": valid,
        **extra,
    }
    if slices is not None:
        measurement["good_slices"], measurement["total_slices"] = slices
    try:
        body = json.dumps({"measurements": [measurement]})
    except ValueError:  # a number Python will not write as JSON text
        return

    # A server error raises here, with its traceback.
    response = push_json(Client(), push_source, body, token)

    assert response.status_code in (200, 422), response.content
    for bucket in HourlyBucket.objects.filter(slo=availability):
        assert limits.EARLIEST_HOUR <= bucket.hour <= limits.latest_complete_hour(NOW)
        for count in (bucket.good, bucket.valid):
            assert math.isfinite(count) and 0 <= count <= limits.MAX_EVENTS_PER_HOUR


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_any_csv_text_is_checked_without_an_exception(text):
    slos = push.SLOIndex(
        [push.PushTarget(1, "Availability", "Clock-in API", "clock-in-availability", False, 5)]
    )
    batch = push.csv_check("slo,hour,good,valid\n" + text, slos=slos, now=NOW)
    for measurement in batch.measurements:
        assert limits.EARLIEST_HOUR <= measurement.hour <= limits.latest_complete_hour(NOW)
        assert 0 <= measurement.good <= limits.MAX_EVENTS_PER_HOUR
