// The retro's screens. On every retro page: htmx swaps a refused write's answer (400,
// 409: the section with its message), and Escape empties the text field it is typed in.
// On the meeting screen (#present): one section at a time; ← → and 1–8 move; the
// facilitator's moves are posted and everyone else follows them through a poll of the
// follow endpoint every second. Two rules: going back (locally) is always allowed and
// holds until the facilitator moves again; a follower typing (focus in a text field
// with content) is never moved or refreshed until they send or cancel.
(function () {
  "use strict";

  var POLL_MS = 1000;

  function isTextField(el) {
    if (!el || !el.tagName) return false;
    if (el.tagName === "TEXTAREA") return true;
    if (el.tagName !== "INPUT") return false;
    var type = (el.getAttribute("type") || "text").toLowerCase();
    return ["text", "search", "url", "email", "number", "tel", "date"].indexOf(type) !== -1;
  }

  function typing() {
    var el = document.activeElement;
    return isTextField(el) && el.value.trim() !== "";
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isTextField(event.target)) {
      event.target.value = "";
      event.target.blur();
      document.dispatchEvent(new CustomEvent("retro:cancelled"));
    }
  });

  // Across a room the charts' type must grow with the screen's: scale the figures'
  // fonts once they are drawn (charts.js draws them first, on the same events).
  function scaleCharts() {
    if (typeof Plotly === "undefined") return;
    var base = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    document.querySelectorAll(".stage [data-plotly]").forEach(function (el) {
      if (el.dataset.plotlyDrawn !== "1" || el.dataset.scaled === "1") return;
      el.dataset.scaled = "1";
      Plotly.relayout(el, { "font.size": Math.round(base * 0.6), "title.font.size": Math.round(base * 0.75) });
    });
  }

  function start() {
    var root = document.getElementById("present");
    if (!root) return;
    scaleCharts();
    document.addEventListener("htmx:afterSettle", scaleCharts);
    var data = root.dataset;
    var budgets = JSON.parse(document.getElementById("section-budgets").textContent);
    var count = budgets.length;
    var stage = document.getElementById("stage");
    var followState = document.getElementById("follow-state");
    var timerElapsed = document.getElementById("timer-elapsed");
    var timerBudget = document.getElementById("timer-budget");
    var timer = document.getElementById("timer");
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");

    var state = {
      shown: parseInt(data.shown, 10),
      server: parseInt(data.section, 10),
      version: parseInt(data.version, 10),
      status: data.status,
      facilitator: data.facilitator || "",
      elapsed: parseInt(data.elapsed, 10) || 0,
      elapsedAt: Date.now(),
      held: false,
      polling: false,
      // The facilitator's own moves: a poll answered before the server has a move
      // carries the section before it and must not take the screen back there.
      moves: 0,
      posting: 0,
    };
    var user = data.user;
    var member = data.member === "1";

    function leading() {
      return member && state.status === "live" && String(state.facilitator) === String(user);
    }

    function clock(seconds) {
      seconds = Math.max(0, Math.floor(seconds));
      var m = Math.floor(seconds / 60);
      var s = seconds % 60;
      return m + ":" + (s < 10 ? "0" : "") + s;
    }

    function label() {
      var text;
      if (state.status === "planned") text = followState.dataset.textPlanned;
      else if (state.status === "closed") text = followState.dataset.textClosed;
      else if (leading()) text = followState.dataset.textLead;
      else if (state.held) text = followState.dataset.textHeld;
      else if (state.shown !== state.server) text = followState.dataset.textAway;
      else text = followState.dataset.textFollow;
      if (followState.textContent !== text) followState.textContent = text;
      followState.classList.toggle("away", state.shown !== state.server && state.status === "live");
      followState.classList.toggle("held", state.held);
    }

    function tick() {
      timerBudget.textContent = clock(budgets[state.shown]);
      var onServer = state.status === "live" && state.shown === state.server;
      if (!onServer) {
        timerElapsed.textContent = "—";
        timer.classList.remove("over");
      } else {
        var elapsed = state.elapsed + (Date.now() - state.elapsedAt) / 1000;
        timerElapsed.textContent = clock(elapsed);
        timer.classList.toggle("over", elapsed > budgets[state.shown]);
      }
      label();
    }

    function markDots() {
      root.querySelectorAll("[data-goto]").forEach(function (dot) {
        var index = parseInt(dot.dataset.goto, 10);
        if (index === state.shown) dot.setAttribute("aria-current", "step");
        else dot.removeAttribute("aria-current");
        dot.classList.toggle("facilitator-here", state.status === "live" && index === state.server);
      });
    }

    // Fetch the section into the stage. A field the user has focused (empty: typing
    // with content holds every swap) keeps its focus across a refresh of its section.
    function load(index) {
      var focused = document.activeElement;
      var keep = null;
      if (isTextField(focused) && stage.contains(focused) && index === state.shown) {
        var form = focused.form;
        keep = { name: focused.name, action: form ? form.getAttribute("action") : "" };
      }
      state.shown = index;
      markDots();
      tick();
      var url = data.presentUrl + "?section=" + index;
      history.replaceState(null, "", url);
      return htmx.ajax("GET", url, { target: "#stage", swap: "innerHTML" }).then(function () {
        if (!keep) return;
        var forms = stage.querySelectorAll("form");
        for (var i = 0; i < forms.length; i++) {
          if (forms[i].getAttribute("action") === keep.action && forms[i].elements[keep.name]) {
            forms[i].elements[keep.name].focus();
            return;
          }
        }
      });
    }

    function post(index) {
      var body = new URLSearchParams();
      body.set("index", String(index));
      return fetch(data.moveUrl, {
        method: "POST",
        headers: {
          "X-CSRFToken": headers["X-CSRFToken"] || "",
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: body,
        credentials: "same-origin",
      }).then(function (response) {
        if (!response.ok) return null;
        return response.json().then(function (answer) {
          take(answer);
          return answer;
        });
      });
    }

    function take(answer) {
      state.server = answer.section;
      state.version = answer.version;
      state.facilitator = answer.facilitator === null ? "" : answer.facilitator;
      if (answer.elapsed !== null && answer.elapsed !== undefined) {
        state.elapsed = answer.elapsed;
        state.elapsedAt = Date.now();
      }
    }

    function go(index) {
      if (index < 0 || index >= count) return;
      if (leading()) {
        state.moves += 1;
        state.posting += 1;
        post(index).finally(function () {
          state.posting -= 1;
        });
        state.server = index;
        state.elapsed = 0;
        state.elapsedAt = Date.now();
      }
      load(index);
    }

    function poll() {
      if (state.polling || document.hidden) return;
      state.polling = true;
      var movesBefore = state.moves;
      fetch(data.followUrl, {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (answer) {
          if (!answer || state.posting > 0 || state.moves !== movesBefore) return;
          state.facilitator = answer.facilitator === null ? "" : answer.facilitator;
          if (answer.elapsed !== null) {
            state.elapsed = answer.elapsed;
            state.elapsedAt = Date.now();
          }
          var moved = answer.section !== state.server;
          var changed = answer.version !== state.version;
          if (answer.status !== state.status) {
            if (typing()) {
              state.held = true;
            } else {
              window.location.replace(data.presentUrl + "?section=" + state.shown);
            }
            return;
          }
          if (!moved && !changed) {
            state.held = false;
            return;
          }
          if (typing()) {
            // Not now: the next poll after they send or cancel applies it.
            state.held = moved;
            return;
          }
          state.held = false;
          state.version = answer.version;
          if (moved) {
            state.server = answer.section;
            load(answer.section);
          } else {
            load(state.shown);
          }
        })
        .catch(function () {})
        .finally(function () {
          state.polling = false;
          tick();
        });
    }

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      var target = event.target;
      if (isTextField(target) || (target && (target.tagName === "SELECT" || target.isContentEditable))) {
        return;
      }
      if (event.key === "ArrowRight" || event.key === "PageDown") {
        event.preventDefault();
        go(state.shown + 1);
      } else if (event.key === "ArrowLeft" || event.key === "PageUp") {
        event.preventDefault();
        go(state.shown - 1);
      } else if (/^[1-9]$/.test(event.key)) {
        var index = parseInt(event.key, 10) - 1;
        if (index < count) {
          event.preventDefault();
          go(index);
        }
      } else if ((event.key === "f" || event.key === "F") && state.status === "live") {
        event.preventDefault();
        load(state.server);
      }
    });

    root.addEventListener("click", function (event) {
      var dot = event.target.closest("[data-goto]");
      if (dot) {
        event.preventDefault();
        go(parseInt(dot.dataset.goto, 10));
        return;
      }
      if (event.target.closest("[data-lead]")) {
        post(state.shown).then(tick);
      }
    });

    // A sent form empties its field: the poll may move the follower again at once.
    document.addEventListener("retro:cancelled", function () {
      if (state.held) poll();
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.requestConfig && event.detail.requestConfig.verb === "post") poll();
    });

    markDots();
    tick();
    if (state.status !== "closed") setInterval(poll, POLL_MS);
    setInterval(tick, 250);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
