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
 *   (d) race control: the car dialog, and "Assign…" on an unknown transponder;
 *   (e) race control's top bar: a flag button takes a second tap within 4 s (the first
 *       arms it and says so), the undo of a flag goes away when its 10 s are over; the
 *       open alert count in the title bar, and a sound for a new critical alert (off
 *       unless ticked; remembered in localStorage); the stint time left ticks from the
 *       stint clock live.js ticks; a correction form keeps its car and reloads its list;
 *   (f) a lost login (a 401/403 answer, or the websocket refused with 1008) sends the
 *       user to the login page (the PIN on the pit page), back here after it.
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
    if (xhr.status === 401 || xhr.status === 403) {
      toLogin();
      return;
    }
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
    if (ok && form && form.hasAttribute("data-reset-on-ok")) {
      var car = form.hasAttribute("data-keep-car") && form.querySelector("select[name=number]");
      var keep = car ? car.value : "";
      form.reset();
      if (car && keep) {
        // the same car stays picked and its list is loaded again: what it is now
        car.value = keep;
        window.htmx.trigger(car, "change");
      }
    }
    var flagBox = document.getElementById("flag-message");
    var targeted = elt && elt.hasAttribute && elt.hasAttribute("hx-target");
    if (evt.detail.successful && flagBox && !targeted && resultBox(elt) === flagBox) say(elt, "");
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
    if (target.id === "flag-message") {
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

  // --- (e) race control's top bar, alerts, stint time left --------------------------------

  var ARM_MS = 4000;
  var armTimer = null;

  function disarm() {
    clearTimeout(armTimer);
    var armed = document.querySelectorAll("[data-two-tap][data-armed]");
    for (var i = 0; i < armed.length; i++) {
      armed[i].removeAttribute("data-armed");
      armed[i].textContent = armed[i].dataset.twoTap;
    }
  }

  body.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-two-tap]");
    if (!button) return;
    if (button.hasAttribute("data-armed")) {
      disarm();
      window.htmx.trigger(button, "confirmed");
      return;
    }
    disarm();
    button.setAttribute("data-armed", "");
    button.textContent = "Tap again: " + button.dataset.twoTap;
    armTimer = setTimeout(disarm, ARM_MS);
  });

  // server time, from the heartbeat and page times (as live.js reads them)
  var anchor = null;

  function takeAnchor() {
    var beat = document.getElementById("heartbeat");
    if (!beat || beat.rcActions) return;
    beat.rcActions = true;
    var value = Number(beat.dataset.serverNowUs);
    if (isFinite(value) && value > 0) anchor = { us: value, ms: Date.now() };
  }

  function serverNowUs() {
    var rate = parseFloat(body.dataset.clockRate) || 1;
    return anchor ? anchor.us + (Date.now() - anchor.ms) * 1000 * rate : null;
  }

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clockText(s) {
    return Math.floor(s / 3600) + ":" + pad2(Math.floor(s / 60) % 60) + ":" + pad2(s % 60);
  }

  function secondsOf(text) {
    var parts = (text || "").trim().split(":");
    if (parts.length !== 3) return null;
    return Number(parts[0]) * 3600 + Number(parts[1]) * 60 + Number(parts[2]);
  }

  function tickLeft() {
    var items = document.querySelectorAll("[data-left-of]");
    for (var i = 0; i < items.length; i++) {
      var stint = items[i].parentElement.querySelector("[data-st]");
      var max = stint ? Number(stint.dataset.stMax) : NaN;
      var driven = stint ? secondsOf(stint.textContent) : null;
      if (driven === null || !isFinite(max)) continue;
      var left = Math.floor(max / 1e6) - driven;
      var text = (left < 0 ? "-" : "") + clockText(Math.abs(left));
      if (items[i].textContent !== text) items[i].textContent = text;
      var level = stint.dataset.level || "";
      if (items[i].dataset.level !== level) items[i].dataset.level = level;
    }
  }

  var baseTitle = document.title;
  var soundKey = "racecontrol.alertSound";
  var lastCritical = null;

  function soundOn() {
    try {
      return window.localStorage.getItem(soundKey) === "on";
    } catch (e) {
      return false;
    }
  }

  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    var ctx = new Ctx();
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
    osc.onended = function () { ctx.close(); };
  }

  function followAlerts() {
    var alerts = document.getElementById("alerts");
    if (!alerts) return;
    var open = Number(alerts.dataset.open) || 0;
    var critical = Number(alerts.dataset.critical) || 0;
    var title = (open ? "(" + open + (critical ? "!" : "") + ") " : "") + baseTitle;
    if (document.title !== title) document.title = title;
    var newest = alerts.dataset.newestCritical || "";
    if (lastCritical !== null && newest && newest !== lastCritical && soundOn()) beep();
    lastCritical = newest;
  }

  var toggle = document.getElementById("alert-sound");
  if (toggle) {
    toggle.checked = soundOn();
    toggle.addEventListener("change", function () {
      try {
        window.localStorage.setItem(soundKey, toggle.checked ? "on" : "off");
      } catch (e) {
        /* storage disabled: the sound stays off */
      }
    });
  }

  function tick() {
    takeAnchor();
    var now = serverNowUs();
    var undo = document.querySelectorAll("[data-undo-until-us]");
    for (var i = 0; i < undo.length && now !== null; i++) {
      var over = now > Number(undo[i].dataset.undoUntilUs);
      if (undo[i].hidden !== over) undo[i].hidden = over;
    }
    tickLeft();
    followAlerts();
  }

  // --- (f) a lost login ---------------------------------------------------------------------

  function toLogin() {
    var here = window.location.pathname;
    window.location.assign("/login?next=" + encodeURIComponent(here));
  }

  body.addEventListener("htmx:wsClose", function (evt) {
    if (evt.detail.event && evt.detail.event.code === 1008) toLogin();
  });

  setInterval(tick, 250);
  tick();
  showPicked();
})();
