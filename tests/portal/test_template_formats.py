"""Every template formats numbers, durations, days and times one way: through the
`portal_format` filters and the named formats of `portal/formats/` (see the table in
`portal/formatting.py`). These tests read the template sources, so a new page that
spells out a format, pads a target or prints a time without its zone fails here."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# Named formats for a day. A time of day never goes through `date`: `team_time` puts it
# in the team's zone and labels the zone.
DAY_FORMATS = {"DATE_FORMAT", "MONTH_DAY_FORMAT", "SHORT_DATE_FORMAT", "YEAR_MONTH_FORMAT"}

# A number or a time printed without its filter, where the filter is the rule.
RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "floatformat: use the filter of the kind (target, sli, hours, …)",
        re.compile(r"\|\s*floatformat\b"),
    ),
    ("humanize: counts go through |count", re.compile(r"\|\s*(intcomma|intword)\b")),
    ("|time: a time goes through |team_time with the team's zone", re.compile(r"\|\s*time\b")),
    (
        "timesince/timeuntil: a duration goes through |duration or |duration_since",
        re.compile(r"\|\s*(timesince|timeuntil)\b"),
    ),
    (
        "a number through stringformat: use the filter of its kind",
        re.compile(r"\|\s*stringformat\s*:\s*['\"](?!s['\"])"),
    ),
    (
        "|target, |budget_percent and |coverage take no places: one way per kind",
        re.compile(r"\|\s*(target|budget_percent|coverage|count)\s*:"),
    ),
]

DATE_FILTER = re.compile(r"\|\s*date\b(?:\s*:\s*(?P<quote>['\"])(?P<format>.*?)(?P=quote))?")
# A variable printed bare whose name says it is a count.
BARE_COUNT = re.compile(
    r"\{\{\s*(?P<name>(?:\w+\.)*(?:count|\w+_count|count_\w+|total|rows|hours_stored|totals\.\w+))"
    r"\s*\}\}"
)
BLOCKTRANSLATE_BODY = re.compile(
    r"\{%\s*blocktranslate\b.*?%\}(.*?)\{%\s*endblocktranslate\s*%\}", re.S
)


def template_names() -> list[str]:
    return sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html"))


def problems_in(source: str) -> list[str]:
    found = []
    for line_number, line in enumerate(source.splitlines(), start=1):
        for reason, pattern in RULES:
            if pattern.search(line):
                found.append(f"line {line_number}: {reason}")
        for match in DATE_FILTER.finditer(line):
            named = match.group("format")
            if named not in DAY_FORMATS:
                found.append(
                    f"line {line_number}: |date{':' + repr(named) if named else ''}: a day takes "
                    f"one of {sorted(DAY_FORMATS)}, a time |team_time:team.time_zone, an "
                    "attribute .isoformat"
                )
    # Inside {% blocktranslate %} a variable cannot take a filter (its `with` does), so
    # only the rest of the page is held to |count.
    outside = BLOCKTRANSLATE_BODY.sub(lambda body: "\n" * body.group(0).count("\n"), source)
    for match in BARE_COUNT.finditer(outside):
        line_number = outside.count("\n", 0, match.start()) + 1
        found.append(f"line {line_number}: {{{{ {match.group('name')} }}}} without |count")
    return found


def test_the_templates_are_found():
    names = template_names()
    assert "slos/slo_list.html" in names and "retros/session.html" in names
    assert len(names) > 40


@pytest.mark.parametrize("name", template_names())
def test_a_template_formats_through_the_rule(name):
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    assert problems_in(source) == [], name


@pytest.mark.parametrize(
    ("snippet", "reason"),
    [
        ('{{ slo.target|floatformat:"-3" }}%', "floatformat"),
        ("{{ slo.target|target:3 }}%", "take no places"),
        ("{{ left|budget_percent:0 }}%", "take no places"),
        ('{{ ticket.first_seen_at|date:"Y-m-d H:i" }}', "|date:'Y-m-d H:i'"),
        ('{{ ticket.first_seen_at|date:"DATETIME_FORMAT" }}', "|date:'DATETIME_FORMAT'"),
        ("{{ run.started_at|date:'SHORT_DATETIME_FORMAT' }}", "|date:'SHORT_DATETIME_FORMAT'"),
        ("{{ run.started_at|date }}", "|date: a day takes"),
        ('{{ run.started_at|time:"H:i" }}', "|time"),
        ("{{ item.created_at|timesince }}", "timesince"),
        ("{{ total|intcomma }}", "humanize"),
        ('{{ share|stringformat:".1f" }}', "stringformat"),
        ("<td>{{ ticket.count }}</td>", "without |count"),
        ("<td>{{ row.notification_count }}</td>", "without |count"),
        ("<td>{{ summary.total }}</td>", "without |count"),
        ("<td>{{ run.count_ok }}</td>", "without |count"),
        ("<strong>{{ totals.alert }}</strong>", "without |count"),
        ("<td>{{ run.hours_stored }}</td>", "without |count"),
    ],
)
def test_the_scan_catches_a_page_that_slips(snippet, reason):
    found = problems_in(f"<p>\n{snippet}\n</p>")
    assert len(found) == 1 and reason in found[0], found
    assert found[0].startswith("line 2:")


@pytest.mark.parametrize(
    "snippet",
    [
        '{{ week.monday|date:"DATE_FORMAT" }}',
        "{{ week.monday|date:'MONTH_DAY_FORMAT' }}",
        "{{ ticket.first_seen_at|team_time:team.time_zone }}",
        '<tr data-week="{{ week.monday.isoformat }}">',
        "{{ ticket.count|count }}",
        "{{ slo.target|target }}% {{ budget.coverage|coverage }}%",
        "{% blocktranslate count counter=rows|length %}{{ counter }} row{% plural %}"
        "{{ counter }} rows{% endblocktranslate %}",
        "{% blocktranslate %}{{ count }} in all{% endblocktranslate %}",
        '{% with n=forloop.counter|stringformat:"s" %}{% endwith %}',
    ],
)
def test_the_scan_lets_the_rule_through(snippet):
    assert problems_in(snippet) == []


@pytest.mark.parametrize("name", template_names())
def test_every_template_compiles_with_its_filters(name):
    """A filter given places it no longer takes is a syntax error, caught here too."""
    get_template(name)
