"""A body larger than MAX_REQUEST_BYTES is refused with 413 before anything reads it (#18:
100 OpenSLO files of 1 MB in one request held a worker for 34 s and 167 MB); every
upload's own, smaller bound keeps its own message; the intake records its oversized
deliveries itself."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.middleware import RequestSizeLimitMiddleware
from slos import limits
from slos.models import IntakeRequest, Service
from slos.notifications import parsers
from slos.notifications.intake import intake_source_create
from tests.conftest import client_for
from toil.transfer.spreadsheet import MAX_IMPORT_BYTES

MEGABYTE = 1024 * 1024


def test_the_limit_is_above_every_uploads_own_bound():
    # With room for the multipart framing of a form at its own limit.
    largest = max(
        limits.MAX_OPENSLO_UPLOAD_BYTES,
        limits.MAX_CSV_BYTES,
        MAX_IMPORT_BYTES,
        parsers.MAX_BODY_BYTES,
        limits.MAX_BATCH_ROWS * 200,  # a push batch of the most rows, generously written
    )
    assert settings.MAX_REQUEST_BYTES >= largest + MEGABYTE


def test_a_hundred_files_of_a_megabyte_are_refused_unread(client, teammate, team, monkeypatch):
    read = []
    monkeypatch.setattr(
        "django.http.request.HttpRequest._load_post_and_files",
        lambda request: read.append(request.path),
    )
    files = [
        SimpleUploadedFile(f"slo-{index}.yaml", b"#" * MEGABYTE, "application/yaml")
        for index in range(100)
    ]
    response = client_for(client, teammate).post(
        reverse("slos:openslo_import", args=[team.slug]), {"files": files}
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "The request is too large (100.0 MB); the portal takes at most 4 MB" in page
    assert "Nothing was read or changed." in page
    assert 'href="/slos/"' in page  # the site's layout, with its navigation
    assert read == []
    assert not Service.objects.exists()


def test_the_api_answers_json(client, teammate):
    body = json.dumps({"measurements": [], "padding": "x" * (5 * MEGABYTE)})
    response = client_for(client, teammate).post(
        "/api/v1/sources/1/measurements", data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert "the portal takes at most 4 MB" in response.json()["detail"]


def test_a_body_at_the_limit_goes_through_to_the_forms_own_bound(client, teammate, team):
    response = client_for(client, teammate).post(
        reverse("slos:openslo_import", args=[team.slug]),
        {"files": [SimpleUploadedFile("big.yaml", b"#" * (3 * MEGABYTE), "application/yaml")]},
    )
    assert response.status_code == 400
    assert "big.yaml" in response.content.decode()  # the form names the file


def test_the_intake_keeps_its_own_record_of_an_oversized_delivery(client, team):
    source = intake_source_create(team=team, name="Scripts", kind="generic")
    response = client.post(
        reverse("api:intake_generic", args=[source.token]),
        data=b"{" + b" " * (5 * MEGABYTE),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert IntakeRequest.objects.filter(http_status=413).count() == 1


def test_a_declared_length_that_is_not_a_number_is_left_to_django(rf):
    request = rf.post("/", data=b"", content_type="text/plain", CONTENT_LENGTH="lots")
    answered = RequestSizeLimitMiddleware(lambda request: "passed on")(request)
    assert answered == "passed on"
