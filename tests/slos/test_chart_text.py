"""People's text in charts stays text: plotly reads a subset of HTML in labels and
hover text, so an annotation `<a href=…>` was a live link inside the chart (#18)."""

import json
from datetime import UTC, datetime, timedelta

from retros.charts import HeatCell, HeatRow, budget_status_heatmap
from slos.charts import ChartFrame, DayValue, Mark, sli_by_day_figure

HOSTILE = '<a href="https://evil.example/">click</a> & <b>bold</b>'
START = datetime(2026, 11, 1, tzinfo=UTC)


def test_an_annotations_text_is_escaped_in_its_label_and_hover():
    mark = Mark("note", START, START + timedelta(days=1), HOSTILE)
    frame = ChartFrame(START, START + timedelta(days=7), "UTC", marks=[mark])
    days = [DayValue((START + timedelta(days=n)).date(), 0.999) for n in range(7)]
    figure = sli_by_day_figure(days, target=0.99, title="SLI", frame=frame).to_plotly_json()

    label = next(note for note in figure["layout"]["annotations"] if "hovertext" in note)
    assert "<a " not in label["text"] and "&lt;a href=" in label["text"]
    assert "<a " not in label["hovertext"]
    assert "&lt;b&gt;bold&lt;/b&gt;" in label["hovertext"]
    # The chart's own markup (bold title line, line breaks) is still markup.
    assert label["hovertext"].startswith("<b>&lt;a href=")


def test_slo_names_are_escaped_on_the_trends_heatmap():
    row = HeatRow(name=f"API / {HOSTILE}", cells=[HeatCell("healthy", "healthy", 0.9)])
    figure = budget_status_heatmap(["2026-11-30"], [row], title="t").to_plotly_json()
    assert "<a " not in json.dumps(figure["data"][0]["y"])
    assert figure["data"][0]["y"] == [
        'API / &lt;a href="https://evil.example/"&gt;click&lt;/a&gt; &amp; &lt;b&gt;bold&lt;/b&gt;'
    ]
