"""What the portal takes from outside, and how much: every bound on input from the push
API, the CSV upload and OpenSLO files, written once and imported by the parsers, the
forms and the API schema, so the documentation and the checks cannot disagree.

Pure: plain values in and out; the clock comes in as an argument."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from slos.budget import HOUR, MAX_EVENTS_PER_HOUR, align_to_hour

__all__ = [
    "ANY_CONTROL_CHARACTER",
    "CONTROL_CHARACTERS",
    "EARLIEST_HOUR",
    "MAX_BATCH_ROWS",
    "MAX_CSV_BYTES",
    "MAX_CSV_ROWS",
    "MAX_EVENTS_PER_HOUR",
    "MAX_OPENSLO_FILES",
    "MAX_OPENSLO_FILE_BYTES",
    "MAX_OPENSLO_UPLOAD_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "hour_too_early",
    "hour_not_over",
    "latest_complete_hour",
]

# --- Hourly counts (push API and CSV) -------------------------------------------------

# The first hour taken. Nothing the portal measures predates it, and it keeps every
# window (a quarter at most) and every hour arithmetic far inside datetime's range:
# 9999-12-31T23:00Z plus an hour was an OverflowError, a 500.
EARLIEST_HOUR = datetime(2000, 1, 1, tzinfo=UTC)
# The last hour taken is the last complete one: the current hour is still counting.
MAX_BATCH_ROWS = 5_000  # measurements in one push request
MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 20_000
# Counts per hour are bounded by slos.budget.MAX_EVENTS_PER_HOUR (re-exported here).


def latest_complete_hour(now: datetime) -> datetime:
    """The start of the last hour that is over at `now`."""
    return align_to_hour(now) - HOUR


def hour_too_early(hour: datetime) -> bool:
    return hour < EARLIEST_HOUR


def hour_not_over(hour: datetime, *, now: datetime) -> bool:
    # Compared without adding to `hour`, which may be near datetime.max.
    return hour > latest_complete_hour(now)


# --- Text ------------------------------------------------------------------------------

# Control characters but tab, line feed and carriage return. PostgreSQL stores no NUL in
# text, and none of the others belongs in a name, a query or a label.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# In a one-line value (an HTTP header) no control character at all: a line break would
# split the request.
ANY_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")

# --- OpenSLO uploads and YAML ----------------------------------------------------------

# Checked on the sizes the upload declares, before a byte is decoded or parsed: 100
# files of 1 MB held a worker for 34 s and 167 MB.
MAX_OPENSLO_FILES = 50
MAX_OPENSLO_FILE_BYTES = 1024 * 1024
MAX_OPENSLO_UPLOAD_BYTES = 2 * 1024 * 1024
# OpenSLO nests about ten levels (spec.indicator.spec.ratioMetric.good.metricSource.spec
# .query); labels nested 900 deep were a RecursionError.
MAX_YAML_DEPTH = 40
# Nodes per file, counting each alias as the whole node it repeats: a few kilobytes of
# nested aliases ("billion laughs") otherwise expand to billions of values.
MAX_YAML_NODES = 200_000
