"""CSV upload: a preview that writes nothing, a confirmation that stores exactly the rows,
every kind of bad file refused by line with nothing written, and who may upload."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from slos.ingestion.push import MAX_CSV_BYTES, MAX_CSV_ROWS, csv_records
from slos.models import SLO, DataSource, HourlyBucket
from tests.conftest import client_for, utc
from tests.factories import DataSourceFactory, SLOFactory

NOW = utc(2026, 11, 2, 9, 30)
HEADER = "slo,hour,good,valid"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def csv_source(team) -> DataSource:
    return DataSourceFactory(team=team, name="Spreadsheet", kind="csv", url="")


@pytest.fixture
def availability(service, csv_source) -> SLO:
    return SLOFactory(
        service=service,
        data_source=csv_source,
        name="Availability",
        openslo_name="clock-in-availability",
    )


def page(source: DataSource) -> str:
    return reverse("slos:source_csv", args=[source.pk])


def upload(client, source: DataSource, content: str | bytes, name: str = "hours.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(page(source), {"file": SimpleUploadedFile(name, data, "text/csv")})


def confirm(client, source: DataSource, preview: str):
    return client.post(page(source), {"preview": preview})


def stored(slo: SLO) -> list[tuple]:
    return list(
        HourlyBucket.objects.filter(slo=slo)
        .order_by("hour")
        .values_list("hour", "good", "valid", "good_slices", "total_slices")
    )


def good_file(slo: SLO) -> str:
    return "\n".join(
        [
            "slo,hour,good,valid,good_slices,total_slices",
            f"{slo.pk},2026-11-01T03:00:00Z,990,1000,,",
            "clock-in-availability,2026-11-01T13:00:00+09:00,1204.5,1210,,",
            "clock-in-availability,2026-11-01T05:00:00Z,7,7,12,12",
            "",
        ]
    )


def test_preview_writes_nothing_and_confirm_stores_exactly(
    client, teammate, csv_source, availability
):
    client_for(client, teammate)
    response = upload(client, csv_source, good_file(availability))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: nothing is stored yet" in html
    assert "Store 3 hours" in html
    assert "1 Nov 2026 03:00 UTC" in html and "1 Nov 2026 05:00 UTC" in html
    summary = response.context["summary"]
    assert (summary.total, summary.per_slo[0].rows) == (3, 3)
    assert not HourlyBucket.objects.exists()

    response = confirm(client, csv_source, response.context["preview"])
    assert response["Location"] == reverse("slos:source_detail", args=[csv_source.pk])
    assert stored(availability) == [
        (utc(2026, 11, 1, 3), 990.0, 1000.0, 0, 0),
        (utc(2026, 11, 1, 4), 1204.5, 1210.0, 0, 0),
        (utc(2026, 11, 1, 5), 7.0, 7.0, 12, 12),
    ]
    csv_source.refresh_from_db()
    availability.refresh_from_db()
    assert csv_source.last_success_at == availability.last_success_at == NOW
    assert availability.last_pull_status == "ok"
    followed = client.get(response["Location"]).content.decode()
    assert "Stored 3 hours for 1 SLO(s)." in followed


def test_uploading_again_replaces_and_says_so(client, teammate, csv_source, availability):
    client_for(client, teammate)
    first = upload(client, csv_source, f"{HEADER}\n{availability.pk},2026-11-01T03:00Z,1,2\n")
    confirm(client, csv_source, first.context["preview"])
    again = upload(client, csv_source, f"{HEADER}\n{availability.pk},2026-11-01T03:00Z,5,6\n")
    assert again.context["replacing"] == 1
    confirm(client, csv_source, again.context["preview"])
    # Confirming the same preview twice is harmless too.
    confirm(client, csv_source, again.context["preview"])
    assert stored(availability) == [(utc(2026, 11, 1, 3), 5.0, 6.0, 0, 0)]


def test_more_good_than_valid_is_previewed_stored_and_flagged(
    client, teammate, csv_source, availability
):
    client_for(client, teammate)
    response = upload(client, csv_source, f"{HEADER}\n{availability.pk},2026-11-01T03:00Z,11,10\n")
    assert response.context["data_error_count"] == 1
    assert "Line 2 (Availability): good (11) is more than valid (10)" in (response.content.decode())
    followed = confirm(client, csv_source, response.context["preview"])
    assert stored(availability) == [(utc(2026, 11, 1, 3), 11.0, 10.0, 0, 0)]
    message = "1 hour(s) have more good than valid events: stored as sent and flagged"
    assert message in client.get(followed["Location"]).content.decode()


VALID_LINES = "{pk},2026-11-01T00:00:00Z,1,1\n{pk},2026-11-01T01:00:00Z,1,1\n"


@pytest.mark.parametrize(
    ("content", "line", "field", "message"),
    [
        ("hour,slo,good\n", 1, "", "The header lacks the column(s) valid."),
        ("slo,hour,good,valid,extra\n{pk},2026-11-01T02:00Z,1,1,x\n", 1, "extra", "Unknown column"),
        ("slo,hour,good,good,valid\n", 1, "good", "This column appears more than once."),
        ("{pk},2026-11-01T02:00Z,1,1\n", 1, "", "The first line must be the header"),
        ("", 1, "", "The file is empty"),
        ("\n  \n", 1, "", "The file is empty"),
        (HEADER + "\n", 2, "", "The file has a header but no rows."),
        (HEADER + "\n" + VALID_LINES + "{pk},2026-11-01T03:00Z,1\n", 4, "", "Expected 4 values"),
        (HEADER + "\n" + VALID_LINES + "{pk},2026-11-01T03:00Z,ten,1\n", 4, "good", "not a number"),
        (HEADER + "\n" + VALID_LINES + "{pk},2026-11-01T03:00Z,1,-2\n", 4, "valid", "negative"),
        (HEADER + "\n" + VALID_LINES + "{pk},2026-11-01T03:00Z,1,1e308\n", 4, "valid", "At most"),
        (HEADER + "\n" + VALID_LINES + "{pk},2026-11-01T03:00Z,1,\n", 4, "valid", "required"),
        (HEADER + "\n" + VALID_LINES + "{pk},2026-11-01T03:00,1,1\n", 4, "hour", "no time zone"),
        (HEADER + "\n" + VALID_LINES + "{pk},2026-11-01T03:15Z,1,1\n", 4, "hour", "start of an"),
        (HEADER + "\n" + VALID_LINES + "{pk},2026-11-02T09:00Z,1,1\n", 4, "hour", "not over yet"),
        (HEADER + "\n" + VALID_LINES + "nope,2026-11-01T03:00Z,1,1\n", 4, "slo", "No SLO with"),
        (
            HEADER + "\n" + VALID_LINES + "{pk},2026-11-01T01:00Z,2,2\n",
            4,
            "hour",
            "The same SLO and hour as line 3; send each hour once.",
        ),
        (
            "slo,hour,good,valid,good_slices,total_slices\n{pk},2026-11-01T03:00Z,1,1,5,4\n",
            2,
            "good_slices",
            "good_slices is more than total_slices.",
        ),
    ],
)
def test_a_bad_line_refuses_the_whole_file(
    client, teammate, csv_source, availability, content, line, field, message
):
    HourlyBucket.objects.create(slo=availability, hour=utc(2026, 10, 1), good=1, valid=1)
    response = upload(client_for(client, teammate), csv_source, content.format(pk=availability.pk))
    assert response.status_code == 400
    errors = response.context["errors"]
    assert [(error.index, error.field) for error in errors] == [(line, field)]
    assert message in errors[0].message
    html = response.content.decode()
    assert "Nothing was stored" in html and message.split("“")[0] in html.replace("&#x27;", "'")
    assert "preview" not in response.context
    assert HourlyBucket.objects.count() == 1


def test_a_file_not_in_utf8_is_refused_with_its_line(client, teammate, csv_source, availability):
    content = f"{HEADER}\n{availability.pk},2026-11-01T00:00Z,1,1\n".encode()
    content += "caf\u00e9,2026-11-01T01:00Z,1,1\n".encode("latin-1")
    response = upload(client_for(client, teammate), csv_source, content)
    assert response.status_code == 400
    (error,) = response.context["errors"]
    assert (error.index, error.field) == (3, "")
    assert "not UTF-8 text" in error.message
    assert not HourlyBucket.objects.exists()


def test_a_byte_order_mark_and_crlf_line_ends_are_fine(client, teammate, csv_source, availability):
    content = f"\ufeff{HEADER}\r\n{availability.pk},2026-11-01T00:00Z,1,1\r\n".encode()
    response = upload(client_for(client, teammate), csv_source, content)
    assert response.status_code == 200
    assert response.context["summary"].total == 1


def test_a_file_too_large_is_refused(client, teammate, csv_source, availability):
    client_for(client, teammate)
    response = upload(client, csv_source, HEADER + "\n" + "x" * MAX_CSV_BYTES)
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()
    _records, problems = csv_records(
        HEADER + "\n" + "1,2026-11-01T00:00Z,1,1\n" * MAX_CSV_ROWS + "1,x,1,1\n"
    )
    assert [problem.index for problem in problems] == [MAX_CSV_ROWS + 2]
    assert "too large" in problems[0].message


def test_line_numbers_count_physical_lines(availability):
    records, problems = csv_records(
        'slo,hour,good,valid\n\n"clock-in-\navailability",2026-11-01T00:00Z,1,1\n'
        "clock-in-availability,2026-11-01T01:00Z,1,1\n"
    )
    assert problems == []
    assert [line for line, _values in records] == [3, 5]


def test_a_tampered_or_foreign_preview_writes_nothing(
    client, teammate, team, csv_source, availability
):
    client_for(client, teammate)
    preview = upload(
        client, csv_source, f"{HEADER}\n{availability.pk},2026-11-01T03:00Z,1,1\n"
    ).context["preview"]
    response = confirm(client, csv_source, preview[:-3] + "abc")
    assert response.status_code == 400
    assert "upload the file again" in response.content.decode()
    other = DataSource.objects.create(team=team, name="Other", kind="csv")
    assert confirm(client, other, preview).status_code == 400
    forged = signing.dumps(f"{HEADER}\n{availability.pk},2026-11-01T04:00Z,1,1\n")
    assert confirm(client, csv_source, forged).status_code == 400
    assert not HourlyBucket.objects.exists()


def test_an_expired_preview_writes_nothing(client, teammate, csv_source, availability):
    client_for(client, teammate)
    preview = upload(
        client, csv_source, f"{HEADER}\n{availability.pk},2026-11-01T03:00Z,1,1\n"
    ).context["preview"]
    with time_machine.travel(utc(2026, 11, 2, 11), tick=False):
        response = confirm(client, csv_source, preview)
    assert response.status_code == 400
    assert "The preview has expired" in response.content.decode()
    assert not HourlyBucket.objects.exists()


def test_confirm_checks_again(client, teammate, team, csv_source, availability):
    """An SLO moved to another source between the preview and the confirmation."""
    client_for(client, teammate)
    preview = upload(
        client, csv_source, f"{HEADER}\n{availability.pk},2026-11-01T03:00Z,1,1\n"
    ).context["preview"]
    other = DataSource.objects.create(team=team, name="Other", kind="csv")
    SLO.objects.filter(pk=availability.pk).update(data_source=other)
    response = confirm(client, csv_source, preview)
    assert response.status_code == 400
    assert response.context["errors"][0].field == "slo"
    assert not HourlyBucket.objects.exists()


def test_who_may_upload(client, owner, teammate, viewer, outsider, csv_source, availability):
    content = f"{HEADER}\n{availability.pk},2026-11-01T03:00Z,1,1\n"
    assert client_for(client, owner).get(page(csv_source)).status_code == 200
    assert client_for(client, teammate).get(page(csv_source)).status_code == 200
    preview = upload(client, csv_source, content).context["preview"]
    client_for(client, viewer)
    assert client.get(page(csv_source)).status_code == 403
    assert upload(client, csv_source, content).status_code == 403
    assert confirm(client, csv_source, preview).status_code == 403
    client_for(client, outsider)
    assert client.get(page(csv_source)).status_code == 404
    assert upload(client, csv_source, content).status_code == 404
    assert not HourlyBucket.objects.exists()


def test_a_prometheus_source_takes_no_uploads(client, owner, data_source):
    assert client_for(client, owner).get(page(data_source)).status_code == 404


def test_the_source_page_links_to_the_upload(client, owner, viewer, csv_source):
    client_for(client, owner)
    html = client.get(reverse("slos:source_detail", args=[csv_source.pk])).content.decode()
    assert page(csv_source) in html
    assert "Generate token" in html and "No push token yet." in html
    client_for(client, viewer)
    html = client.get(reverse("slos:source_detail", args=[csv_source.pk])).content.decode()
    assert page(csv_source) not in html and "Generate token" not in html
    assert re.search(r"POST /api/v1/sources/\d+/measurements", html)
