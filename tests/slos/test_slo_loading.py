"""SLOs loaded from the database (SLO.from_db sets their fields directly): they behave
as Django's own instances do, deferred fields included, and a pre_init or post_init
receiver still sees every load."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from slos.models import SLO


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
