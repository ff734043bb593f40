"""Template filters over `portal.formatting`: `{% load portal_format %}`, then
`{{ slo.target|target }}`, `{{ budget.sli_percent|sli }}%`, `{{ budget.bad_events_left|count }}`.

Each filter gives the number alone; the template writes the unit ("%", "×", "s") so
translated sentences keep it where their language wants it. None gives "".

Times go through `team_time` (or `{% team_time_span %}`) with the team's zone, which
labels the zone: `{{ ticket.first_seen_at|team_time:team.time_zone }}` → 2 Nov 2026
18:30 JST. Days use the named formats: `{{ day|date:"DATE_FORMAT" }}`.
tests/portal/test_template_formats.py fails on a template that formats another way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import template
from django.utils import timezone

from portal import formatting
from portal.formatting import Number

register = template.Library()


@register.filter(is_safe=True)
def fraction_percent(fraction: float | None) -> str:
    """`{{ 0.0002|fraction_percent }}%` → 0.02%."""
    return formatting.percent_text(fraction)


@register.filter(is_safe=True)
def target(percent: Number | None) -> str:
    """`{{ slo.target|target }}%` → 99%, 99.9%, 99.95%: never padded."""
    return formatting.target_text(percent)


@register.filter(is_safe=True)
def sli(percent: Number | None) -> str:
    """`{{ budget.sli_percent|sli }}%` → 99.953%."""
    return formatting.sli_text(percent)


@register.filter(is_safe=True)
def budget_percent(percent: Number | None) -> str:
    """`{{ budget.error_budget_remaining_percent|budget_percent }}%` → 42.5%."""
    return formatting.budget_percent_text(percent)


@register.filter(is_safe=True)
def budget_level(percent: Number | None) -> str:
    """`{{ step.below_percent|budget_level }}%` → 25%, 12.5%."""
    return formatting.budget_level_text(percent)


@register.filter(is_safe=True)
def coverage(fraction: Number | None) -> str:
    """`{{ budget.coverage|coverage }}%` → 97.5%, 100.0% (a fraction in, a percent out)."""
    return formatting.coverage_text(fraction)


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
def share(fraction: Number | None) -> str:
    """`{{ 4/7|share }}%` → 57%: a share of the people who answered a survey."""
    return formatting.share_text(fraction)


@register.filter(is_safe=True)
def share_change(change: Number | None) -> str:
    """`{{ 0.14|share_change }}` → +14: percentage points between two shares."""
    return formatting.share_change_text(change)


@register.filter(is_safe=True)
def hours(value: Number | None) -> str:
    """`{{ entry.hours|hours }} h` → 7.5 h, 0.25 h, 8 h."""
    return formatting.hours_text(value)


@register.filter(is_safe=True)
def duration(span: timedelta | None) -> str:
    """`{{ span|duration }}` → 3 days 4 hours."""
    return formatting.duration_text(span)


@register.filter(is_safe=True)
def duration_since(start: datetime | None, end: datetime | None = None) -> str:
    """`{{ item.created_at|duration_since:now }}` → 3 days 4 hours: the time from
    `start` to `end` (now when left out), as `duration` writes it."""
    if start is None:
        return ""
    return formatting.duration_text((end or timezone.now()) - start)


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


@register.filter
def team_time(moment: datetime | None, time_zone: str | None = None) -> str:
    """`{{ moment|team_time:team.time_zone }}` → 2 Nov 2026 18:30 JST, 2026年11月2日
    18:30 JST: the one way a time is shown. Without a zone, the site's, labelled."""
    return formatting.time_text(moment, time_zone)


@register.simple_tag
def team_time_span(start: datetime | None, end: datetime | None, time_zone: str | None) -> str:
    """`{% team_time_span note.starts_at note.ends_at team.time_zone %}` → 2 Nov 2026
    18:30–20:30 JST; `… as span` to use it inside `{% blocktranslate %}`."""
    return formatting.time_span_text(start, end, time_zone)


@register.filter
def team_day(day: date | datetime | None, time_zone: str | None = None) -> str:
    """`{{ entry.noted_at|team_day:team.time_zone }}` → 2 Nov 2026: a moment's day in
    the team's zone (a date stays as it is), by DATE_FORMAT."""
    return formatting.day_text(day, time_zone)
