// Draws every [data-plotly] element from the JSON script it names, on page load and
// after each htmx swap. Figures are built in Python; this file only hands them to plotly.
// It also keeps paired inputs in step ([data-mirror] names the other input's id), so a
// slider and a text box can edit one value without an inline script.
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

  document.addEventListener("input", function (event) {
    var el = event.target;
    if (!el || !el.dataset || !el.dataset.mirror) return;
    var other = document.getElementById(el.dataset.mirror);
    if (!other || other.value === el.value) return;
    // A slider cannot hold "abc" or 120: leave it where it is.
    if (other.type === "range" && !isFinite(Number(el.value))) return;
    other.value = el.value;
  });
})();
