"""The work log's toil chart, built pure: plain values in, a plotly figure out. The page
embeds its JSON with json_script and static/js/charts.js draws it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from portal.formatting import percent_text
from slos.charts import BAD_COLOUR, GRID_COLOUR, LINE_COLOUR, TARGET_COLOUR


@dataclass(frozen=True)
class ToilWeek:
    label: str  # the week, as the page names it ("30 Nov")
    toil_percent: float | None  # None for a week with nothing logged


def toil_share_figure(weeks: Sequence[ToilWeek], *, cap_percent: float) -> go.Figure:
    """The share of each week's logged time that was toil, against the cap (a dashed
    line). Weeks over the cap are drawn in the alarm colour; weeks with nothing logged
    have no bar."""
    labels = [week.label for week in weeks]
    values = [week.toil_percent for week in weeks]
    traces = [
        {
            "type": "bar",
            "x": labels,
            "y": [value if value is not None else 0 for value in values],
            "name": _("toil share of the logged time"),
            "marker": {
                "color": [
                    BAD_COLOUR if value is not None and value > cap_percent else LINE_COLOUR
                    for value in values
                ]
            },
            "text": ["" if value is None else f"{percent_text(value / 100)}%" for value in values],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "%{x}: %{text}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": labels,
            "y": [cap_percent] * len(labels),
            "name": _("the cap of the SRE books"),
            "line": {"color": TARGET_COLOUR, "dash": "dash", "width": 2, "shape": "hv"},
            "text": [f"{percent_text(cap_percent / 100)}%"] * len(labels),
            "hovertemplate": _("cap %{text}") + "<extra></extra>",
        },
    ]
    layout = {
        "template": "none",
        "height": 280,
        "margin": {"l": 50, "r": 16, "t": 16, "b": 70},
        "font": {"color": "#37474f"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": {"type": "category", "gridcolor": GRID_COLOUR, "fixedrange": True},
        "yaxis": {
            "title": {"text": "%"},
            "gridcolor": GRID_COLOUR,
            "range": [0, 110],
            "fixedrange": True,
        },
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.25},
    }
    return go.Figure(data=traces, layout=layout)
