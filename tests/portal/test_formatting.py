from datetime import timedelta
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
    coverage_percent_text,
    coverage_text,
    days_text,
    duration_text,
    factor_text,
    per_day_text,
    percent_text,
    score_text,
    seconds_text,
    sli_text,
    target_text,
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


def test_target_text_as_people_write_it_or_padded_as_the_lists_print_it():
    assert target_text(Decimal("99.90000")) == "99.9"
    assert target_text(Decimal("100.000")) == "100"
    assert target_text(Decimal("99.99900")) == "99.999"
    assert target_text(Decimal("99.9"), decimals=3) == "99.900"
    assert target_text(Decimal("99.00000"), decimals=3) == "99"
    assert target_text(Decimal("99.99950"), decimals=3) == "100.000"
    assert target_text(None) == ""


def test_sli_and_budget_percentages():
    assert sli_text(99.95341) == "99.953"
    assert sli_text(100) == "100.000"
    assert sli_text(None) == ""
    assert budget_percent_text(42.46) == "42.5"
    assert budget_percent_text(0) == "0.0"
    assert budget_percent_text(-120.04) == "-120.0"
    assert budget_percent_text(-0.04) == "0.0"
    assert budget_percent_text(42.5, 0) == "43"
    assert budget_percent_text(-0.4, 0) == "0"
    assert budget_percent_text(None) == ""
    assert budget_level_text(Decimal("25.00")) == "25"
    assert budget_level_text(Decimal("12.5")) == "12.50"


def test_coverage_as_a_fraction_or_a_percentage():
    assert coverage_text(0.98) == "0.98"
    assert coverage_text(1) == "1.00"
    assert coverage_text(0) == "0.00"
    assert coverage_text(None) == ""
    assert coverage_percent_text(100.0) == "100"
    assert coverage_percent_text(97.5) == "97.5"
    assert coverage_percent_text(2 / 3 * 100) == "66.7"


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
    assert whole_count_text(0) == "0"
    assert whole_count_text(1204.4, grouped=False) == "1204"
    assert whole_count_text(None) == ""


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
        assert attribute_number_text(42.46, 1) == "42.5"


@pytest.mark.parametrize("language", ["en", "ja", "de"])
def test_the_filters_print_what_floatformat_printed(language):
    """This issue changes no output: each kind matches the floatformat it replaced."""
    values = [
        None, 0, 0.0, -0.0, 1, 99, 100, 0.5, 0.05, 0.005, 0.125, 2.675, -0.04, -1.5,
        -120.04, 99.9, 99.95, 99.9995, 1204.5, 1234567.891, -2500.5, 1e-9, 1e15, 1e20,
        2 / 3, Decimal("99.90000"), Decimal("25.00"), Decimal("12.345"), Decimal("-0.001"),
        float("inf"), float("nan"),
    ]  # fmt: skip
    kinds = [
        (sli_text, 3),
        (budget_percent_text, 1),
        (lambda value: budget_percent_text(value, 0), 0),
        (budget_level_text, "-2"),
        (coverage_text, 2),
        (coverage_percent_text, "-1"),
        (factor_text, 2),
        (score_text, 2),
        (days_text, 1),
        (per_day_text, 1),
        (whole_count_text, "0g"),
        (lambda value: whole_count_text(value, grouped=False), 0),
        (lambda value: attribute_number_text(value, 1), "1u"),
        (lambda value: target_text(value, decimals=3), "-3"),
    ]
    with translation.override(language):
        for kind, argument in kinds:
            for value in values:
                assert kind(value) == floatformat(value, argument), (kind, argument, value)


def test_filters_work_inside_blocktranslate():
    template = Template(
        "{% load i18n portal_format %}"
        "{% blocktranslate with left=left|count %}{{ left }} more{% endblocktranslate %} "
        "{{ target|target }}% {{ target|target:3 }}% {{ sli|sli }}% {{ rate|factor }}× "
        "{{ span|duration }}"
    )
    text = template.render(
        Context(
            {
                "left": 12345.4,
                "target": Decimal("99.9"),
                "sli": 99.95,
                "rate": 1.5,
                "span": timedelta(hours=5, minutes=10),
            }
        )
    )
    assert text == "12,345 more 99.9% 99.900% 99.950% 1.50× 5 hours 10 minutes"


def test_filters_print_nothing_for_none():
    template = Template(
        "{% load portal_format %}[{{ x|budget_percent }}|{{ x|count }}|{{ x|coverage }}]"
    )
    assert template.render(Context({"x": None})) == "[||]"
