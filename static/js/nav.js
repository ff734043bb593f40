// The navigation menu on a narrow screen is a <details>: it opens and closes without this
// file. This adds what a menu is expected to do besides: Escape closes it (focus goes back
// to "Menu"), and so does a click or a tap anywhere outside it.
(function () {
  "use strict";

  // Scripts run: what is there only for pages without them (the language switch's
  // button) steps aside (static/css/i18n.css).
  document.documentElement.classList.add("js");

  function openMenu() {
    var menu = document.getElementById("site-menu");
    return menu && menu.open ? menu : null;
  }

  document.addEventListener("keydown", function (event) {
    var menu = openMenu();
    if (!menu || event.key !== "Escape") return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  document.addEventListener("click", function (event) {
    var menu = openMenu();
    if (menu && !menu.contains(event.target)) menu.open = false;
  });
})();
