"""The day rows (slos.models.DailyBucket) that budgets read whole days from: the database
keeps them equal to the sums of the hourly rows through every kind of write, and a
budget read from them is the budget read from the hours alone."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slos.budget import HOUR, align_to_hour
from slos.ingestion.storing import store_new_rows, store_rows
from slos.models import SLO, DailyBucket, HourlyBucket, WindowKind
from slos.registry import selectors
from slos.registry.selectors import slo_budgets, slos_with_budgets
from tests.conftest import utc
from tests.factories import AnnotationFactory, SLOFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the day rows are kept by PostgreSQL triggers"
)

START = utc(2026, 10, 30, 20)  # four hours before a UTC midnight


def recomputed() -> dict[tuple[int, date], tuple]:
    """The day rows as the hourly rows say they should be."""
    days: dict[tuple[int, date], list] = defaultdict(lambda: [0.0, 0.0, 0, 0, 0, 0])
    for row in HourlyBucket.objects.all():
        sums = days[(row.slo_id, row.hour.astimezone(UTC).date())]
        sums[0] += row.good
        sums[1] += row.valid
        sums[2] += row.good_slices
        sums[3] += row.total_slices
        sums[4] += 1
        sums[5] += row.good > row.valid
    return {key: tuple(sums) for key, sums in days.items()}


def stored() -> dict[tuple[int, date], tuple]:
    return {
        (row.slo_id, row.day): (
            row.good,
            row.valid,
            row.good_slices,
            row.total_slices,
            row.hours,
            row.error_hours,
        )
        for row in DailyBucket.objects.all()
    }


def assert_days_follow_hours() -> None:
    expected, found = recomputed(), stored()
    assert found.keys() == expected.keys()
    for key, sums in expected.items():
        assert found[key][0] == pytest.approx(sums[0], rel=1e-12)
        assert found[key][1] == pytest.approx(sums[1], rel=1e-12)
        assert found[key][2:] == sums[2:]


def test_the_day_rows_follow_every_kind_of_write(slo, service, data_source):
    other = SLOFactory(service=service, data_source=data_source, name="Other")
    hours = [START + HOUR * index for index in range(30)]  # two days and a bit

    store_rows([(slo.pk, hour, 99.5, 100.0, 0, 0) for hour in hours])  # COPY and merge
    assert_days_follow_hours()
    assert stored()[(slo.pk, date(2026, 10, 31))][4] == 24

    store_rows([(slo.pk, hours[5], 10.0, 200.0, 0, 0)])  # an hour stored again
    store_new_rows([(other.pk, hour, 5.0, 4.0, 1, 2) for hour in hours[:6]])  # straight COPY
    assert_days_follow_hours()
    assert stored()[(other.pk, date(2026, 10, 30))][5] == 4  # good above valid, 4 hours

    HourlyBucket.objects.filter(slo=slo, hour__in=hours[2:8]).update(good=1.0)
    HourlyBucket.objects.filter(slo=slo).update(stale=True)
    assert_days_follow_hours()

    HourlyBucket.objects.filter(slo=slo, hour__gte=hours[4]).delete()  # the 31st emptied
    assert_days_follow_hours()
    assert (slo.pk, date(2026, 10, 31)) not in stored()

    HourlyBucket.objects.bulk_create(
        HourlyBucket(slo=slo, hour=hour, good=3, valid=3, good_slices=1, total_slices=1)
        for hour in hours[20:]
    )
    assert_days_follow_hours()


def test_deleting_an_slo_takes_its_day_rows_with_it(slo):
    store_rows([(slo.pk, START + HOUR * index, 9.0, 10.0, 0, 0) for index in range(10)])
    assert DailyBucket.objects.filter(slo=slo).count() == 2

    slo.delete()

    assert not DailyBucket.objects.exists()


def test_a_window_with_excluded_hours_is_summed_from_its_hours(slo, service, data_source):
    """Excluded hours come out of the hourly rows; such an SLO's budget is read from its
    hours while the others' are read from their day rows, in the same call."""
    other = SLOFactory(service=service, data_source=data_source, name="Other")
    at = utc(2026, 11, 20, 5, 30)
    end = align_to_hour(at)
    hours = [end - HOUR * index for index in range(1, 24 * 30)]
    store_rows([(pk, hour, 90.0, 100.0, 0, 0) for pk in (slo.pk, other.pk) for hour in hours])
    bad = hours[100:110]  # ten hours of 50 bad in 100, during maintenance
    store_rows([(slo.pk, hour, 50.0, 100.0, 0, 0) for hour in bad])
    store_rows([(other.pk, hour, 50.0, 100.0, 0, 0) for hour in bad])
    AnnotationFactory(
        slo=slo, starts_at=bad[-1], ends_at=bad[0] + HOUR, excluded=True, kind="maintenance"
    )

    budgets = slo_budgets([slo.pk, other.pk], at=at)

    window_hours = 28 * 24
    assert budgets[slo.pk].excluded_hours == 10
    assert budgets[slo.pk].valid == pytest.approx(100 * (window_hours - 10))
    assert budgets[slo.pk].good == pytest.approx(90 * (window_hours - 10))
    assert budgets[other.pk].valid == pytest.approx(100 * window_hours)
    assert budgets[other.pk].good == pytest.approx(90 * (window_hours - 10) + 50 * 10)


WINDOWS = st.one_of(
    st.tuples(st.just(WindowKind.ROLLING), st.sampled_from([1, 7, 28, 30])),
    st.tuples(st.just(WindowKind.CALENDAR), st.sampled_from(["day", "week", "month"])),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    windows=st.lists(WINDOWS, min_size=1, max_size=4),
    zone=st.sampled_from(["UTC", "Asia/Tokyo", "Asia/Kathmandu", "America/St_Johns"]),
    at_hour=st.integers(min_value=0, max_value=24 * 40 - 1),
    minute=st.integers(min_value=0, max_value=59),
    gaps=st.sets(st.integers(min_value=0, max_value=24 * 45), max_size=60),
    fractional=st.booleans(),
    sliced=st.sets(st.integers(min_value=0, max_value=3)),
)
def test_budgets_from_day_rows_are_the_budgets_from_hours(
    service, data_source, windows, zone, at_hour, minute, gaps, fractional, sliced
):
    SLO.objects.all().delete()
    service.team.time_zone = zone
    service.team.save()
    slos = [
        SLOFactory(
            service=service,
            data_source=data_source,
            name=f"SLO {index}",
            window_kind=kind,
            window_days=setting if kind == WindowKind.ROLLING else 28,
            calendar_period=setting if kind == WindowKind.CALENDAR else "month",
            **(
                {"budgeting_method": "timeslices", "timeslice_target": "95"}
                if index in sliced
                else {}
            ),
        )
        for index, (kind, setting) in enumerate(windows)
    ]
    first = datetime(2026, 9, 20, tzinfo=UTC)
    rows = []
    for slo in slos:
        for index in range(24 * 45):
            if index in gaps:
                continue
            valid = 1000 + (index * 37 + slo.pk) % 300
            bad = (index * 7 + slo.pk) % 13 + (0.25 if fractional else 0)
            good = valid - bad if index % 97 else valid + 1  # now and then good > valid
            rows.append((slo.pk, first + HOUR * index, float(good), float(valid), index % 60, 60))
    store_rows(rows)
    at = first + HOUR * at_hour + timedelta(minutes=minute)
    end = align_to_hour(at)
    listed = list(SLO.objects.filter(pk__in=[slo.pk for slo in slos]).for_page())
    windows_of = {slo.pk: selectors.slo_window(slo, at=at) for slo in listed}

    timeslices = {slo.pk for slo in listed if slo.uses_timeslices}
    assert len(timeslices) == len({index for index in sliced if index < len(slos)})

    from_days = selectors._rolled_up_aggregates(windows_of, end=end, timeslices=timeslices)
    from_hours = selectors._hourly_aggregates(
        windows_of, end=end, excluded={}, timeslices=timeslices
    )

    assert from_days.keys() == from_hours.keys()
    for pk, expected in from_hours.items():
        found = from_days[pk]
        assert len(found) == len(expected) == len(selectors.NO_SUMS)
        for index, (got, value) in enumerate(zip(found, expected, strict=True)):
            assert type(got) is type(value), (pk, index)  # plain numbers, no Decimal
            if isinstance(value, float):
                assert math.isclose(got, value, rel_tol=1e-12, abs_tol=1e-9), (pk, index)
            else:
                assert got == value, (pk, index)
    budgets = {row.slo.pk: row.budget for row in slos_with_budgets(SLO.objects.all(), at=at)}
    assert set(budgets) == {slo.pk for slo in slos}
