"""SLOs loaded from the database (SLO.from_db sets their fields directly): they behave
as Django's own instances do, deferred fields included, and a pre_init or post_init
receiver still sees every load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from slos.ingestion.pull import PULL_FIELDS, _load_in_stages, pull_marks
from slos.models import SLO, HourlyBucket

HOUR = datetime(2026, 10, 1, 7, tzinfo=UTC)


def test_a_loaded_slo_has_its_fields_and_saves_as_an_update(slo):
    loaded = SLO.objects.get(pk=slo.pk)

    assert loaded == slo and loaded.name == "Clock-in availability"
    assert loaded.target == Decimal("99.9") and loaded.service_id == slo.service_id
    assert not loaded._state.adding and loaded._state.db == "default"
    assert loaded.get_deferred_fields() == set()
    loaded.name = "Renamed"
    loaded.save()
    assert SLO.objects.count() == 1 and SLO.objects.get().name == "Renamed"


def test_fields_not_loaded_are_deferred_and_load_on_first_use(slo):
    loaded = SLO.objects.only("name").get(pk=slo.pk)

    assert "target" in loaded.get_deferred_fields() and "name" not in loaded.get_deferred_fields()
    with CaptureQueriesContext(connection) as queries:
        assert loaded.target == Decimal("99.9")
        assert loaded.target == Decimal("99.9")
    assert len(queries) == 1
    loaded.name = "Renamed"
    loaded.save()  # saves only what was loaded
    stored = SLO.objects.get(pk=slo.pk)
    assert (stored.name, stored.target) == ("Renamed", Decimal("99.9"))


def test_an_annotated_load_with_its_service_and_team_is_whole(slo):
    loaded = SLO.objects.select_related("service__team").annotate(twice=F("window_days") * 2).get()

    with CaptureQueriesContext(connection) as queries:
        assert loaded.service.team == slo.service.team
        assert loaded.twice == slo.window_days * 2
    assert len(queries) == 0


def test_a_post_init_receiver_sees_every_loaded_slo(slo):
    seen: list[tuple[int, str]] = []

    def receiver(sender, instance, **kwargs) -> None:
        seen.append((instance.pk, instance.name))

    post_init.connect(receiver, sender=SLO)
    try:
        SLO.objects.only("name").get(pk=slo.pk)
        list(SLO.objects.all())
    finally:
        post_init.disconnect(receiver, sender=SLO)

    assert seen == [(slo.pk, slo.name), (slo.pk, slo.name)]


def test_a_pulls_staged_load_gives_each_slo_its_service_and_marks_as_whole_seconds(slo):
    """ingest._load_in_stages: services (with their teams) loaded once and set on each
    SLO; pull_marks arrive as integers (epoch seconds), not floats or datetimes."""
    HourlyBucket.objects.create(slo=slo, hour=HOUR, good=9, valid=10)
    second = SLO.objects.create(
        service=slo.service, data_source=slo.data_source, name="Second", target=Decimal("99")
    )
    scope = SLO.objects.filter(data_source=slo.data_source)
    query = scope.only(*PULL_FIELDS).annotate(**pull_marks(HOUR + timedelta(hours=5)))

    with CaptureQueriesContext(connection) as queries:
        [loaded] = list(_load_in_stages(query.order_by("pk")))
        assert [each.pk for each in loaded] == [slo.pk, second.pk]
        assert {each.service.team.name for each in loaded} == {slo.service.team.name}
        assert loaded[0].service is loaded[1].service
    assert len(queries) == 2  # the SLOs, then their services with teams
    assert loaded[0].last_hour_at == int(HOUR.timestamp())
    assert type(loaded[0].last_hour_at) is int
    assert loaded[1].last_hour_at is None
