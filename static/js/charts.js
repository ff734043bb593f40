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
      Plotly.newPlot(el, figure.data || [], figure.layout || {}, {
        responsive: true,
        displaylogo: false,
      }).then(function () {
        el.dataset.plotlyDrawn = "1";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.target || document);
  });
})();
