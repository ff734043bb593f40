// The SLO page's what-if target: a text box (what is sent), a slider on a "nines" scale
// and preset targets. The slider's position is -log10(1 - target/100): 1 is 90%, 3 is
// 99.9%, 4 is 99.99%, so the targets people argue about get room (slos/registry/views.py
// sets its ends and where it starts). Without JavaScript the text box and the presets
// (plain links) still work; the slider needs this file.
(function () {
  "use strict";

  function ninesOf(target) {
    return -Math.log10(1 - target / 100);
  }

  // The target at a slider position, its error budget rounded to two significant
  // digits (99.93, not 99.92987...), at most 5 decimals as the form takes.
  function targetAt(nines) {
    var budget = Number(Math.pow(10, 2 - nines).toPrecision(2));
    var decimals = Math.min(5, Math.max(0, 1 - Math.floor(Math.log10(budget))));
    return String(Number((100 - budget).toFixed(decimals)));
  }

  // The slider follows the text box; a text the slider cannot hold ("abc", 120) leaves
  // it where it is.
  function follow(box) {
    var slider = document.querySelector("[data-nines-for='" + box.id + "']");
    var target = Number(box.value);
    if (!slider || box.value.trim() === "" || !isFinite(target)) return;
    if (target <= 0 || target >= 100) return;
    slider.value = String(ninesOf(target));
    slider.setAttribute("aria-valuetext", box.value + "%");
  }

  document.addEventListener("input", function (event) {
    var el = event.target;
    if (!el || !el.dataset) return;
    if (el.dataset.ninesFor) {
      var box = document.getElementById(el.dataset.ninesFor);
      if (!box) return;
      box.value = targetAt(Number(el.value));
      el.setAttribute("aria-valuetext", box.value + "%");
    } else if (el.hasAttribute("data-what-if-target")) {
      follow(el);
    }
  });

  document.addEventListener("click", function (event) {
    var preset = event.target.closest && event.target.closest("[data-what-if-preset]");
    if (!preset) return;
    var form = preset.closest("form");
    var box = form && form.querySelector("[data-what-if-target]");
    if (!box || typeof form.requestSubmit !== "function") return; // the link still works
    event.preventDefault();
    box.value = preset.dataset.whatIfPreset;
    follow(box);
    form.requestSubmit();
  });
})();
