// Feedback while a slow post runs. htmx marks its own requests (the htmx-request class,
// hx-disabled-elt); a plain form marked [data-busy] (a pull, starting a retro) gets the
// same here: the class is-busy shows its "working…" indicator, and its buttons are
// disabled so it cannot be sent twice. The look is in portal.css, "request indicators".
(function () {
  "use strict";
  if (window.portalFeedback) return; // one listener, however many pages include it
  window.portalFeedback = true;

  function buttons(form) {
    return form.querySelectorAll("button, input[type='submit']");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-busy")) return;
    if (event.defaultPrevented) return; // htmx (or a check) took it
    if (form.classList.contains("is-busy")) {
      event.preventDefault(); // already sent: the page is on its way
      return;
    }
    form.classList.add("is-busy");
    // The browser reads the form after this event, and leaves disabled buttons out: the
    // pressed button's name and value go along in a hidden field instead.
    var submitter = event.submitter;
    if (submitter && submitter.name) {
      var carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = submitter.name;
      carried.value = submitter.value;
      carried.setAttribute("data-carried", "");
      form.appendChild(carried);
    }
    buttons(form).forEach(function (button) {
      button.disabled = true;
    });
  });

  // Back to a page kept in the browser's cache: its forms can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form.is-busy").forEach(function (form) {
      form.classList.remove("is-busy");
      form.querySelectorAll("[data-carried]").forEach(function (field) {
        field.remove();
      });
      buttons(form).forEach(function (button) {
        button.disabled = false;
      });
    });
  });
})();
