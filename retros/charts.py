"""Pure figure builders for the retro trends page: plain values in, a plotly figure
out. The page embeds each figure's JSON with json_script and static/js/charts.js draws
it, as every chart of the portal."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from portal.formatting import budget_percent_text
from slos.budget import BudgetStatus
from slos.charts import BAD_COLOUR, GRID_COLOUR, LINE_COLOUR, TARGET_COLOUR, WARN_COLOUR

NO_DATA_COLOUR = "#b0bec5"
# The heatmap's cells: one number per status, drawn in the status's colour.
STATUS_LEVELS = (
    BudgetStatus.NO_DATA,
    BudgetStatus.EXHAUSTED,
    BudgetStatus.AT_RISK,
    BudgetStatus.HEALTHY,
)
STATUS_COLOURS = {
    BudgetStatus.NO_DATA: NO_DATA_COLOUR,
    BudgetStatus.EXHAUSTED: BAD_COLOUR,
    BudgetStatus.AT_RISK: WARN_COLOUR,
    BudgetStatus.HEALTHY: TARGET_COLOUR,
}
ROW_HEIGHT = 22


@dataclass(frozen=True)
class HeatCell:
    """One SLO in one week's session: its status and remaining budget (a fraction)."""

    status: str  # a BudgetStatus value
    status_label: str
    remaining: float | None


@dataclass(frozen=True)
class HeatRow:
    name: str  # "service / SLO"
    cells: Sequence[HeatCell | None]  # one per week; None: not in that session


def _level(status: str) -> int:
    return STATUS_LEVELS.index(BudgetStatus(status))


def _status_colourscale() -> list[list]:
    """A stepped scale: each status level gets one flat band of colour."""
    steps = len(STATUS_LEVELS)
    scale = []
    for level, status in enumerate(STATUS_LEVELS):
        colour = STATUS_COLOURS[status]
        scale.append([level / steps, colour])
        scale.append([(level + 1) / steps, colour])
    return scale


def _layout(*, title: str, y_title: str = "", height: int = 320, **more) -> dict:
    layout = {
        "template": "none",
        "margin": {"l": 60, "r": 20, "t": 40 if title else 20, "b": 60},
        "height": height,
        "font": {"color": "#37474f"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": {"type": "category", "gridcolor": GRID_COLOUR},
        "yaxis": {"title": {"text": y_title}, "gridcolor": GRID_COLOUR},
    }
    if title:
        layout["title"] = {"text": title, "font": {"size": 14}}
    layout.update(more)
    return layout


def budget_status_heatmap(
    weeks: Sequence[str], rows: Sequence[HeatRow], *, title: str
) -> go.Figure:
    """Each SLO's budget status at each week's retro: one row per SLO, one column per
    week; the hover says the status and the budget left. A blank cell: the SLO was not
    in that session."""
    z, text = [], []
    for row in rows:
        z.append([None if cell is None else _level(cell.status) for cell in row.cells])
        text.append(
            [
                ""
                if cell is None
                else (
                    f"{cell.status_label} · {budget_percent_text(cell.remaining * 100)}%"
                    if cell.remaining is not None
                    else str(cell.status_label)
                )
                for cell in row.cells
            ]
        )
    trace = {
        "type": "heatmap",
        "x": list(weeks),
        # SLO names are people's text: escaped, so plotly's HTML subset stays text.
        "y": [html.escape(row.name, quote=False) for row in rows],
        "z": z,
        "text": text,
        "zmin": -0.5,
        "zmax": len(STATUS_LEVELS) - 0.5,
        "colorscale": _status_colourscale(),
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hoverongaps": False,
        "hovertemplate": "%{y}<br>%{x}: %{text}<extra></extra>",
    }
    layout = _layout(
        title=title,
        height=max(200, 100 + ROW_HEIGHT * len(rows)),
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
    )
    layout["margin"]["l"] = 200
    return go.Figure(data=[trace], layout=layout)


def weekly_bars_figure(
    weeks: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    title: str,
    y_title: str,
) -> go.Figure:
    """Counts per week side by side: one (label, colour, counts per week) a series."""
    traces = [
        {
            "type": "bar",
            "x": list(weeks),
            "y": list(counts),
            "name": label,
            "marker": {"color": colour},
            "hovertemplate": f"{label} %{{y}}<extra></extra>",
        }
        for label, colour, counts in series
    ]
    layout = _layout(
        title=title,
        y_title=y_title,
        barmode="group",
        hovermode="x unified",
        showlegend=len(series) > 1,
        legend={"orientation": "h", "y": -0.25},
    )
    return go.Figure(data=traces, layout=layout)


def tickets_figure(
    weeks: Sequence[str], received: Sequence[int], decided: Sequence[int]
) -> go.Figure:
    return weekly_bars_figure(
        weeks,
        [(_("new tickets"), WARN_COLOUR, received), (_("decided"), LINE_COLOUR, decided)],
        title=_("Error tickets: new vs decided"),
        y_title=_("tickets"),
    )


def actions_figure(weeks: Sequence[str], opened: Sequence[int], closed: Sequence[int]) -> go.Figure:
    return weekly_bars_figure(
        weeks,
        [(_("opened"), LINE_COLOUR, opened), (_("closed"), TARGET_COLOUR, closed)],
        title=_("Actions: opened vs closed"),
        y_title=_("actions"),
    )


def kudos_figure(weeks: Sequence[str], counts: Sequence[int]) -> go.Figure:
    return weekly_bars_figure(
        weeks,
        [(_("kudos"), "#6a1b9a", counts)],
        title=_("Kudos per week"),
        y_title=_("kudos"),
    )
