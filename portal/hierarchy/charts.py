"""Pure figure builders for the hierarchy pages: radar charts of the enablement levels
(a service's rounds, the team's minimum and mean) and the team's levels over rounds.
Plain values in, a plotly figure out; the page embeds it with json_script and
static/js/charts.js draws it."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from portal.formatting import day_text
from portal.hierarchy.levels import ENABLEMENT_MAX, ENABLEMENTS, LEVELS
from portal.hierarchy.rules import Round, TeamLevel

CURRENT_COLOUR = "#1565c0"
CURRENT_FILL = "rgba(21, 101, 192, 0.25)"
MEAN_COLOUR = "#2e7d32"
PREVIOUS_COLOUR = "#90a4ae"
MET_COLOUR = "#2e7d32"
# Earlier rounds fade: the one before the latest, then the one before that.
PREVIOUS_OPACITY = (0.7, 0.4)
PREVIOUS_SHOWN = len(PREVIOUS_OPACITY)
WRAP_CHARS = 12


def _wrapped(label: str) -> str:
    """A long label on two lines, so the radar keeps its labels inside a phone's width."""
    words = label.split(" ")
    if len(label) <= WRAP_CHARS or len(words) < 2:
        return label
    best = min(
        range(1, len(words)),
        key=lambda cut: abs(len(" ".join(words[:cut])) - len(" ".join(words[cut:]))),
    )
    return " ".join(words[:best]) + "<br>" + " ".join(words[best:])


def _labels() -> list[str]:
    return [_wrapped(html.escape(str(level.label), quote=False)) for level in LEVELS]


def _closed(values: Sequence[float]) -> list[float]:
    """A radar's line goes back to its first point."""
    return [*values, values[0]]


def _radar_trace(
    name: str,
    values: Sequence[float],
    *,
    colour: str,
    fill: str = "",
    opacity: float = 1.0,
    dash: str = "solid",
) -> dict:
    trace = {
        "type": "scatterpolar",
        "r": _closed(list(values)),
        "theta": _closed(_labels()),
        # People's text (a service's name) is escaped: plotly's HTML subset stays text.
        "name": html.escape(name, quote=False),
        "mode": "lines+markers",
        "line": {"color": colour, "dash": dash, "width": 2},
        "marker": {"size": 6},
        "opacity": opacity,
        "hovertemplate": "%{theta}: %{r}<extra>" + html.escape(name, quote=False) + "</extra>",
    }
    if fill:
        trace["fill"] = "toself"
        trace["fillcolor"] = fill
    return trace


def _radar_layout(title: str, *, height: int) -> dict:
    return {
        "template": "none",
        "height": height,
        "margin": {"l": 80, "r": 80, "t": 50 if title else 40, "b": 30},
        "font": {"color": "#37474f"},
        "paper_bgcolor": "white",
        "title": {"text": title, "font": {"size": 14}} if title else None,
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.08},
        "polar": {
            "radialaxis": {
                "range": [0, ENABLEMENT_MAX],
                "tickvals": [e.value for e in ENABLEMENTS],
                "angle": 90,
                "tickangle": 90,
                "gridcolor": "#cfd8dc",
            },
            "angularaxis": {"direction": "clockwise", "rotation": 90, "gridcolor": "#eceff1"},
        },
    }


def _values(round_: Round) -> list[int]:
    return [
        round_.answers[level.key].enablement if level.key in round_.answers else 0
        for level in LEVELS
    ]


def service_radar_figure(rounds: Sequence[Round], *, title: str = "") -> go.Figure:
    """The latest round filled, the PREVIOUS_SHOWN rounds before it as fainter lines.
    `rounds` oldest first."""
    traces = []
    earlier = list(rounds[:-1])[-PREVIOUS_SHOWN:]
    # Oldest first, so the legend reads in time order; the older, the fainter.
    for back, previous in reversed(list(enumerate(reversed(earlier)))):
        traces.append(
            _radar_trace(
                day_text(previous.assessed_on),
                _values(previous),
                colour=PREVIOUS_COLOUR,
                opacity=PREVIOUS_OPACITY[back],
                dash="dot",
            )
        )
    if rounds:
        latest = rounds[-1]
        traces.append(
            _radar_trace(
                day_text(latest.assessed_on),
                _values(latest),
                colour=CURRENT_COLOUR,
                fill=CURRENT_FILL,
            )
        )
    return go.Figure(data=traces, layout=_radar_layout(title, height=420))


def team_radar_figure(
    profile: Sequence[TeamLevel],
    *,
    previous: Sequence[TeamLevel] = (),
    previous_on: date | None = None,
    title: str = "",
) -> go.Figure:
    """The team's minimum per level filled, the mean as a dashed line, and the minimum
    as it stood before the latest round as a faint one."""
    traces = []
    if previous:
        traces.append(
            _radar_trace(
                _("Minimum on %(day)s") % {"day": day_text(previous_on)}
                if previous_on
                else _("Minimum before"),
                [row.minimum for row in previous],
                colour=PREVIOUS_COLOUR,
                opacity=PREVIOUS_OPACITY[0],
                dash="dot",
            )
        )
    if profile:
        traces.append(
            _radar_trace(
                _("Mean across services"),
                [round(row.mean, 2) for row in profile],
                colour=MEAN_COLOUR,
                dash="dash",
            )
        )
        traces.append(
            _radar_trace(
                _("Minimum across services"),
                [row.minimum for row in profile],
                colour=CURRENT_COLOUR,
                fill=CURRENT_FILL,
            )
        )
    return go.Figure(data=traces, layout=_radar_layout(title, height=440))


def levels_over_rounds_figure(
    trend: Sequence[tuple[date, Sequence[TeamLevel]]], *, title: str = ""
) -> go.Figure:
    """The team's minimum per level after each assessment day: a grid, levels bottom up
    as in the pyramid, one column a day, darker the higher the level."""
    days = [day_text(day) for day, _profile in trend]
    z = [[profile[index].minimum for _day, profile in trend] for index in range(len(LEVELS))]
    trace = {
        "type": "heatmap",
        "x": days,
        "y": [html.escape(str(level.label), quote=False) for level in LEVELS],
        "z": z,
        "text": z,
        "texttemplate": "%{text}",
        "zmin": 0,
        "zmax": ENABLEMENT_MAX,
        "colorscale": [[0, "#eceff1"], [1 / 3, "#bbdefb"], [2 / 3, "#64b5f6"], [1, "#1565c0"]],
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "%{y} · %{x}: %{z}<extra></extra>",
    }
    layout = {
        "template": "none",
        "height": 320,
        "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 50},
        "font": {"color": "#37474f"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"type": "category"},
        "yaxis": {"type": "category", "automargin": True},
    }
    if title:
        layout["title"] = {"text": title, "font": {"size": 14}}
    return go.Figure(data=[trace], layout=layout)
