/* racecontrol: a car's page as a panel of /live (server/web/templates/car_panel.html).
 *
 * Strategy: a tap on a row of the standings (or its car-number link) opens the panel and
 * tells the server, over the page's /ws/live socket, which car it watches
 * ({"watch": "12"}); closing it sends {"watch": null}. The server then sends that car's
 * updates on the same socket, marked {"car": "12", "seq": ...} (server/web/car_watch.py):
 * a snapshot first, then only what changed, applied like the standings' updates
 * (live.js's applyUpdate). A gap in the car's numbers asks again (a fresh snapshot).
 * The address follows the panel (/live/cars/12), so it can be shared and Back closes it;
 * /live/cars/12 itself is /live with the panel open. Nothing here decides anything: the
 * page shows what the server rendered.
 *
 * Accessibility: the panel is a modal <dialog> (showModal): the focus stays inside it and
 * the page behind is inert; closing gives the focus back to the link that opened it. Its
 * top is kept under the session header (flag, clock), which stays in sight on a phone.
 * A car that leaves the standings (a new session without it) is said to be absent, its
 * old laps hidden; when it is back the panel asks for a fresh snapshot.
 */
(function () {
  "use strict";

  var ASK_AGAIN_MS = 5000;
  var body = document.body;
  var panel = document.getElementById("cp-panel");
  if (!panel) return;

  var watching = panel.dataset.car || null; // the car shown (and watched once connected)
  var lastSeq = null; // the car's last update applied (null: waiting for a snapshot)
  var askedMs = null;
  var socket = null; // htmx-ext-ws public interface (queues until the socket is open)
  var opener = null; // the element to give the focus back to
  var pushed = false; // we pushed /live/cars/N onto the history

  var NO_ANSWER_MS = 8000;
  var noAnswer = null;

  // the panel starts under the session header (replaced by each update: looked up anew),
  // whatever height the header has now
  function keepHeaderInSight() {
    var header = document.getElementById("session-header");
    var bottom = header ? Math.max(0, header.getBoundingClientRect().bottom) : 0;
    panel.style.setProperty("--cp-top", bottom + "px");
  }
  window.addEventListener("resize", keepHeaderInSight);

  function showModal() {
    keepHeaderInSight();
    if (panel.open && !panel.matches(":modal")) panel.close(); // rendered open: make it modal
    if (!panel.open) panel.showModal();
  }

  function setAbsent(absent) {
    if (absent) panel.dataset.absent = "";
    else delete panel.dataset.absent;
  }

  // the car's link in the standings now (rows are replaced by the updates), or null
  function carLink(number) {
    var links = document.querySelectorAll("#standings a.car-link");
    for (var i = 0; i < links.length; i++) {
      if (decodeURIComponent(links[i].getAttribute("href").split("/").pop()) === number) {
        return links[i];
      }
    }
    return null;
  }

  function send(number) {
    askedMs = Date.now();
    lastSeq = null;
    if (socket) socket.send(JSON.stringify({ watch: number }));
    clearTimeout(noAnswer);
    if (number === null) return;
    // an edge (racecontrol edge) serves no car pages: say so rather than load forever
    noAnswer = setTimeout(function () {
      if (watching === number && lastSeq === null && socket) {
        setLoading(true, "Car " + number + ": no answer from the server yet.");
      }
    }, NO_ANSWER_MS);
  }

  function carPath(number) {
    return "/live/cars/" + encodeURIComponent(number);
  }

  function setLoading(on, text) {
    var loading = panel.querySelector("[data-car-loading]");
    if (!loading) return;
    loading.hidden = !on;
    if (text) loading.textContent = text;
  }

  function open(number, from, push) {
    opener = from || null;
    if (watching !== number) {
      panel.dataset.car = number;
      setLoading(true, "Loading car " + number + "…");
    }
    watching = number;
    setAbsent(false);
    showModal();
    send(number);
    if (push && location.pathname !== carPath(number)) {
      history.pushState({ car: number }, "", carPath(number));
      pushed = true;
    }
    var close = panel.querySelector("[data-car-close]");
    if (close) close.focus();
  }

  function close(fromHistory) {
    if (!panel.open) return;
    panel.close();
    closed(fromHistory);
  }

  // the panel is closed (by close(), or by the browser's own Escape on a modal dialog)
  function closed(fromHistory) {
    var shown = watching;
    watching = null;
    setAbsent(false);
    delete panel.dataset.car;
    send(null);
    if (!fromHistory) {
      if (pushed) history.back();
      else history.replaceState(null, "", "/live");
    }
    pushed = false;
    // the focus goes back to the link that opened the panel, or to the car's link now
    var back = opener && document.body.contains(opener) ? opener : carLink(shown);
    if (back) back.focus();
  }

  function outside(el, evt) {
    var box = el.getBoundingClientRect();
    return (
      evt.clientX < box.left ||
      evt.clientX > box.right ||
      evt.clientY < box.top ||
      evt.clientY > box.bottom
    );
  }

  body.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!target.closest) return;
    if (target.closest("[data-car-close]")) {
      evt.preventDefault();
      close(false);
      return;
    }
    if (target === panel && outside(panel, evt)) {
      close(false); // a click beside the modal panel (its backdrop) closes it
      return;
    }
    var row = target.closest("#standings tr[id]");
    if (!row) return;
    // other controls in a row (a favourite's star, say) keep their own meaning
    var control = target.closest("button, input, select, a");
    if (control && !control.classList.contains("car-link")) return;
    var link = row.querySelector("a.car-link");
    if (!link || evt.ctrlKey || evt.metaKey || evt.shiftKey) return; // a new tab: the page
    evt.preventDefault();
    var number = decodeURIComponent(link.getAttribute("href").split("/").pop());
    open(number, link, true);
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape" && panel.open) {
      evt.preventDefault();
      close(false);
    }
  });
  // Tab from the panel's last control goes round to its first (not to the browser's bar)
  var FOCUSABLE = "a[href], button:not([disabled]), input, select, [tabindex='0']";
  panel.addEventListener("keydown", function (evt) {
    if (evt.key !== "Tab") return;
    var all = Array.prototype.filter.call(panel.querySelectorAll(FOCUSABLE), function (el) {
      return el.getClientRects().length > 0;
    });
    if (!all.length) return;
    var first = all[0];
    var last = all[all.length - 1];
    if (evt.shiftKey ? document.activeElement === first : document.activeElement === last) {
      evt.preventDefault();
      (evt.shiftKey ? last : first).focus();
    }
  });
  panel.addEventListener("close", function () {
    if (watching !== null && !panel.open) closed(false); // open again: it was made modal
  });

  window.addEventListener("popstate", function () {
    var match = /^\/live\/cars\/([^/]+)$/.exec(location.pathname);
    if (match) open(decodeURIComponent(match[1]), null, false);
    else close(true);
  });

  body.addEventListener("htmx:wsOpen", function (evt) {
    socket = evt.detail.socketWrapper;
    if (watching !== null) send(watching); // a new connection knows no watch
  });

  function apply(msg) {
    if (msg.none) {
      setAbsent(true);
      setLoading(true, "Car " + msg.car + " is not in this session.");
      return;
    }
    var applyUpdate = window.racecontrolApplyUpdate;
    if (msg.snap) {
      if (applyUpdate(msg)) {
        lastSeq = msg.seq;
        setAbsent(false);
        setLoading(false);
      }
    } else if (lastSeq !== null && msg.seq === lastSeq + 1 && applyUpdate(msg)) {
      lastSeq = msg.seq;
    } else if (askedMs === null || Date.now() - askedMs > ASK_AGAIN_MS) {
      send(watching); // a gap: start again from a snapshot
    }
  }

  body.addEventListener("htmx:wsBeforeMessage", function (evt) {
    var text = evt.detail.message;
    if (typeof text !== "string" || text.lastIndexOf('{"car":', 0) !== 0) return;
    var msg;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      return;
    }
    if (msg.car === watching) apply(msg);
  });

  // after each update of the standings: is the watched car still in this session?
  body.addEventListener("rc:swapped", function () {
    if (watching === null || !panel.open) return;
    keepHeaderInSight();
    var here = carLink(watching) !== null;
    if (!here && !("absent" in panel.dataset)) {
      setAbsent(true);
      setLoading(true, "Car " + watching + " is not in this session.");
    } else if (here && "absent" in panel.dataset && Date.now() - askedMs > ASK_AGAIN_MS) {
      send(watching); // back in the standings: a fresh snapshot replaces the note
    }
  });

  // the panel was rendered open (/live/cars/N): the snapshot to come only refreshes it
  if (watching !== null) {
    lastSeq = null;
    opener = null;
    showModal();
  }
})();
