"""The backlog as CSV: the ranked export (every factor and the team's weights, enough to
recompute the ranking) and the import of items from a spreadsheet, checked row by row.

Reading takes the team's members, SLOs and open titles as plain mappings, so the rules
here hold no queries; the views fetch them once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import translation
from django.utils.translation import gettext as _

from toil.models import BacklogItem, Effort, Impact, Kind, Likelihood, Status
from toil.scoring import TOIL_HOURS_MAX, Weights
from toil.selectors import RankedItem
from toil.services import ImportRow

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 2_000
TITLE_MAX = BacklogItem._meta.get_field("title").max_length
URL_MAX = BacklogItem._meta.get_field("tracker_url").max_length

REQUIRED_COLUMNS = ("title", "kind", "impact", "likelihood", "size")
OPTIONAL_COLUMNS = ("description", "status", "toil_hours_per_month", "owner", "slo", "tracker_url")
SAMPLE_HEADER = ",".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)

EXPORT_COLUMNS = (
    "place",
    "pinned",
    "pinned_at",
    "pin_reason",
    "id",
    "title",
    "kind",
    "status",
    "owner",
    "size",
    "effort_points",
    "impact",
    "likelihood",
    "toil_hours_per_month",
    "toil_relief",
    "slo",
    "slo_budget_remaining",
    "slo_risk",
    "created_at",
    "age_weeks",
    "weight_impact_likelihood",
    "weight_toil_relief",
    "weight_slo_risk",
    "weight_age",
    "age_horizon_weeks",
    "cost_of_delay",
    "age_factor",
    "score",
    "frozen",
    "tracker_url",
)

# A cell a spreadsheet would run as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """Numbers as they are (a negative budget stays a number); text that a spreadsheet
    would run as a formula gets an apostrophe in front."""
    if value is None:
        return ""
    if isinstance(value, float):
        # Full precision, so the export recomputes to the same scores.
        return repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment is not None else ""


def export_rows(ranked: Iterable[RankedItem], weights: Weights) -> Iterable[list[str]]:
    yield list(EXPORT_COLUMNS)
    for row in ranked:
        item, breakdown = row.item, row.breakdown
        factors = breakdown.factors
        remaining = row.slo_budget.error_budget_remaining if row.slo_budget is not None else None
        yield [
            _cell(value)
            for value in (
                row.place,
                "yes" if item.pinned_at else "",
                _utc(item.pinned_at),
                item.pinned_reason,
                item.pk,
                item.title,
                item.kind,
                item.status,
                item.owner.get_username() if item.owner else "",
                item.effort,
                factors.effort_points,
                factors.impact,
                factors.likelihood,
                item.toil_hours_per_month,
                factors.toil_relief,
                item.slo.name if item.slo else "",
                remaining,
                factors.slo_risk,
                _utc(item.created_at),
                float(factors.age_weeks),
                weights.impact_likelihood,
                weights.toil_relief,
                weights.slo_risk,
                weights.age,
                weights.age_horizon_weeks,
                float(breakdown.cost_of_delay),
                float(breakdown.age_factor),
                float(breakdown.score),
                "yes" if row.frozen else "",
                item.tracker_url,
            )
        ]


def export_csv(ranked: Iterable[RankedItem], weights: Weights) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(export_rows(ranked, weights))
    return out.getvalue()


# --- Import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int  # the row in the spreadsheet (the header is row 1)
    column: str
    message: str


@dataclass
class ImportCheck:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    problem: str = ""  # the file as a whole cannot be read

    @property
    def ok(self) -> bool:
        return not self.problem and not self.errors and bool(self.rows)


def decode_upload(data: bytes) -> str:
    """The file's text; ValueError with a message for people when it is not a UTF-8 CSV."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ValueError(
            _("The file is larger than %(size)d kB; split it and import the parts.")
            % {"size": MAX_IMPORT_BYTES // 1000}
        )
    if b"\x00" in data:
        raise ValueError(_("This is not a CSV file: it holds binary data."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
        ) from None
    if not text.strip():
        raise ValueError(_("The file is empty."))
    return text


def _choice(value: str, choices, column: str) -> str | int:
    """The stored value for `value` given as the value itself or as its label, in English
    (how spreadsheets are shared) or in the reader's language."""
    wanted = value.strip().casefold()
    for stored, label in choices:
        with translation.override("en"):
            english = str(label).casefold()
        if wanted in (str(stored).casefold(), english, str(label).casefold()):
            return stored
    raise ValueError(
        _("“%(value)s” is not allowed for %(column)s; use one of: %(allowed)s.")
        % {
            "value": value[:40],
            "column": column,
            "allowed": ", ".join(str(stored) for stored, _label in choices),
        }
    )


def _level(value: str, choices, column: str) -> int:
    text = value.strip()
    if text.isascii() and text.isdigit() and int(text) in {stored for stored, _ in choices}:
        return int(text)
    return int(_choice(text, choices, column))


def _hours(value: str) -> Decimal:
    text = value.strip() or "0"
    try:
        hours = Decimal(text)
    except InvalidOperation:
        hours = Decimal("NaN")
    if not hours.is_finite() or not 0 <= hours <= TOIL_HOURS_MAX:
        raise ValueError(
            _("Give the toil hours a month as a number from 0 to %(max)s.")
            % {"max": TOIL_HOURS_MAX}
        )
    return hours.quantize(Decimal("0.1"))


def read_import(
    text: str,
    *,
    members: Mapping[str, object],
    slos: Mapping[str, object],
    open_titles: Iterable[str],
) -> ImportCheck:
    """Every row checked; `members` maps usernames (case-insensitive) to users, `slos`
    SLO names (case-insensitive) to the team's SLOs."""
    check = ImportCheck()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        check.problem = _("The file has no header line.")
        return check
    columns = [name.strip().casefold() for name in header]
    # Spreadsheets often save empty columns after the last one: they carry nothing.
    named = [name for name in columns if name]
    missing = [name for name in REQUIRED_COLUMNS if name not in named]
    unknown = [name for name in named if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(named)) != len(named):
        check.problem = _(
            "The header must name the columns %(required)s (and may add %(optional)s); "
            "missing: %(missing)s; not understood: %(unknown)s."
        ) % {
            "required": ", ".join(REQUIRED_COLUMNS),
            "optional": ", ".join(OPTIONAL_COLUMNS),
            "missing": ", ".join(missing) or "—",
            "unknown": ", ".join(unknown)
            or ("—" if len(set(named)) == len(named) else _("a column twice")),
        }
        return check
    taken = {title.casefold() for title in open_titles}
    seen: dict[str, int] = {}
    members = {name.casefold(): user for name, user in members.items()}
    slos = {name.casefold(): slo for name, slo in slos.items()}
    url_valid = URLValidator(schemes=["http", "https"])
    rows_read = 0
    try:
        # Numbered as a spreadsheet numbers its rows: the header is row 1.
        for line, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            rows_read += 1
            if rows_read > MAX_IMPORT_ROWS:
                check.problem = _("The file has more than %(max)d rows; split it.") % {
                    "max": MAX_IMPORT_ROWS
                }
                return check
            if len(values) != len(columns):
                check.errors.append(
                    RowError(
                        line,
                        "",
                        _("The row has %(found)d cells; the header has %(want)d.")
                        % {"found": len(values), "want": len(columns)},
                    )
                )
                continue
            cells = {name: value for name, value in zip(columns, values, strict=True) if name}
            row_errors: list[RowError] = []

            def parsed(column, parse, cells=cells, line=line, row_errors=row_errors):
                try:
                    return parse(cells.get(column, ""))
                except ValueError as refused:
                    row_errors.append(RowError(line, column, str(refused)))
                    return None

            def title_of(value: str) -> str:
                title = value.strip()
                if not title or len(title) > TITLE_MAX:
                    raise ValueError(
                        _("Give a title of 1 to %(max)d characters.") % {"max": TITLE_MAX}
                    )
                if title.casefold() in taken:
                    raise ValueError(_("An open item of the team already has this title."))
                return title

            def status_of(value: str) -> str:
                return (
                    str(_choice(value, Status.choices, _("status")))
                    if value.strip()
                    else Status.PROPOSED
                )

            def owner_of(value: str):
                if not value.strip():
                    return None
                user = members.get(value.strip().casefold())
                if user is None:
                    raise ValueError(
                        _("“%(name)s” is not a member of the team.") % {"name": value[:40]}
                    )
                return user

            def slo_of(value: str):
                if not value.strip():
                    return None
                slo = slos.get(value.strip().casefold())
                if slo is None:
                    raise ValueError(
                        _("The team has no SLO named “%(name)s”.") % {"name": value[:60]}
                    )
                return slo

            def url_of(value: str) -> str:
                url = value.strip()
                if not url:
                    return ""
                try:
                    if len(url) > URL_MAX:
                        raise ValidationError("too long")
                    url_valid(url)
                except ValidationError:
                    raise ValueError(
                        _("Give the tracker link as an http:// or https:// URL.")
                    ) from None
                return url

            def text_of(value: str) -> str:
                return value.strip()

            title = parsed("title", title_of)
            values_by_column = {
                "kind": parsed("kind", lambda v: str(_choice(v, Kind.choices, _("kind")))),
                "impact": parsed("impact", lambda v: _level(v, Impact.choices, _("impact"))),
                "likelihood": parsed(
                    "likelihood", lambda v: _level(v, Likelihood.choices, _("likelihood"))
                ),
                "effort": parsed(
                    "size", lambda v: str(_choice(v, [(e, e) for e in Effort.values], _("size")))
                ),
                "toil_hours_per_month": parsed("toil_hours_per_month", _hours),
                "status": parsed("status", status_of),
                "description": parsed("description", text_of),
                "tracker_url": parsed("tracker_url", url_of),
                "owner": parsed("owner", owner_of),
                "slo": parsed("slo", slo_of),
            }
            if title is not None:
                first = seen.setdefault(title.casefold(), line)
                if first != line:
                    row_errors.append(
                        RowError(
                            line,
                            "title",
                            _("The same title is on row %(row)d.") % {"row": first},
                        )
                    )
            if row_errors:
                check.errors.extend(row_errors)
                continue
            check.rows.append(ImportRow(title=title, **values_by_column))
    except csv.Error as refused:
        check.problem = _("The file is not a readable CSV: %(error)s") % {"error": refused}
    if not check.rows and not check.errors and not check.problem:
        check.problem = _("The file has a header but no rows.")
    return check
