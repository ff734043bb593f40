from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.defaultfilters import floatformat
from django.utils import translation

from portal.formatting import (
    attribute_number_text,
    budget_level_text,
    budget_percent_text,
    count_text,
    coverage_text,
    day_text,
    days_text,
    duration_text,
    factor_text,
    hours_text,
    per_day_text,
    percent_text,
    score_text,
    seconds_text,
    sli_text,
    target_text,
    time_span_text,
    time_text,
    whole_count_text,
)


def test_percent_text_gives_two_significant_digits_below_one_percent():
    assert percent_text(0.0002) == "0.02"
    assert percent_text(0.000234) == "0.023"
    assert percent_text(0.0123) == "1.23"
    assert percent_text(0.25) == "25"
    assert percent_text(1e-9) == "0.0000001"
    assert percent_text(0) == "0"
    assert percent_text(-0.5) == "-50"
    assert percent_text(None) == ""


def test_a_target_has_as_many_decimals_as_it_has_never_padded():
    assert target_text(Decimal("99.00000")) == "99"
    assert target_text(Decimal("99.90000")) == "99.9"
    assert target_text(Decimal("99.95000")) == "99.95"
    assert target_text(Decimal("99.99900")) == "99.999"
    assert target_text(Decimal("99.99950")) == "99.9995"
    assert target_text(Decimal("100.000")) == "100"
    assert target_text(99.9) == "99.9"
    assert target_text(0.999 * 100) == "99.9"  # the float 99.89999999999999
    assert target_text(95) == "95"
    assert target_text(None) == ""


def test_sli_and_budget_percentages_have_fixed_places():
    assert sli_text(99.95341) == "99.953"
    assert sli_text(100) == "100.000"
    assert sli_text(99.9) == "99.900"
    assert sli_text(None) == ""
    assert budget_percent_text(42.46) == "42.5"
    assert budget_percent_text(42.5) == "42.5"
    assert budget_percent_text(100) == "100.0"
    assert budget_percent_text(0) == "0.0"
    assert budget_percent_text(-120.04) == "-120.0"
    assert budget_percent_text(-0.04) == "0.0"
    assert budget_percent_text(None) == ""
    assert budget_level_text(Decimal("25.00")) == "25"
    assert budget_level_text(Decimal("12.50")) == "12.5"


def test_coverage_is_a_percentage_and_100_only_when_complete():
    assert coverage_text(1) == "100.0"
    assert coverage_text(0.975) == "97.5"
    assert coverage_text(0.999) == "99.9"
    assert coverage_text(100 / 672) == "14.9"
    assert coverage_text(671 / 672) == "99.9"
    assert coverage_text(2015 / 2016) == "99.9"  # rounds to 100.0, but an hour is missing
    assert coverage_text(2 / 3) == "66.7"
    assert coverage_text(0) == "0.0"
    assert coverage_text(None) == ""


def test_factors_scores_and_rates():
    assert factor_text(1.255) == "1.26"
    assert factor_text(14.4) == "14.40"
    assert factor_text(0) == "0.00"
    assert score_text(12.5) == "12.50"
    assert days_text(6.54) == "6.5"
    assert per_day_text(3) == "3.0"


def test_counts():
    assert count_text(990.0) == "990"
    assert count_text(1204.5) == "1204.5"
    assert count_text(123456789012345.0) == "123456789012345"
    assert whole_count_text(1204.4) == "1,204"
    assert whole_count_text(1_234_567_890) == "1,234,567,890"
    assert whole_count_text(-2500.5) == "-2,501"
    assert whole_count_text(14284) == "14,284"
    assert whole_count_text(999) == "999"
    assert whole_count_text(0) == "0"
    assert whole_count_text(None) == ""


def test_hours_have_at_most_two_places_never_padded():
    assert hours_text(8) == "8"
    assert hours_text(Decimal("8.00")) == "8"
    assert hours_text(Decimal("7.50")) == "7.5"
    assert hours_text(0.25) == "0.25"
    assert hours_text(Decimal("0.125")) == "0.13"
    assert hours_text(1234.5) == "1,234.5"
    assert hours_text(None) == ""


def test_durations():
    assert duration_text(timedelta(days=3, hours=4, minutes=5)) == "3 days 4 hours"
    assert duration_text(timedelta(hours=1, minutes=1)) == "1 hour 1 minute"
    assert duration_text(timedelta(minutes=5)) == "5 minutes"
    assert duration_text(timedelta(seconds=20)) == "less than a minute"
    assert duration_text(timedelta(seconds=-90)) == "less than a minute"
    assert duration_text(None) == ""
    assert seconds_text(timedelta(seconds=12.34)) == "12.3"
    assert seconds_text(timedelta(0)) == "0.0"


def test_numbers_follow_the_locale_except_in_attributes():
    with translation.override("de"):
        assert budget_percent_text(42.46) == "42,5"
        assert whole_count_text(1204) == "1.204"
        assert target_text(Decimal("99.90")) == "99,9"
        assert coverage_text(0.975) == "97,5"
        assert hours_text(Decimal("1234.50")) == "1.234,5"
        assert attribute_number_text(42.46, 1) == "42.5"


def test_japanese_groups_and_points_as_english_does():
    with translation.override("ja"):
        assert whole_count_text(14284) == "14,284"
        assert target_text(Decimal("99.950")) == "99.95"
        assert sli_text(99.95341) == "99.953"
        assert budget_percent_text(42.46) == "42.5"
        assert coverage_text(0.975) == "97.5"
        assert hours_text(1234.5) == "1,234.5"
        assert duration_text(timedelta(days=3, hours=4)) == "3日 4時間"


NOV_2_0930_UTC = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_a_time_is_in_the_teams_zone_and_says_which():
    assert time_text(NOV_2_0930_UTC, "Asia/Tokyo") == "2 Nov 2026 18:30 JST"
    assert time_text(NOV_2_0930_UTC, "UTC") == "2 Nov 2026 09:30 UTC"
    assert time_text(NOV_2_0930_UTC, "Europe/Berlin") == "2 Nov 2026 10:30 CET"
    assert time_text(datetime(2026, 7, 2, 9, 30, tzinfo=UTC), "Europe/Berlin") == (
        "2 Jul 2026 11:30 CEST"
    )
    # A zone without letters for itself reads as an offset from UTC.
    assert time_text(NOV_2_0930_UTC, "Asia/Dubai") == "2 Nov 2026 13:30 UTC+04"
    # No zone, or an unknown one: the site's (UTC), still labelled.
    assert time_text(NOV_2_0930_UTC, None) == "2 Nov 2026 09:30 UTC"
    assert time_text(NOV_2_0930_UTC, "Nowhere/Else") == "2 Nov 2026 09:30 UTC"
    assert time_text(None, "Asia/Tokyo") == ""


def test_a_time_in_japanese():
    with translation.override("ja"):
        assert time_text(NOV_2_0930_UTC, "Asia/Tokyo") == "2026年11月2日 18:30 JST"
        assert time_span_text(
            NOV_2_0930_UTC, datetime(2026, 11, 2, 11, tzinfo=UTC), "Asia/Tokyo"
        ) == ("2026年11月2日 18:30–20:00 JST")
        assert day_text(datetime(2026, 11, 2, 16, tzinfo=UTC), "Asia/Tokyo") == "2026年11月3日"


def test_a_span_writes_its_day_once_when_it_can():
    eleven = datetime(2026, 11, 2, 11, tzinfo=UTC)
    assert time_span_text(NOV_2_0930_UTC, eleven, "Asia/Tokyo") == "2 Nov 2026 18:30–20:00 JST"
    past_midnight = datetime(2026, 11, 2, 16, tzinfo=UTC)
    assert time_span_text(NOV_2_0930_UTC, past_midnight, "Asia/Tokyo") == (
        "2 Nov 2026 18:30 – 3 Nov 2026 01:00 JST"
    )
    # Across the end of summer time the same clock reading is two moments: both labelled.
    assert time_span_text(
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        "Europe/Berlin",
    ) == ("25 Oct 2026 02:30 CEST – 25 Oct 2026 02:30 CET")
    assert time_span_text(NOV_2_0930_UTC, None, "UTC") == "2 Nov 2026 09:30 UTC"


def test_a_day_is_the_teams_day():
    assert day_text(datetime(2026, 11, 2, 16, tzinfo=UTC), "Asia/Tokyo") == "3 Nov 2026"
    assert day_text(datetime(2026, 11, 2, 16, tzinfo=UTC), "UTC") == "2 Nov 2026"
    assert day_text(date(2026, 11, 2)) == "2 Nov 2026"
    assert day_text(None) == ""


@pytest.mark.parametrize("language", ["en", "ja", "de"])
def test_the_fixed_kinds_round_as_floatformat_does(language):
    """The fixed-place kinds are floatformat's rounding and separators, whatever comes in
    (NaN, infinities, huge, tiny, negative zero)."""
    values = [
        None, 0, 0.0, -0.0, 1, 99, 100, 0.5, 0.05, 0.005, 0.125, 2.675, -0.04, -1.5,
        -120.04, 99.9, 99.95, 99.9995, 1204.5, 1234567.891, -2500.5, 1e-9, 1e15, 1e20,
        2 / 3, Decimal("99.90000"), Decimal("25.00"), Decimal("12.345"), Decimal("-0.001"),
        float("inf"), float("nan"),
    ]  # fmt: skip
    kinds = [
        (sli_text, 3),
        (budget_percent_text, 1),
        (factor_text, 2),
        (score_text, 2),
        (days_text, 1),
        (per_day_text, 1),
        (whole_count_text, "0g"),
        (lambda value: attribute_number_text(value, 1), "1u"),
    ]
    with translation.override(language):
        for kind, argument in kinds:
            for value in values:
                assert kind(value) == floatformat(value, argument), (kind, argument, value)


def test_filters_work_inside_blocktranslate():
    template = Template(
        "{% load i18n portal_format %}"
        "{% blocktranslate with left=left|count %}{{ left }} more{% endblocktranslate %} "
        "{{ target|target }}% {{ sli|sli }}% {{ rate|factor }}× "
        "{{ span|duration }} {{ cov|coverage }}% {{ hours|hours }} h"
    )
    text = template.render(
        Context(
            {
                "left": 12345.4,
                "target": Decimal("99.9"),
                "sli": 99.95,
                "rate": 1.5,
                "span": timedelta(hours=5, minutes=10),
                "cov": 0.975,
                "hours": Decimal("7.50"),
            }
        )
    )
    assert text == "12,345 more 99.9% 99.950% 1.50× 5 hours 10 minutes 97.5% 7.5 h"


def test_filters_print_nothing_for_none():
    template = Template(
        "{% load portal_format %}[{{ x|budget_percent }}|{{ x|count }}|{{ x|coverage }}|"
        "{{ x|hours }}|{{ x|target }}|{{ x|team_time:'Asia/Tokyo' }}|{{ x|team_day }}|"
        "{{ x|duration_since }}]"
    )
    assert template.render(Context({"x": None})) == "[|||||||]"


def test_the_time_filters_take_the_teams_zone():
    template = Template(
        "{% load portal_format %}{{ at|team_time:zone }} · {{ at|team_day:zone }} · "
        "{% team_time_span at end zone %} · {{ at|team_time }} · "
        "{% team_time_span at end zone as span %}[{{ span }}]"
    )
    context = Context(
        {"at": NOV_2_0930_UTC, "end": datetime(2026, 11, 2, 11, tzinfo=UTC), "zone": "Asia/Tokyo"}
    )
    assert template.render(context) == (
        "2 Nov 2026 18:30 JST · 2 Nov 2026 · 2 Nov 2026 18:30–20:00 JST · "
        "2 Nov 2026 09:30 UTC · [2 Nov 2026 18:30–20:00 JST]"
    )
    with translation.override("ja"):
        assert Template("{% load portal_format %}{{ at|team_time:zone }}").render(context) == (
            "2026年11月2日 18:30 JST"
        )


def test_duration_since_uses_duration_text():
    template = Template("{% load portal_format %}{{ start|duration_since:end }}")
    context = Context(
        {"start": NOV_2_0930_UTC, "end": NOV_2_0930_UTC + timedelta(days=3, hours=4, minutes=5)}
    )
    assert template.render(context) == "3 days 4 hours"
    with translation.override("ja"):
        assert template.render(context) == "3日 4時間"
