"""The toil chart's figure: bars of the toil share, the cap as a dashed line."""

from __future__ import annotations

from slos.charts import BAD_COLOUR, LINE_COLOUR
from toil.worklog.charts import ToilWeek, toil_share_figure


def test_bars_of_the_share_against_a_dashed_cap():
    figure = toil_share_figure(
        [ToilWeek("23 Nov", 50.0), ToilWeek("30 Nov", 75.0), ToilWeek("7 Dec", None)],
        cap_percent=50,
    ).to_plotly_json()
    bars, cap = figure["data"]
    assert (bars["type"], list(bars["x"]), list(bars["y"])) == (
        "bar",
        ["23 Nov", "30 Nov", "7 Dec"],
        [50.0, 75.0, 0],
    )
    # At the cap is not over it; a week with nothing logged has no label.
    assert list(bars["marker"]["color"]) == [LINE_COLOUR, BAD_COLOUR, LINE_COLOUR]
    assert list(bars["text"]) == ["50%", "75%", ""]
    assert (cap["line"]["dash"], list(cap["y"])) == ("dash", [50, 50, 50])
