"""Pure figure builders: plain values in, a plotly figure out. Pages embed the figure's
JSON with json_script and static/js/charts.js draws it.

plotly.js has no time zones: it draws a date string at the wall time written in it. So
every time is handed over as the team's local wall time, and the SLO's charts share
one x range (the window) so that a deploy lines up across them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from portal.formatting import factor_text, target_text
from slos.budget import DAY_TICKET, BurndownPoint, burn_threshold

KIND_COLOURS = {
    "deploy": "#1565c0",
    "incident": "#c62828",
    "maintenance": "#616161",
    "note": "#6a1b9a",
}
KIND_SYMBOLS = {"deploy": "▲", "incident": "✖", "maintenance": "⚒", "note": "✎"}
NO_DATA_FILL = "rgba(117, 117, 117, 0.10)"
LINE_COLOUR = "#1565c0"
TARGET_COLOUR = "#2e7d32"
BAD_COLOUR = "#c62828"
WARN_COLOUR = "#ef6c00"
GRID_COLOUR = "#eceff1"
# Shorter than this, an annotation is drawn as a line at its start (a deploy, a note).
INSTANT = timedelta(hours=1)
LABEL_CHARS = 28


@dataclass(frozen=True)
class Mark:
    """An annotation on the charts: a deploy, an incident, maintenance or a note."""

    kind: str
    starts_at: datetime
    ends_at: datetime
    text: str
    excluded: bool = False


@dataclass(frozen=True)
class DayValue:
    """A value for one day of the window; None is a day without data."""

    day: date
    value: float | None
    hours_with_data: int = 0
    hours: int = 24


@dataclass(frozen=True)
class ChartFrame:
    """What every chart of one SLO shares: the x range, the zone, the annotations and
    the stretches of the window without data."""

    start: datetime
    end: datetime
    time_zone: str
    marks: Sequence[Mark] = ()
    no_data: Sequence[tuple[datetime, datetime]] = ()

    def local(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.time_zone)).strftime("%Y-%m-%d %H:%M")

    def noon(self, day: date) -> str:
        return datetime.combine(day, time(12)).strftime("%Y-%m-%d %H:%M")


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _plain(text: str) -> str:
    """People's text as plotly shows it: plotly reads a subset of HTML in every label
    (<a href>, <b>, <br>), so an annotation's text would become live markup; escaped,
    it is shown as typed."""
    return html.escape(text, quote=False)


def _mark_hover(mark: Mark, frame: ChartFrame) -> str:
    when = f"{frame.local(mark.starts_at)} – {frame.local(mark.ends_at)}"
    excluded = "<br>" + _("excluded from the error budget") if mark.excluded else ""
    return f"<b>{_plain(mark.text)}</b><br>{when}{excluded}"


def _decorations(frame: ChartFrame, *, labels: bool = True) -> tuple[list[dict], list[dict]]:
    """Shapes and texts: the hours without data shaded, and the annotations."""
    shapes: list[dict] = []
    annotations: list[dict] = []
    for start, end in frame.no_data:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": frame.local(start),
                "x1": frame.local(end),
                "y0": 0,
                "y1": 1,
                "fillcolor": NO_DATA_FILL,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        if labels and end - start >= timedelta(hours=12):
            annotations.append(
                {
                    "x": frame.local(start + (end - start) / 2),
                    "y": 0.5,
                    "xref": "x",
                    "yref": "paper",
                    "text": _("no data"),
                    "showarrow": False,
                    "font": {"size": 11, "color": "#757575"},
                }
            )
    for index, mark in enumerate(frame.marks):
        colour = KIND_COLOURS.get(mark.kind, "#424242")
        x0 = frame.local(max(mark.starts_at, frame.start))
        if mark.ends_at - mark.starts_at <= INSTANT:
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": x0,
                    "x1": x0,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": colour, "width": 1.5, "dash": "dot"},
                }
            )
        else:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": x0,
                    "x1": frame.local(min(mark.ends_at, frame.end)),
                    "y0": 0,
                    "y1": 1,
                    # Excluded maintenance is shaded darker: those hours are not counted.
                    "fillcolor": colour,
                    "opacity": 0.35 if mark.excluded else 0.12,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
        symbol = KIND_SYMBOLS.get(mark.kind, "•")
        text = f"{symbol} {_plain(_short(mark.text))}"
        if mark.excluded:
            text += " " + _("(excluded)")
        annotations.append(
            {
                "x": x0,
                # Staggered so that neighbouring labels do not sit on each other.
                "y": 1.0 - 0.07 * (index % 3),
                "xref": "x",
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "top",
                "text": text if labels else symbol,
                "hovertext": _mark_hover(mark, frame),
                "showarrow": False,
                "font": {"size": 10, "color": colour},
                "bgcolor": "rgba(255, 255, 255, 0.8)",
            }
        )
    return shapes, annotations


def _hline(
    y: float, *, colour: str, text: str, dash: str = "dash", label_below: bool = False
) -> tuple[dict, dict]:
    line = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": colour, "width": 1.5, "dash": dash},
    }
    label = {
        "xref": "paper",
        "x": 1,
        "y": y,
        "xanchor": "right",
        "yanchor": "top" if label_below else "bottom",
        "text": text,
        "showarrow": False,
        "font": {"size": 10, "color": colour},
    }
    return line, label


def _figure(
    trace: dict,
    *,
    y_title: str,
    title: str,
    frame: ChartFrame | None,
    lines: Sequence[tuple[dict, dict]] = (),
    labels: bool = True,
    yaxis: dict | None = None,
) -> go.Figure:
    """One figure, built in one go: plotly validates each update in full, so a figure
    assembled by many updates costs many times as much."""
    shapes = [line for line, _label in lines]
    annotations = [label for _line, label in lines]
    xaxis: dict = {"gridcolor": GRID_COLOUR, "type": "date"}
    if frame is not None:
        marks, texts = _decorations(frame, labels=labels)
        shapes += marks
        annotations += texts
        xaxis["range"] = [frame.local(frame.start), frame.local(frame.end)]
    layout = {
        # No template: plotly.js's own defaults are plain and light, and the templates
        # cost more to validate than the rest of the figure.
        "template": "none",
        "margin": {"l": 60, "r": 20, "t": 40 if title else 20, "b": 40},
        "height": 320,
        "hovermode": "x unified",
        "showlegend": False,
        "font": {"color": "#37474f"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": xaxis,
        "yaxis": {"title": {"text": y_title}, "gridcolor": GRID_COLOUR, **(yaxis or {})},
        "shapes": shapes,
        "annotations": annotations,
    }
    if title:
        layout["title"] = {"text": title, "font": {"size": 14}}
    return go.Figure(data=[trace], layout=layout)


def budget_burndown_figure(
    points: list[BurndownPoint], *, title: str, frame: ChartFrame | None = None
) -> go.Figure:
    """Error budget remaining (%) at the end of each hour with data."""
    to_x = frame.local if frame is not None else (lambda moment: moment.isoformat())
    trace = {
        "type": "scatter",
        "x": [to_x(point.hour) for point in points],
        "y": [round(point.error_budget_remaining * 100, 4) for point in points],
        "mode": "lines",
        "name": _("budget remaining (%)"),
        "line": {"shape": "hv", "color": LINE_COLOUR},
        "hovertemplate": "%{y:.1f}%<extra></extra>",
    }
    return _figure(
        trace,
        y_title=_("error budget remaining (%)"),
        title=title,
        frame=frame,
        lines=[_hline(0, colour=BAD_COLOUR, text=_("budget spent"), dash="dot")],
        yaxis={"ticksuffix": "%"},
    )


def sli_by_day_figure(
    days: Sequence[DayValue], *, target: float, title: str, frame: ChartFrame
) -> go.Figure:
    """The SLI of each day (%) against the target. A day without data is a gap."""
    trace = {
        "type": "scatter",
        "x": [frame.noon(day.day) for day in days],
        "y": [None if day.value is None else round(day.value * 100, 5) for day in days],
        "customdata": [[day.hours_with_data, day.hours] for day in days],
        "mode": "lines+markers",
        "name": _("SLI per day (%)"),
        "connectgaps": False,
        "line": {"color": LINE_COLOUR},
        "marker": {
            "size": 7,
            "color": [
                BAD_COLOUR if day.value is not None and day.value < target else LINE_COLOUR
                for day in days
            ],
        },
        "hovertemplate": _("SLI %{y:.3f}% (%{customdata[0]} of %{customdata[1]} hours with data)")
        + "<extra></extra>",
    }
    target_line = _hline(
        target * 100,
        colour=TARGET_COLOUR,
        text=_("target %(target)s%%") % {"target": target_text(target * 100)},
        # The days mostly sit just above the target: the label goes underneath.
        label_below=True,
    )
    return _figure(
        trace,
        y_title=_("SLI (%)"),
        title=title,
        frame=frame,
        lines=[target_line],
        yaxis={"ticksuffix": "%", "tickformat": ".2f"},
    )


def burn_rate_figure(
    days: Sequence[DayValue],
    *,
    title: str,
    frame: ChartFrame,
    references: Sequence[tuple[float, str]] = (),
) -> go.Figure:
    """Each day's burn rate (1× spends the budget exactly over the window), with
    reference lines, e.g. at 1× and at the alerting factors."""
    alarm = max([1.0, *(value for value, _label in references)])

    def colour(value: float | None) -> str:
        if value is not None and value > 1:
            return BAD_COLOUR if alarm > 1 and value >= alarm else WARN_COLOUR
        return LINE_COLOUR

    trace = {
        "type": "bar",
        "x": [frame.noon(day.day) for day in days],
        "y": [None if day.value is None else round(day.value, 4) for day in days],
        "name": _("burn rate per day"),
        "marker": {"color": [colour(day.value) for day in days]},
        "width": 1000 * 60 * 60 * 24 * 0.8,
        "hovertemplate": "%{y:.2f}×<extra></extra>",
    }
    return _figure(
        trace,
        y_title=_("burn rate (×)"),
        title=title,
        frame=frame,
        lines=[
            _hline(value, colour=BAD_COLOUR if value > 1 else TARGET_COLOUR, text=label)
            for value, label in references
        ],
        labels=False,
        yaxis={"ticksuffix": "×", "rangemode": "tozero"},
    )


NOISE_COLOURS = {
    "alert": BAD_COLOUR,
    "ticket": WARN_COLOUR,
    "log": "#90a4ae",
    "alertmanager": "#e65100",
    "sentry": "#6a1b9a",
    "generic": "#00838f",
}


def noise_by_day_figure(
    days: Sequence[date],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    title: str,
    changes: Sequence[tuple[date, str]] = (),
) -> go.Figure:
    """New notifications per day, stacked: one (key, label, counts per day) a series,
    with a dotted line on each day the routing policy changed."""
    x = [datetime.combine(day, time(12)).strftime("%Y-%m-%d %H:%M") for day in days]
    traces = [
        {
            "type": "bar",
            "x": x,
            "y": list(counts),
            "name": label,
            "marker": {"color": NOISE_COLOURS.get(key, LINE_COLOUR)},
            "width": 1000 * 60 * 60 * 24 * 0.8,
            "hovertemplate": f"{label} %{{y}}<extra></extra>",
        }
        for key, label, counts in series
    ]
    shapes, annotations = [], []
    for day, text in changes:
        at = datetime.combine(day, time(0)).strftime("%Y-%m-%d %H:%M")
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": at,
                "x1": at,
                "y0": 0,
                "y1": 1,
                "line": {"color": KIND_COLOURS["note"], "width": 1, "dash": "dot"},
            }
        )
        annotations.append(
            {
                "x": at,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": _short(text),
                "hovertext": text,
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"size": 10, "color": KIND_COLOURS["note"]},
            }
        )
    layout = {
        "template": "none",
        "barmode": "stack",
        "margin": {"l": 60, "r": 20, "t": 40 if title else 20, "b": 40},
        "height": 320,
        "hovermode": "x unified",
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.15},
        "font": {"color": "#37474f"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": {"gridcolor": GRID_COLOUR, "type": "date"},
        "yaxis": {"title": {"text": _("new notifications")}, "gridcolor": GRID_COLOUR},
        "shapes": shapes,
        "annotations": annotations,
    }
    if title:
        layout["title"] = {"text": title, "font": {"size": 14}}
    return go.Figure(data=traces, layout=layout)


@dataclass(frozen=True)
class WeekCount:
    """Alerts in one week, as a chart of weeks shows them."""

    label: str  # the week as the page names it ("7 Dec")
    alerts: int
    this_week: bool = False  # still going: drawn paler


def alerts_per_week_figure(weeks: Sequence[WeekCount], *, target: int) -> go.Figure:
    """Alerts per week, oldest first, against the team's target (a dashed line): a bar
    over the line, a week with more alerts than the team wants, is red. Sized for a
    card on the home page: no legend, the line says what it is on hover."""
    labels = [week.label for week in weeks]
    bars = {
        "type": "bar",
        "x": labels,
        "y": [week.alerts for week in weeks],
        "name": _("alerts"),
        "marker": {
            "color": [BAD_COLOUR if week.alerts > target else LINE_COLOUR for week in weeks],
            "opacity": [0.55 if week.this_week else 1 for week in weeks],
        },
        "hovertemplate": _("week of %{x}: %{y} alerts") + "<extra></extra>",
    }
    line = {
        "type": "scatter",
        "mode": "lines",
        "x": labels,
        "y": [target] * len(labels),
        "name": _("target"),
        "line": {"color": TARGET_COLOUR, "dash": "dash", "width": 2, "shape": "hvh"},
        "hovertemplate": _("target: %{y} alerts a week") + "<extra></extra>",
    }
    top = max([target, *(week.alerts for week in weeks), 1])
    layout = {
        "template": "none",
        "height": 170,
        "margin": {"l": 32, "r": 8, "t": 8, "b": 36},
        "font": {"color": "#37474f", "size": 11},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "bargap": 0.25,
        "xaxis": {"type": "category", "fixedrange": True, "tickangle": 0, "nticks": 6},
        "yaxis": {
            "gridcolor": GRID_COLOUR,
            "rangemode": "tozero",
            "range": [0, top * 1.15],
            "fixedrange": True,
        },
        "showlegend": False,
        "hovermode": "x unified",
    }
    return go.Figure(data=[bars, line], layout=layout)


def slo_figures(
    *,
    sli: Sequence[DayValue],
    burn: Sequence[DayValue],
    points: list[BurndownPoint],
    target: float,
    window: timedelta,
    frame: ChartFrame,
) -> dict[str, dict | None]:
    """An SLO's three charts as plotly JSON, as the SLO page and the retro's dashboard
    both draw them: the SLI per day against the target, the budget over the window
    (None without a point), and the burn rate per day with the 1× line and the
    workbook's one-day ticket threshold for a window of this length."""
    ticket = burn_threshold(DAY_TICKET, window=window)
    return {
        "sli": sli_by_day_figure(
            sli, target=target, title=_("SLI per day against the target"), frame=frame
        ).to_plotly_json(),
        "burndown": budget_burndown_figure(
            points, title=_("Error budget over the window"), frame=frame
        ).to_plotly_json()
        if points
        else None,
        "burn": burn_rate_figure(
            burn,
            title=_("Burn rate per day"),
            frame=frame,
            references=[
                (1.0, _("1×: the budget lasts the window")),
                (
                    round(ticket, 2),
                    _("%(factor)s×: 10%% of the budget in a day (ticket)")
                    % {"factor": factor_text(ticket)},
                ),
            ],
        ).to_plotly_json(),
    }
