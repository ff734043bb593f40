"""Hostile OpenSLO uploads (#18): control characters, deep nesting, alias bombs, huge
integers and too many or too large files are each refused with a clear message (a 400
page naming the file), and nothing is written; the upload bounds are checked on the
sizes alone, before any file is read."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from slos import limits
from slos.models import SLO, DataSource, Service
from tests.conftest import client_for

SLO_TEXT = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: clock-in-availability
  displayName: DISPLAY
  labels: LABELS
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
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"""


def slo_text(display: str = "Clock-in availability", labels: str = "{}") -> str:
    return SLO_TEXT.replace("DISPLAY", display).replace("LABELS", labels)


def upload(client, team, *files: tuple[str, bytes]):
    return client.post(
        reverse("slos:openslo_import", args=[team.slug]),
        {"files": [SimpleUploadedFile(name, data, "application/yaml") for name, data in files]},
    )


def nothing_written() -> bool:
    return not (SLO.objects.exists() or Service.objects.exists() or DataSource.objects.exists())


@pytest.fixture
def member(client, teammate):
    return client_for(client, teammate)


def test_the_plain_file_imports(member, team):
    response = upload(member, team, ("slo.yaml", slo_text().encode()))
    assert response.status_code == 200
    assert SLO.objects.get().name == "Clock-in availability"


def test_nul_in_a_display_name_is_refused_not_a_500(member, team):
    response = upload(member, team, ("slo.yaml", slo_text(display='"Clock-in\\0"').encode()))

    assert response.status_code == 400
    assert (
        "slo.yaml: document 1: metadata.displayName: holds a control character (such as NUL); "
        "remove it"
    ) in response.content.decode()
    assert nothing_written()


def test_a_control_character_in_a_label_key_is_named(member, team):
    response = upload(member, team, ("slo.yaml", slo_text(labels='{"te\\x1bam": kintai}').encode()))
    assert response.status_code == 400
    assert "metadata.labels.te\\x1bam: holds a control character" in response.content.decode()
    assert nothing_written()


def test_labels_nested_900_deep_are_refused_not_a_500(member, team):
    deep = "{a: " * 900 + "1" + "}" * 900

    response = upload(member, team, ("slo.yaml", slo_text(labels=deep).encode()))

    assert response.status_code == 400
    page = response.content.decode()
    assert "slo.yaml: document 1: invalid YAML: nested more than 40 levels deep (line 6" in page
    assert nothing_written()


def test_an_alias_bomb_is_refused_at_once(member, team):
    bomb = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        bomb.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    text = slo_text(labels="{}") + "---\n" + "\n".join(bomb) + "\n"

    started = time.monotonic()
    response = upload(member, team, ("laughs.yaml", text.encode()))

    assert time.monotonic() - started < 5
    assert response.status_code == 400
    assert (
        "laughs.yaml: document 2: invalid YAML: more than 200,000 values once aliases are expanded"
    ) in response.content.decode()
    assert nothing_written()


def test_an_alias_to_its_own_parent_is_refused(member, team):
    response = upload(member, team, ("cycle.yaml", slo_text(labels="&me {self: *me}").encode()))
    assert response.status_code == 400
    assert "alias *me refers to a node that contains it" in response.content.decode()
    assert nothing_written()


def test_an_integer_of_thousands_of_digits_is_refused_not_a_500(member, team):
    text = slo_text().replace("target: 0.999", "target: " + "9" * 5000)
    response = upload(member, team, ("big.yaml", text.encode()))
    assert response.status_code == 400
    assert "big.yaml: document 1: invalid YAML: integer too long" in response.content.decode()
    assert nothing_written()


@pytest.fixture
def no_parsing(monkeypatch):
    """Fails the test if any file is read as YAML."""

    def refuse(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr("slos.openslo.importing.read_documents", refuse)


def test_a_hundred_files_are_refused_before_any_is_parsed(member, team, no_parsing):
    files = [(f"slo-{n}.yaml", slo_text().encode()) for n in range(100)]

    response = upload(member, team, *files)

    assert response.status_code == 400
    assert "Upload at most 50 files at a time; these are 100." in response.content.decode()
    assert nothing_written()


def test_a_file_over_a_megabyte_is_refused_before_parsing(member, team, no_parsing):
    big = b"# padding\n" * (limits.MAX_OPENSLO_FILE_BYTES // 10 + 1)
    response = upload(member, team, ("big.yaml", big), ("slo.yaml", slo_text().encode()))
    assert response.status_code == 400
    assert "big.yaml is larger than 1 MB." in response.content.decode()


def test_files_adding_up_to_over_two_megabytes_are_refused_before_parsing(member, team, no_parsing):
    part = b"# padding\n" * (limits.MAX_OPENSLO_FILE_BYTES // 10 - 1)
    response = upload(member, team, *[(f"part-{n}.yaml", part) for n in range(3)])
    assert response.status_code == 400
    assert "These files add up to more than 2 MB; upload them in parts." in (
        response.content.decode()
    )
