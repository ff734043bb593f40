"""The new-SLO and edit forms: each part marked with the SLI kind, ratio, budgeting
method or window kind it belongs to (static/slos/slo_form.css hides the others, no
script), the chosen kind kept through validation errors, and, after a save, one message
at the top saying what became of the backfill."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.urls import reverse
from django.utils import timezone

from slos.background import background_join
from slos.models import SLO, PullRun, PullStatus, PullTrigger
from slos.registry import services
from slos.registry.forms import SLO_FORM_SWITCHES, SLOEditForm, SLOForm
from tests.conftest import client_for
from tests.factories import DataSourceFactory
from tests.prom import GOOD_QUERY, VALID_QUERY
from tests.slos.registry.test_slo_views import slo_form

CSS = Path(settings.BASE_DIR) / "static" / "slos" / "slo_form.css"


class _FormParts(HTMLParser):
    """Of a form page: each group's and field's `data-when-*` marks (by element id), the
    checked radio of each switch, and the element ids nested in each group."""

    def __init__(self):
        super().__init__()
        self.marks: dict[str, dict[str, set[str]]] = {}
        self.checked: dict[str, str] = {}
        self.in_group: dict[str, str] = {}
        self._groups: list[tuple[str, int]] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        element_id = found.get("id") or ""
        if tag == "input" and found.get("type") == "radio" and "checked" in found:
            self.checked[found["name"]] = found["value"]
        if tag in {"input", "br", "link", "meta", "img", "hr"}:
            return
        self._depth += 1
        if element_id.startswith(("group-", "field-")):
            self.marks[element_id] = {
                name.removeprefix("data-when-"): set((value or "").split())
                for name, value in attrs
                if name.startswith("data-when-")
            }
            if self._groups:
                self.in_group[element_id] = self._groups[-1][0]
            if element_id.startswith("group-"):
                self._groups.append((element_id, self._depth))

    def handle_endtag(self, tag):
        if self._groups and self._groups[-1][1] == self._depth:
            self._groups.pop()
        self._depth -= 1

    def shown(self, element_id: str) -> bool:
        """Whether the CSS leaves the part shown, as the radios are checked."""
        hidden = any(
            self.checked.get(switch) not in values
            for switch, values in self.marks[element_id].items()
        )
        group = self.in_group.get(element_id)
        return not hidden and (group is None or self.shown(group))


def parts_of(response) -> _FormParts:
    parts = _FormParts()
    parts.feed(response.content.decode())
    return parts


def shown_fields(parts: _FormParts) -> set[str]:
    return {
        element_id.removeprefix("field-")
        for element_id in parts.marks
        if element_id.startswith("field-") and parts.shown(element_id)
    }


COMMON = {
    "service",
    "data_source",
    "name",
    "why",
    "owner",
    "sli_kind",
    "target",
    "budgeting_method",
    "window_kind",
    "window_days",
    "provisional",
    "review_interval_days",
    "labels",
}


def test_a_new_slo_shows_the_ratio_fields_and_hides_the_other_kinds(client, teammate, team):
    client_for(client, teammate)
    response = client.get(reverse("slos:create", args=[team.slug]))
    assert response.status_code == 200
    parts = parts_of(response)
    assert parts.checked == {
        "sli_kind": "ratio",
        "ratio_of": "good",
        "budgeting_method": "occurrences",
        "window_kind": "rolling",
    }
    assert shown_fields(parts) == COMMON | {"ratio_of", "good_query", "valid_query"}
    assert not parts.shown("group-histogram")
    assert not parts.shown("group-gauge")
    assert not parts.shown("group-threshold")
    # "Try the queries" sits after the objective, which says how a day is counted.
    page = response.content.decode()
    assert page.index('id="group-objective"') < page.index('id="group-try"')
    assert page.index('id="group-try"') < page.index('id="group-window"')
    assert reverse("slos:queries_try", args=[team.slug]) in page


def test_editing_a_gauge_slo_shows_its_fields(client, teammate, service, data_source):
    gauge = services.slo_create(
        service=service,
        data_source=data_source,
        name="Queue lag",
        sli_kind="gauge",
        gauge_query="max(queue_lag_seconds)",
        threshold_op="lt",
        threshold=10,
        budgeting_method="timeslices",
        timeslice_target="95",
        window_kind="calendar",
        calendar_period="month",
        target="99",
        backfill=False,
    )
    client_for(client, teammate)
    parts = parts_of(client.get(reverse("slos:edit", args=[gauge.pk])))
    assert parts.checked["sli_kind"] == "gauge"
    assert shown_fields(parts) == (COMMON - {"window_days"}) | {
        "target_change_note",
        "gauge_query",
        "threshold_op",
        "threshold",
        "timeslice_target",
        "timeslice_minutes",
        "calendar_period",
    }


def test_a_validation_error_keeps_the_chosen_kind_and_its_fields(
    client, teammate, team, service, data_source
):
    client_for(client, teammate)
    response = client.post(
        reverse("slos:create", args=[team.slug]),
        slo_form(service, data_source, sli_kind="histogram", histogram_metric="", threshold=""),
    )
    assert response.status_code == 400
    parts = parts_of(response)
    assert parts.checked["sli_kind"] == "histogram"
    assert {"histogram_metric", "histogram_labels", "threshold"} <= shown_fields(parts)
    assert not parts.shown("group-ratio")
    assert "Name the histogram" in response.content.decode()
    assert not SLO.objects.exists()


def test_a_field_with_an_error_is_shown_even_outside_the_chosen_kind(
    client, teammate, team, service, data_source
):
    """A threshold typed as text, then the kind set back to ratio: the error is on a
    field the ratio kind hides, so it stays in sight."""
    client_for(client, teammate)
    response = client.post(
        reverse("slos:create", args=[team.slug]),
        slo_form(service, data_source, threshold="fast", window_kind="calendar"),
    )
    assert response.status_code == 400
    parts = parts_of(response)
    assert parts.checked["sli_kind"] == "ratio"
    assert parts.shown("field-threshold")
    assert not parts.shown("group-gauge")
    assert "Enter a number" in response.content.decode()


def test_the_css_hides_the_parts_of_every_other_value_of_every_switch():
    """One rule per switch value: a value without its rule would leave every part of the
    other values shown (a new SLI kind added to the model, say)."""
    css = re.sub(r"\s+", " ", CSS.read_text())
    for form_class in [SLOForm, SLOEditForm]:
        marked = [group.when for group in form_class.FIELDSETS if group.when]
        marked += list(form_class.FIELD_WHEN.values())
        for when in marked:
            assert when.switch in SLO_FORM_SWITCHES
            model_values = {
                str(value) for value, _label in SLO._meta.get_field(when.switch).choices
            }
            assert set(when.values) <= model_values, when
    for switch in SLO_FORM_SWITCHES:
        for value, _label in SLO._meta.get_field(switch).choices:
            rule = (
                f'.slo-form:has([name="{switch}"][value="{value}"]:checked) '
                f'[data-when-{switch}]:not([data-when-{switch}~="{value}"])'
            )
            assert rule in css, rule


# After a save: one message, at the level of the backfill's news -------------------------


def messages_of(response) -> list[tuple[int, str]]:
    """Each message's level and text (its link left in, its escapes undone)."""
    return [(message.level, unescape(str(message))) for message in response.context["messages"]]


def live_message(client, page) -> tuple[str, str]:
    """The message at the top of `page` that follows a backfill running in the
    background, once the backfill has ended: its level and text (as the page shows it
    after its last poll)."""
    [live_url] = re.findall(r'hx-get="([^"]+)"', page.content.decode().split("</section>")[0])
    background_join()
    answer = client.get(unescape(live_url), headers={"HX-Request": "true"})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "hx-get" not in html  # it has ended: the page stops asking
    [level] = re.findall(r'class="message message-(\w+)"', html)
    return level, unescape(re.sub(r"<[^>]+>", "", html)).strip()


@pytest.mark.django_db(transaction=True)
def test_a_failed_backfill_is_the_message_at_the_top_not_a_green_created(
    client, teammate, team, service, data_source
):
    """The factory's source listens nowhere: the backfill, run in the background once
    the SLO is committed, as on the embedded default, fails, and the message at the top
    of the page that followed it says so, at an error's level."""
    client_for(client, teammate)
    response = client.post(reverse("slos:create", args=[team.slug]), slo_form(service, data_source))
    slo = SLO.objects.get()
    assert response["Location"] == reverse("slos:detail", args=[slo.pk])
    page = client.get(response["Location"])
    [(level, text)] = messages_of(page)
    assert level == constants.INFO
    assert text.startswith("SLO “Payroll export success” created. Its backfill is running")
    html = page.content.decode()
    assert html.index('class="message message-info"') < html.index('id="pull-progress"')
    level, text = live_message(client, page)
    assert level == "error"
    assert text.startswith("SLO “Payroll export success” created. But its backfill failed")
    assert "could not connect" in text
    assert PullRun.objects.get(slo=slo).status == PullStatus.FAILED


@pytest.mark.prometheus
@pytest.mark.django_db(transaction=True)
def test_a_backfill_that_stored_hours_is_said_with_its_count(
    client, teammate, team, service, prometheus
):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    client_for(client, teammate)
    data = slo_form(service, source, good_query=GOOD_QUERY, valid_query=VALID_QUERY)
    page = client.post(reverse("slos:create", args=[team.slug]), data, follow=True)
    level, text = live_message(client, page)
    run = PullRun.objects.get(slo__name="Payroll export success")
    assert run.status == PullStatus.OK and run.hours_stored > 0
    assert level == "success"
    assert text.startswith(
        f"SLO “Payroll export success” created. Its backfill stored {run.hours_stored} "
        "hours of data."
    )


def test_a_backfill_left_to_a_worker_is_said_running(client, teammate, team, service, data_source):
    """With a worker, the backfill has not begun when the page answers (here: the
    on-commit hook never runs inside the test's transaction)."""
    client_for(client, teammate)
    response = client.post(
        reverse("slos:create", args=[team.slug]), slo_form(service, data_source), follow=True
    )
    [(level, text)] = messages_of(response)
    assert level == constants.INFO
    assert "backfill is running in the background" in text


def _fake_backfill(monkeypatch, **run):
    """The backfill, as if it ended with `run` (the pull's own outcomes are tested in
    tests/slos/ingestion)."""

    def enqueue(slo):
        PullRun.objects.create(
            data_source=slo.data_source,
            slo=slo,
            trigger=PullTrigger.BACKFILL,
            started_at=timezone.now(),
            until=timezone.now(),
            **run,
        )

    monkeypatch.setattr(services, "slo_backfill_enqueue", enqueue)


@pytest.mark.parametrize(
    ("run", "level", "said"),
    [
        (
            {
                "status": PullStatus.PARTIAL,
                "hours_missing": 672,
                "hours_stored": 600,
                "outcomes": [{"message": "Prometheus at x failed after 3 attempts: HTTP 503."}],
            },
            constants.WARNING,
            "But its backfill stored only 600 of 672 hours (Prometheus at x failed after 3 "
            "attempts: HTTP 503).",
        ),
        (
            {"status": PullStatus.OK, "hours_missing": 672, "hours_stored": 0},
            constants.WARNING,
            "But its backfill found no data in the SLO's window",
        ),
        (
            {"status": PullStatus.SKIPPED, "message": "Another pull of this source is running."},
            constants.INFO,
            "Another pull of its data source was running",
        ),
        ({"status": PullStatus.RUNNING}, constants.INFO, "backfill is running"),
        ({"status": PullStatus.QUEUED}, constants.WARNING, "backfill is delayed"),
        (
            {"status": PullStatus.OK, "hours_missing": 1, "hours_stored": 1},
            constants.SUCCESS,
            "Its backfill stored 1 hour of data.",
        ),
    ],
)
def test_each_outcome_of_a_backfill_has_its_message(
    client, teammate, team, service, data_source, monkeypatch, run, level, said
):
    _fake_backfill(monkeypatch, **run)
    client_for(client, teammate)
    response = client.post(
        reverse("slos:create", args=[team.slug]), slo_form(service, data_source), follow=True
    )
    [(got_level, text)] = messages_of(response)
    assert got_level == level
    assert text.startswith("SLO “Payroll export success” created. ")
    assert said in text
    assert ("#pull-progress" in text) == (level != constants.SUCCESS)


def test_an_slo_on_a_pushed_source_is_simply_created(client, teammate, team, service):
    pushed = DataSourceFactory(team=team, name="Batch jobs", kind="push", url="")
    client_for(client, teammate)
    response = client.post(
        reverse("slos:create", args=[team.slug]),
        slo_form(service, pushed, good_query="", valid_query=""),
        follow=True,
    )
    assert messages_of(response) == [(constants.SUCCESS, "SLO “Payroll export success” created.")]


def test_an_edit_says_the_backfill_only_when_the_measurement_changed(
    client, teammate, team, service, data_source, monkeypatch
):
    slo = services.slo_create(
        service=service,
        data_source=data_source,
        name="Payroll export success",
        good_query='sum(increase(http_requests_total{code!~"5.."}[$window]))',
        valid_query="sum(increase(http_requests_total[$window]))",
        target="99.5",
        backfill=False,
    )
    _fake_backfill(
        monkeypatch,
        status=PullStatus.FAILED,
        outcomes=[{"message": "Prometheus rejected the query: parse error"}],
    )
    client_for(client, teammate)
    renamed = client.post(
        reverse("slos:edit", args=[slo.pk]),
        slo_form(service, data_source, name="Payroll exported"),
        follow=True,
    )
    assert messages_of(renamed) == [(constants.SUCCESS, "SLO “Payroll exported” saved.")]
    requery = client.post(
        reverse("slos:edit", args=[slo.pk]),
        slo_form(service, data_source, name="Payroll exported", good_query="sum(x[$window])"),
        follow=True,
    )
    [(level, text)] = messages_of(requery)
    assert level == constants.ERROR
    assert "backfill failed, so it has no data yet (Prometheus rejected the query" in text
