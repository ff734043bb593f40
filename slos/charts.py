"""Pure figure builders: plain values in, a plotly figure out. Pages embed the figure's
JSON with json_script and static/js/charts.js draws it."""

from __future__ import annotations

import plotly.graph_objects as go

from slos.budget import BurndownPoint


def _layout(figure: go.Figure, *, y_title: str) -> go.Figure:
    figure.update_layout(
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        height=320,
        yaxis_title=y_title,
        hovermode="x unified",
        template="plotly_white",
        showlegend=False,
    )
    return figure


def budget_burndown_figure(points: list[BurndownPoint], *, title: str) -> go.Figure:
    figure = go.Figure(
        go.Scatter(
            x=[point.hour.isoformat() for point in points],
            y=[round(point.error_budget_remaining * 100, 4) for point in points],
            mode="lines",
            name=title,
            line={"shape": "hv"},
        )
    )
    figure.add_hline(y=0, line_dash="dot", line_color="#c62828")
    figure.update_layout(title={"text": title, "font": {"size": 14}})
    return _layout(figure, y_title="error budget remaining (%)")
