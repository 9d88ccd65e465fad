/* racecontrol /live: gap to the leader or interval to the car ahead, on a phone.
 *
 * A phone's row has room for one of the two: the buttons of .gap-switch set
 * body[data-gap-mode] ("gap" or "int"), which live_table.css reads; the choice is
 * remembered in localStorage. A wide screen shows both columns and hides the switch.
 */
(function () {
  "use strict";

  var KEY = "racecontrol.gapMode";
  var body = document.body;

  function stored() {
    try {
      return window.localStorage.getItem(KEY) === "int" ? "int" : "gap";
    } catch (e) {
      return "gap"; // storage disabled: the switch still works for this page
    }
  }

  function show(mode) {
    body.dataset.gapMode = mode;
    var buttons = document.querySelectorAll(".gap-switch button[data-gap-mode]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", String(buttons[i].dataset.gapMode === mode));
    }
  }

  body.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest(".gap-switch button[data-gap-mode]");
    if (!button) return;
    var mode = button.dataset.gapMode === "int" ? "int" : "gap";
    try {
      window.localStorage.setItem(KEY, mode);
    } catch (e) {
      /* not remembered; fine */
    }
    show(mode);
  });

  show(stored());
})();
