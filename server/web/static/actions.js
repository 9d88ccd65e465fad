/* racecontrol: commands from the control and pit pages (loaded by those pages only).
 *
 * Strategy: commands are htmx posts answered with a one-line fragment; the new state
 * arrives over the websocket. This script only does what htmx cannot:
 *   (a) says what happened where the user looks: a form's .result, the pit page's
 *       #pit-result, else #flag-message; failures (4xx, 5xx, no network) in words;
 *   (b) the pit page's two taps: a car ([data-pick]) opens its panel at the bottom of
 *       the screen, a driver confirms. The picked car survives websocket swaps;
 *   (c) double taps: every try of one intent (car picked, then a button) carries the same
 *       idempotency key ("idem"), so the server records it once; a new key after each
 *       answer, and the panel's buttons stay disabled while a request is in flight;
 *   (d) race control: the car dialog, and "Assign…" on an unknown transponder.
 * Keys come from crypto.getRandomValues: crypto.randomUUID needs a secure context, and a
 * pit wall laptop is often plain http on the paddock network.
 */
(function () {
  "use strict";

  var body = document.body;
  var OK_HIDE_MS = 8000; // a success message goes away; a refusal stays

  // --- (a) answers ------------------------------------------------------------------------

  function resultBox(elt) {
    var form = elt && elt.closest && elt.closest("form");
    var inForm = form && form.querySelector(".result");
    if (inForm) return inForm;
    return document.getElementById("pit-result") || document.getElementById("flag-message");
  }

  var hideTimer = null;

  function say(elt, text) {
    var box = resultBox(elt);
    if (!box) return;
    clearTimeout(hideTimer);
    box.textContent = text;
    box.hidden = !text;
    if (text) box.dataset.ok = "false"; // only failures are said here
  }

  function reasonOf(xhr) {
    if (xhr.status === 401 || xhr.status === 403) return "log in again";
    try {
      var detail = JSON.parse(xhr.responseText).detail;
      if (typeof detail === "string") return detail;
      if (detail && detail[0] && detail[0].msg) return detail[0].msg;
    } catch (e) {
      /* not JSON */
    }
    return xhr.statusText || "server error";
  }

  // (the pit panels' requests say it themselves: see "loadend" below)
  body.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (inPanel(evt.detail.elt)) return;
    say(evt.detail.elt, "✗ NOT done (" + xhr.status + ": " + reasonOf(xhr) + ").");
  });

  body.addEventListener("htmx:sendError", function (evt) {
    if (inPanel(evt.detail.elt)) return;
    say(evt.detail.elt, "✗ NOT sent: no connection to the server. Tap again when online.");
  });

  function answeredOk(evt) {
    var xhr = evt.detail.xhr;
    return evt.detail.successful && (xhr.status === 204 ||
      (xhr.responseText || "").indexOf('data-ok="true"') >= 0);
  }

  // --- (b, c) the pit page: picked car, idempotency keys, busy panel ------------------------

  var picked = ""; // data-car of the open panel ("" = none)
  var intent = newKey();
  var busy = false;

  function newKey() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return hex;
  }

  function showPicked() {
    var panels = document.querySelectorAll("#pit-panels .car-panel");
    for (var i = 0; i < panels.length; i++) {
      var open = panels[i].dataset.car === picked;
      if (panels[i].hidden === open) panels[i].hidden = !open;
    }
    var chips = document.querySelectorAll("[data-pick]");
    for (var c = 0; c < chips.length; c++) {
      chips[c].setAttribute("aria-pressed", String(chips[c].dataset.pick === picked));
    }
    body.dataset.picked = picked;
    setBusy(busy);
  }

  // While a command is in flight, every button of the open panel is disabled, including
  // the fresh ones a websocket swap brings in.
  function setBusy(flag) {
    busy = flag;
    var buttons = document.querySelectorAll("#pit-panels .car-panel button:not([data-unpick])");
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].disabled !== flag) buttons[i].disabled = flag;
    }
  }

  function pick(key) {
    picked = key;
    intent = newKey();
    say(null, "");
    showPicked();
  }

  function inPanel(elt) {
    return elt && elt.closest && elt.closest("#pit-panels .car-panel");
  }

  body.addEventListener("htmx:configRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-idem")) return;
    // one key per intent: the picked car's key, the command and the driver
    var params = evt.detail.parameters;
    params.idem = intent + ":" + evt.detail.path + ":" + (params.driver || "");
  });

  // A panel's request is followed on its XMLHttpRequest, not on htmx's element events:
  // the websocket usually replaces the panel (the change shows) before the answer
  // arrives, and events fired on a detached button never reach the body.
  body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!inPanel(elt)) return;
    var closeOnOk = elt.hasAttribute("data-close-on-ok");
    var xhr = evt.detail.xhr;
    setBusy(true);
    xhr.addEventListener("loadend", function () {
      busy = false;
      if (xhr.status > 0) intent = newKey(); // an answer ends the intent; none: retry, same key
      if (xhr.status === 0) {
        say(null, "✗ NOT sent: no connection to the server. Tap again when online.");
      } else if (xhr.status >= 400) {
        say(null, "✗ NOT done (" + xhr.status + ": " + reasonOf(xhr) + ").");
      } else if (closeOnOk && (xhr.responseText || "").indexOf('data-ok="true"') >= 0) {
        picked = "";
      }
      showPicked();
    });
  });

  body.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt;
    var ok = answeredOk(evt);
    var form = elt && elt.closest && elt.closest("form");
    if (ok && form && form.hasAttribute("data-reset-on-ok")) form.reset();
    var flagBox = document.getElementById("flag-message");
    if (evt.detail.successful && flagBox && resultBox(elt) === flagBox) say(elt, "");
  });

  body.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (!target) return;
    if (target.id === "pit-result") {
      delete target.dataset.ok; // the fragment says it
      target.hidden = !target.textContent.trim();
      clearTimeout(hideTimer);
      if (target.querySelector('[data-ok="true"]')) {
        hideTimer = setTimeout(function () { target.hidden = true; }, OK_HIDE_MS);
      }
    }
    if (target.id === "car-detail") {
      var dialog = document.getElementById("car-dialog");
      if (dialog && !dialog.open) dialog.showModal();
    }
  });

  // websocket swaps replace the panels: show the picked one again
  body.addEventListener("htmx:wsAfterMessage", showPicked);
  body.addEventListener("htmx:oobAfterSwap", function () {
    if (document.getElementById("pit-panels")) showPicked();
  });

  // --- clicks ------------------------------------------------------------------------------

  body.addEventListener("click", function (evt) {
    var target = evt.target.closest ? evt.target : evt.target.parentElement;
    var chip = target.closest("[data-pick]");
    if (chip) {
      pick(chip.dataset.pick === picked ? "" : chip.dataset.pick);
      return;
    }
    if (target.closest("[data-unpick]")) {
      pick("");
      return;
    }
    if (target.closest("[data-close-dialog]")) {
      var dialog = document.getElementById("car-dialog");
      if (dialog && dialog.open) dialog.close();
      return;
    }
    var assign = target.closest("[data-assign]");
    if (assign) {
      var box = document.getElementById("assign-box");
      if (!box) return;
      box.open = true;
      box.querySelector("[name=transponder]").value = assign.dataset.assign;
      box.scrollIntoView({ block: "nearest" });
      box.querySelector("select").focus();
    }
  });

  showPicked();
})();
