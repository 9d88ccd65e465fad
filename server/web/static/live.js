/* racecontrol: the little that moves in the browser between two server messages.
 *
 * Strategy: the server pushes HTML fragments over a websocket and the htmx ws extension
 * swaps them in by element id. Everything here is derived from what the server sent; no
 * data is invented:
 *   (a) clocks ([data-clock]) and ages ([data-since-us]) tick every 200 ms from server
 *       timestamps: the latest server time received (a page, a fragment, the 2 s
 *       heartbeat) anchors an estimate "server now = that time + browser time since x rate";
 *   (b) #live-badge says whether what is on screen is live: "live" only while the socket
 *       is open AND a message arrived in the last 5 s; otherwise how old it is, or that
 *       the connection is lost. Stale or lost dims the data (body[data-conn]);
 *   (c) a class filter (All / A / B ...) shows one class, switching position, gap and
 *       interval cells to their in-class values; remembered in localStorage and applied
 *       again after every swap;
 *   (d) stint clocks ([data-st]) tick like the race clock and change level (data-level)
 *       as the stint limit nears; countdowns ([data-until-us]) count down;
 *   (e) a block whose HTML is the same as in the last message is left alone;
 *   (f) the spectators' page gets row-level updates as JSON (server/service/fanout.py):
 *       changed blocks, changed rows (by id) and the rows' order, numbered; a gap in the
 *       numbers (or a heartbeat newer than the last update) asks the server for a snapshot.
 * The commands of the pit and control pages (results, double taps) are in actions.js.
 * State changes are written as data-* attributes and the hidden attribute only: htmx
 * re-settles "class" and "style" on swapped elements, so this script never touches them.
 */
(function () {
  "use strict";

  var TICK_MS = 200;
  var LIVE_FOR_MS = 5000; // a message within this long means "live"
  var DEAD_AFTER_MS = 15000; // open but silent this long (7 missed heartbeats): reconnect
  var RETRIED_BY_EXTENSION = [1006, 1011, 1012, 1013]; // close codes htmx-ext-ws retries itself
  var POLICY_VIOLATION = 1008; // the server refused us (e.g. logged out of /control)
  var FILTER_KEY = "racecontrol.classFilter";

  var body = document.body;

  // --- (a) server time and ticking clocks -------------------------------------------

  var anchor = null; // {serverUs, browserMs}: a server time seen, and when it arrived

  // A heartbeat is always fresh, so it always wins (it also follows a server restart).
  // Fragments may be older than they look (a new viewer first gets the last snapshot,
  // maybe rendered minutes ago), so they move the estimate forward, never back.
  function takeAnchor(serverUs, always) {
    var value = Number(serverUs);
    if (serverUs === "" || serverUs == null || !isFinite(value)) return;
    var candidate = { serverUs: value, browserMs: Date.now() };
    if (always || anchor === null || value > estimate(anchor, candidate.browserMs)) {
      anchor = candidate;
    }
  }

  function estimate(a, browserMs) {
    return a.serverUs + (browserMs - a.browserMs) * 1000 * rateOf(null);
  }

  function rateOf(el) {
    var rate = parseFloat((el && el.dataset.rate) || body.dataset.clockRate);
    return rate > 0 ? rate : 1;
  }

  function serverNowUs(rate) {
    return anchor ? anchor.serverUs + (Date.now() - anchor.browserMs) * 1000 * rate : null;
  }

  // Take server times from elements that arrived since the last look (new DOM nodes).
  function scanTimestamps() {
    var found = document.querySelectorAll("[data-clock], #heartbeat");
    for (var i = 0; i < found.length; i++) {
      if (!found[i].rcSeen) {
        found[i].rcSeen = true;
        takeAnchor(found[i].dataset.serverNowUs, found[i].id === "heartbeat");
      }
    }
  }

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // H:MM:SS from microseconds (negative shows as zero); same rule as views.format_clock.
  function formatClock(us) {
    var s = Math.max(0, Math.floor(us / 1e6));
    return Math.floor(s / 3600) + ":" + pad2(Math.floor(s / 60) % 60) + ":" + pad2(s % 60);
  }

  // M:SS (a pit-lane time); same rule as formatting.format_minutes_seconds.
  function formatMinSec(us) {
    var s = Math.max(0, Math.floor(us / 1e6));
    return Math.floor(s / 60) + ":" + pad2(s % 60);
  }

  // Same wording as views.format_age.
  function formatAge(us) {
    var s = Math.max(0, Math.floor(us / 1e6));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    return Math.floor(s / 3600) + " h " + (Math.floor(s / 60) % 60) + " min ago";
  }

  function num(value) {
    return value === undefined || value === "" ? null : Number(value);
  }

  function tickClocks() {
    var clocks = document.querySelectorAll("[data-clock]");
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      var now = serverNowUs(rateOf(el));
      var green = num(el.dataset.greenAtUs);
      var ends = num(el.dataset.endsAtUs);
      var stopped = num(el.dataset.stoppedAtUs); // the checkered flag (or a pause) stops it
      var paused = num(el.dataset.pausedUs) || 0; // closed pauses of the race clock
      if (now === null) continue;
      if (stopped !== null) now = Math.min(now, stopped);
      var text;
      if (el.dataset.mode === "remaining" && ends !== null) {
        text = formatClock(Math.ceil(Math.max(0, ends - now) / 1e6) * 1e6); // count down, round up
      } else if (green !== null) {
        text = formatClock(now - green - paused);
      } else {
        continue; // not started: keep the server's text
      }
      if (el.textContent !== text) el.textContent = text;
    }
    var ages = document.querySelectorAll("[data-since-us]");
    var nowAge = serverNowUs(rateOf(null));
    for (var j = 0; j < ages.length && nowAge !== null; j++) {
      var age = nowAge - Number(ages[j].dataset.sinceUs);
      var format = ages[j].dataset.sinceFormat;
      var ageText = format === "s"
        ? Math.max(0, Math.floor(age / 1e6)) + " s" // views.format_seconds_ago
        : format === "ms" ? formatMinSec(age) // formatting.format_minutes_seconds
        : format === "clock" ? formatClock(age) : formatAge(age);
      if (ages[j].textContent !== ageText) ages[j].textContent = ageText;
      var warnS = num(ages[j].dataset.warnAfterS);
      if (warnS !== null) ages[j].toggleAttribute("data-warn", age > warnS * 1e6);
    }
    if (nowAge !== null) {
      tickStints(nowAge);
      tickCountdowns(nowAge);
    }
  }

  // Stint clocks: "base" drive time at "since", ticking only while running; the level
  // (views.stint_view, same thresholds) colours it as the limit nears.
  var STINT_WARN_US = 30 * 60e6;
  var STINT_CRITICAL_US = 15 * 60e6;

  function tickStints(nowUs) {
    var stints = document.querySelectorAll("[data-st]");
    for (var i = 0; i < stints.length; i++) {
      var el = stints[i];
      var since = num(el.dataset.stSince);
      if (el.dataset.st === "none" || since === null) continue;
      var value = Number(el.dataset.stBase);
      if (el.dataset.st === "running") value += Math.max(0, nowUs - since);
      var text = formatClock(value);
      if (el.textContent !== text) el.textContent = text;
      var max = num(el.dataset.stMax);
      if (max === null) continue;
      var left = max - value;
      var level = left <= 0 ? "over" : left <= STINT_CRITICAL_US ? "critical"
        : left <= STINT_WARN_US ? "warn" : "";
      if (el.dataset.level !== level) el.dataset.level = level;
    }
  }

  // "in 0:12:34" until a predicted moment (the white and checkered flag on /control).
  function tickCountdowns(nowUs) {
    var items = document.querySelectorAll("[data-until-us]");
    for (var i = 0; i < items.length; i++) {
      var left = Number(items[i].dataset.untilUs) - nowUs;
      var text = left > 0 ? "in " + formatClock(left) : "now";
      if (items[i].textContent !== text) items[i].textContent = text;
    }
  }

  // --- (b) live / stale / lost ----------------------------------------------------------

  var socketState = "connecting"; // connecting | open | closed | refused
  var socketWrapper = null; // htmx-ext-ws public interface (has reconnect())
  var currentSocket = null; // the WebSocket of the last wsOpen; older ones are ignored
  var lastMessageMs = null;
  var retries = 0;
  var retryTimer = null;

  function badgeState(nowMs) {
    if (socketState === "refused") return ["lost", "not signed in: reload the page"];
    if (socketState === "closed") return ["lost", "connection lost, reconnecting…"];
    if (lastMessageMs === null) return ["connecting", "connecting…"];
    var ageS = Math.floor((nowMs - lastMessageMs) / 1000);
    if (socketState === "open" && nowMs - lastMessageMs <= LIVE_FOR_MS) return ["live", "live"];
    return ["stale", "updated " + ageS + " s ago"];
  }

  function renderBadge() {
    if (!body.hasAttribute("ws-connect")) return; // a page without live data (login)
    var nowMs = Date.now();
    var state = badgeState(nowMs);
    body.dataset.conn = state[0];
    var badge = document.getElementById("live-badge");
    if (badge) {
      if (badge.dataset.state !== state[0]) badge.dataset.state = state[0];
      if (badge.textContent !== state[1]) badge.textContent = state[1];
    }
    // open but silent for too long (a half-open socket after a network switch): start over
    if (socketState === "open" && socketWrapper && lastMessageMs !== null &&
        nowMs - lastMessageMs > DEAD_AFTER_MS) {
      reconnect();
    }
  }

  function reconnect() {
    if (!socketWrapper) return;
    currentSocket = null; // the close of the abandoned socket must not count
    socketState = "closed";
    lastMessageMs = null;
    socketWrapper.reconnect();
  }

  function scheduleReconnect() {
    // exponential back-off with jitter, 1 s .. 30 s
    var delay = Math.min(30000, 1000 * Math.pow(2, retries)) * (0.5 + Math.random() / 2);
    retries += 1;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () {
      if (socketState === "closed") reconnect();
    }, delay);
  }

  body.addEventListener("htmx:wsConnecting", function () {
    if (socketState !== "closed") socketState = "connecting";
    renderBadge();
  });

  body.addEventListener("htmx:wsOpen", function (evt) {
    lastSeq = null; // a new connection starts with a snapshot
    snapshotAskedMs = null;
    socketState = "open";
    socketWrapper = evt.detail.socketWrapper;
    currentSocket = evt.detail.event && evt.detail.event.target;
    retries = 0;
    clearTimeout(retryTimer);
    renderBadge();
  });

  body.addEventListener("htmx:wsClose", function (evt) {
    var closed = evt.detail.event && evt.detail.event.target;
    if (currentSocket && closed && closed !== currentSocket) return; // one we replaced
    socketWrapper = evt.detail.socketWrapper || socketWrapper;
    var code = evt.detail.event ? evt.detail.event.code : 0;
    if (code === POLICY_VIOLATION) {
      socketState = "refused";
    } else {
      socketState = "closed";
      // the extension retries only some close codes; retry the others ourselves
      if (RETRIED_BY_EXTENSION.indexOf(code) < 0) scheduleReconnect();
    }
    renderBadge();
  });

  body.addEventListener("htmx:wsError", function () {
    if (socketState !== "refused") socketState = "closed";
    renderBadge();
  });

  body.addEventListener("htmx:wsAfterMessage", function () {
    lastMessageMs = Date.now();
    if (socketState !== "open") socketState = "open";
    afterSwap();
  });

  body.addEventListener("htmx:oobAfterSwap", afterSwap);

  // --- (c) class filter ------------------------------------------------------------------

  function storedFilter() {
    try {
      return window.localStorage.getItem(FILTER_KEY) || "";
    } catch (e) {
      return ""; // storage disabled (private mode): the filter still works for this page
    }
  }

  var filter = storedFilter(); // "" = all classes

  function classesOnPage() {
    var seen = {};
    var rows = document.querySelectorAll("#standings tr[data-class]");
    for (var i = 0; i < rows.length; i++) seen[rows[i].dataset.class] = true;
    return Object.keys(seen).sort();
  }

  function buildFilterButtons(nav, classes) {
    var key = classes.join("\u0000");
    if (nav.dataset.classes === key) return;
    nav.dataset.classes = key;
    nav.textContent = "";
    [""].concat(classes).forEach(function (cls) {
      var button = document.createElement("button");
      button.type = "button";
      button.dataset.filter = cls;
      button.textContent = cls === "" ? "All" : cls;
      nav.appendChild(button);
    });
  }

  function applyFilter() {
    var nav = document.getElementById("class-filter");
    if (!nav) return;
    var classes = classesOnPage();
    nav.hidden = classes.length < 2;
    buildFilterButtons(nav, classes);
    // a remembered class that is not in this session shows everything (and stays remembered)
    var active = classes.indexOf(filter) >= 0 ? filter : "";
    var buttons = nav.querySelectorAll("button");
    for (var b = 0; b < buttons.length; b++) {
      buttons[b].setAttribute("aria-pressed", String(buttons[b].dataset.filter === active));
    }
    body.dataset.classFilter = active;
    var rows = document.querySelectorAll("#standings tr[data-class], #sprint tr[data-class]");
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      row.hidden = active !== "" && row.dataset.class !== active;
      // the server sends the overall value as the text (half the bytes of sending both)
      // and the in-class one as data-in-class; the overall one is kept before a switch
      var cells = row.querySelectorAll("[data-in-class]");
      for (var c = 0; c < cells.length; c++) {
        var cell = cells[c];
        if (cell.dataset.overall === undefined) cell.dataset.overall = cell.textContent;
        var text = active === "" ? cell.dataset.overall : cell.dataset.inClass;
        if (cell.textContent !== text) cell.textContent = text;
      }
    }
  }

  body.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("#class-filter button");
    if (!button) return;
    filter = button.dataset.filter || "";
    try {
      window.localStorage.setItem(FILTER_KEY, filter);
    } catch (e) {
      /* not remembered; fine */
    }
    applyFilter();
  });

  // --- (e) a block that did not change is not swapped -----------------------------------
  // Every message carries all of a page's blocks; most are the same as last time (the
  // flag buttons, the alerts, the pit panels). Swapping them anyway would replace a
  // button between the press and the release of a click, and the click would be lost.

  var lastBlockHtml = {}; // element id -> the HTML last received for it

  body.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var detail = evt.detail;
    var incoming = detail.fragment && detail.fragment.firstElementChild;
    var id = detail.target && detail.target.id;
    if (!incoming || !id) return;
    var html = incoming.outerHTML;
    if (lastBlockHtml[id] === html) detail.shouldSwap = false;
    lastBlockHtml[id] = html;
  });

  // --- (f) row-level updates -------------------------------------------------------------

  var lastSeq = null; // the number of the last update applied (null: no snapshot yet)
  var snapshotAskedMs = null; // when we last asked for a snapshot (asked again after 5 s)

  function elementOf(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content.firstElementChild;
  }

  function askSnapshot() {
    var nowMs = Date.now();
    if (snapshotAskedMs !== null && nowMs - snapshotAskedMs < LIVE_FOR_MS) return;
    snapshotAskedMs = nowMs;
    try {
      if (currentSocket && currentSocket.readyState === 1) currentSocket.send("snapshot");
      else if (socketWrapper) socketWrapper.send("snapshot");
    } catch (e) {
      /* closed meanwhile: the next connection starts with a snapshot */
    }
  }

  function fresh(el) {
    if (window.htmx && el) window.htmx.process(el);
    return el;
  }

  // Apply one update; false if it does not fit the page (then a snapshot is asked for).
  function applyUpdate(msg) {
    var id, el, old;
    var blocks = msg.b || {};
    for (id in blocks) {
      var wire = blocks[id];
      el = elementOf(typeof wire === "string" ? wire : wire[0] + wire[1]);
      old = document.getElementById(id);
      if (!el || !old) return false;
      old.replaceWith(fresh(el));
    }
    var rows = msg.r || {};
    var loose = {}; // new rows, placed by the order below
    for (id in rows) {
      el = elementOf(rows[id].join("")); // a row's parts: opening tag, cells, closing tag
      if (!el) return false;
      old = document.getElementById(id);
      if (old) old.replaceWith(fresh(el));
      else loose[id] = fresh(el);
    }
    var cells = msg.c || {};
    for (id in cells) {
      var row = document.getElementById(id);
      if (!row) return false;
      for (var index in cells[id]) {
        var cell = row.children[Number(index) - 1]; // part 0 is the row's opening tag
        el = elementOf(cells[id][index]);
        if (!cell || !el) return false;
        cell.replaceWith(fresh(el));
      }
    }
    var orders = msg.o || {};
    for (var containerId in orders) {
      var container = document.getElementById(containerId);
      var ids = orders[containerId];
      if (!container) return false;
      for (var i = 0; i < ids.length; i++) {
        el = loose[ids[i]] || document.getElementById(ids[i]);
        if (!el) return false;
        delete loose[ids[i]];
        if (container.children[i] !== el) container.insertBefore(el, container.children[i] || null);
      }
      while (container.children.length > ids.length) container.lastElementChild.remove();
    }
    var firsts = msg.p || {}; // new rows put first (a list that grows at the top)
    for (containerId in firsts) {
      container = document.getElementById(containerId);
      if (!container) return false;
      for (var k = firsts[containerId].length - 1; k >= 0; k--) {
        el = loose[firsts[containerId][k]];
        if (!el) return false;
        delete loose[firsts[containerId][k]];
        container.insertBefore(el, container.firstElementChild);
      }
    }
    for (id in loose) return false; // a new row without a place
    return true;
  }

  function onUpdate(msg) {
    lastMessageMs = Date.now();
    if (socketState !== "open") socketState = "open";
    if (msg.rate) body.dataset.clockRate = msg.rate;
    if (msg.hb) {
      takeAnchor(msg.now, true);
      if (lastSeq === null || msg.seq > lastSeq) askSnapshot(); // we missed the last one
    } else if (msg.snap) {
      if (applyUpdate(msg)) {
        lastSeq = msg.seq;
        snapshotAskedMs = null;
      }
      takeAnchor(msg.now, false);
    } else if (lastSeq !== null && msg.seq === lastSeq + 1 && applyUpdate(msg)) {
      lastSeq = msg.seq;
      takeAnchor(msg.now, false);
    } else if (lastSeq === null || msg.seq > lastSeq) {
      askSnapshot(); // a gap (or an update that does not fit): start again from a snapshot
    }
    afterSwap();
  }

  body.addEventListener("htmx:wsBeforeMessage", function (evt) {
    var text = evt.detail.message;
    if (typeof text !== "string" || text.charAt(0) !== "{") return; // HTML: htmx swaps it
    evt.preventDefault();
    var msg;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      return;
    }
    if (msg.car !== undefined) return; // a watched car's update: car.js applies it
    onUpdate(msg);
  });

  window.racecontrolApplyUpdate = applyUpdate; // car.js applies its car's updates the same way

  // --- wiring ----------------------------------------------------------------------------

  function afterSwap() {
    scanTimestamps();
    applyFilter();
    tickClocks();
    renderBadge();
    // the page's own scripts (favourites.js) follow every swap and row-level update
    body.dispatchEvent(new CustomEvent("rc:swapped"));
  }

  takeAnchor(body.dataset.serverNowUs); // the page itself was rendered at this server time
  afterSwap();
  setInterval(function () {
    tickClocks();
    renderBadge();
  }, TICK_MS);
})();
