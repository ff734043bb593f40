"""Template filters over `portal.formatting`: `{% load portal_format %}`, then
`{{ slo.target|target }}`, `{{ budget.sli_percent|sli }}%`, `{{ budget.bad_events_left|count }}`.

Each filter gives the number alone; the template writes the unit ("%", "×", "s") so
translated sentences keep it where their language wants it. None gives "".
"""

from __future__ import annotations

from datetime import timedelta

from django import template

from portal import formatting
from portal.formatting import Number

register = template.Library()


@register.filter(is_safe=True)
def fraction_percent(fraction: float | None) -> str:
    """`{{ 0.0002|fraction_percent }}%` → 0.02%."""
    return formatting.percent_text(fraction)


@register.filter(is_safe=True)
def target(percent: Number | None, decimals: int | None = None) -> str:
    """`{{ slo.target|target }}` → 99.9; `{{ slo.target|target:3 }}` → 99.900 (lists)."""
    return formatting.target_text(percent, decimals=None if decimals is None else int(decimals))


@register.filter(is_safe=True)
def sli(percent: Number | None) -> str:
    """`{{ budget.sli_percent|sli }}%` → 99.953%."""
    return formatting.sli_text(percent)


@register.filter(is_safe=True)
def budget_percent(percent: Number | None, decimals: int = 1) -> str:
    """`{{ budget.error_budget_remaining_percent|budget_percent }}%` → 42.5%;
    `|budget_percent:0` → 43%."""
    return formatting.budget_percent_text(percent, int(decimals))


@register.filter(is_safe=True)
def budget_level(percent: Number | None) -> str:
    """`{{ step.below_percent|budget_level }}%` → 25%, 12.50%."""
    return formatting.budget_level_text(percent)


@register.filter(is_safe=True)
def coverage(fraction: Number | None) -> str:
    """`{{ budget.coverage|coverage }}` → 0.98."""
    return formatting.coverage_text(fraction)


@register.filter(is_safe=True)
def coverage_percent(percent: Number | None) -> str:
    """`{{ coverage_percent|coverage_percent }}%` → 100%, 97.5%."""
    return formatting.coverage_percent_text(percent)


@register.filter(is_safe=True)
def factor(value: Number | None) -> str:
    """`{{ budget.burn_rate|factor }}×` → 1.25×."""
    return formatting.factor_text(value)


@register.filter(is_safe=True)
def score(value: Number | None) -> str:
    """`{{ row.breakdown.score|score }}` → 12.50."""
    return formatting.score_text(value)


@register.filter(is_safe=True)
def count(value: Number | None) -> str:
    """`{{ budget.bad_events_left|count }}` → 1,204."""
    return formatting.whole_count_text(value)


@register.filter(is_safe=True)
def count_ungrouped(value: Number | None) -> str:
    """`{{ snapshot.bad_events_left|count_ungrouped }}` → 1204 (the retro's format)."""
    return formatting.whole_count_text(value, grouped=False)


@register.filter(is_safe=True)
def duration(span: timedelta | None) -> str:
    """`{{ span|duration }}` → 3 days 4 hours."""
    return formatting.duration_text(span)


@register.filter(is_safe=True)
def seconds(span: timedelta | None) -> str:
    """`{{ run.duration|seconds }} s` → 12.3 s."""
    return formatting.seconds_text(span)


@register.filter(is_safe=True)
def days(value: Number | None) -> str:
    """`{{ segment.days|days }}` → 6.5."""
    return formatting.days_text(value)


@register.filter(is_safe=True)
def per_day(rate: Number | None) -> str:
    """`{{ rate|per_day }}` → 3.0."""
    return formatting.per_day_text(rate)


@register.filter(is_safe=True)
def attribute_number(value: Number | None, decimals: int) -> str:
    """`<meter value="{{ left|attribute_number:1 }}">` → 42.5, whatever the language."""
    return formatting.attribute_number_text(value, int(decimals))
