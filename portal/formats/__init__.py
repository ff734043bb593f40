"""Date formats by language (settings.FORMAT_MODULE_PATH).

Templates name a format instead of spelling one out, so each language orders day,
month and weekday its own way: `{{ day|date:"DATE_FORMAT" }}` reads "2 Nov 2026" in
English and "2026年11月2日" in Japanese. The names and what they are for:

    DATE_FORMAT            a day with its year        2 Nov 2026         2026年11月2日
    DATETIME_FORMAT        that, with the time        2 Nov 2026 10:05   2026年11月2日 10:05
    MONTH_DAY_FORMAT       a day of this year         2 Nov              11月2日
    YEAR_MONTH_FORMAT      a month                    Nov 2026           2026年11月
    SHORT_DATE_FORMAT      a day of the week near     Mon 2 Nov          11月2日(月)
    SHORT_DATETIME_FORMAT  that, with the time        Mon 2 Nov 10:05    11月2日(月) 10:05
    TIME_FORMAT            a time                     10:05              10:05

A time is never shown with these alone: `portal.formatting.time_text` (the `team_time`
filter) puts it in the team's zone by DATETIME_FORMAT and labels the zone, "2 Nov 2026
10:05 JST". Machine forms (an attribute's 2026-11-02) come from `isoformat`, not from a
format string. tests/portal/test_template_formats.py holds templates to this. A name
left out here falls back to Django's own for the language.
"""
