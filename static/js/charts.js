// Draws every [data-plotly] element from the JSON script it names, on page load and
// after each htmx swap. Figures are built in Python; this file only hands them to plotly.
(function () {
  "use strict";

  function draw(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-plotly]").forEach(function (el) {
      if (el.dataset.plotlyDrawn === "1") return;
      var source = document.getElementById(el.dataset.plotly);
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      el.dataset.plotlyDrawn = "1";
      Plotly.newPlot(el, figure.data || [], figure.layout || {}, {
        responsive: true,
        displaylogo: false,
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  // An outerHTML swap replaces the event's target, so look from the document: drawn
  // charts are marked and skipped.
  document.addEventListener("htmx:afterSettle", function () {
    draw(document);
  });
})();
