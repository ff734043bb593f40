"""The plan page's capacity chart, built pure: plain values in, a plotly figure out. The
page embeds its JSON with json_script and static/js/charts.js draws it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from portal.formatting import hours_text
from slos.charts import BAD_COLOUR, GRID_COLOUR, LINE_COLOUR, TARGET_COLOUR

PAST_WEEK_COLOUR = "#90a4ae"


@dataclass(frozen=True)
class WeekBar:
    label: str  # the week, as the page names it ("26 May")
    backlog_hours: float  # logged on backlog items that week
    this_week: bool = False


def _bar_colour(week: WeekBar, reserved_hours: float) -> str:
    if not week.this_week:
        return PAST_WEEK_COLOUR
    return BAD_COLOUR if reserved_hours and week.backlog_hours > reserved_hours else LINE_COLOUR


def capacity_figure(weeks: Sequence[WeekBar], *, reserved_hours: float) -> go.Figure:
    """Hours logged on backlog items per week, this week last and highlighted, against
    the hours the team reserves each week (a dashed line; none when nothing is
    reserved). A bar over the line: more than reserved was spent on the backlog."""
    labels = [week.label for week in weeks]
    bars = {
        "type": "bar",
        "x": labels,
        "y": [week.backlog_hours for week in weeks],
        "name": _("logged on backlog items"),
        "marker": {
            "color": [
                (
                    BAD_COLOUR
                    if reserved_hours and week.backlog_hours > reserved_hours
                    else LINE_COLOUR
                )
                if week.this_week
                else PAST_WEEK_COLOUR
                for week in weeks
            ]
        },
        "text": [hours_text(week.backlog_hours) for week in weeks],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": _("%{x}: %{text} h logged") + "<extra></extra>",
    }
    traces: list[dict] = [bars]
    if reserved_hours:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": labels,
                "y": [reserved_hours] * len(labels),
                "name": _("reserved a week"),
                "line": {"color": TARGET_COLOUR, "dash": "dash", "width": 2, "shape": "hv"},
                "hovertemplate": _("%{y} h reserved") + "<extra></extra>",
            }
        )
    top = max([reserved_hours, *(week.backlog_hours for week in weeks), 1.0])
    layout = {
        "template": "none",
        "height": 300,
        "margin": {"l": 50, "r": 16, "t": 16, "b": 70},
        "font": {"color": "#37474f"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": {"type": "category", "gridcolor": GRID_COLOUR, "fixedrange": True},
        "yaxis": {
            "title": {"text": _("hours")},
            "gridcolor": GRID_COLOUR,
            "rangemode": "tozero",
            "range": [0, top * 1.2],
            "fixedrange": True,
        },
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.25},
        "hovermode": "x unified",
    }
    return go.Figure(data=traces, layout=layout)
