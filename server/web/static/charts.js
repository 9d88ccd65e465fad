/* racecontrol charts: lap chart, lap times and gaps drawn by uPlot, kept live.
 *
 * Strategy: the history comes once (GET /api/v1/sessions/{id}/charts); /ws/charts then
 * sends only the points of new laps, numbered (server/service/chart_feed.py). Messages
 * that arrive before the history are kept and applied after it; a point is stored by
 * car and lap, so one that the history already had is simply the same again. A gap in
 * the numbers, a heartbeat newer than the last message, or {"reset": 1} loads the
 * history again. Every number comes from the server (positions and gaps are the
 * engine's); this script only picks the series and draws them. The stint timelines are
 * SVG from the server, fetched again (at most every 15 s) while their tab is shown.
 */
(function () {
  "use strict";

  var body = document.body;
  var sessionId = body.dataset.sessionId;
  if (!sessionId || !window.uPlot) return;

  var F = { number: 0, lap: 1, at: 2, time: 3, pos: 4, cpos: 5, gap: 6, cgap: 7, flag: 8, pit: 9, voided: 10 };
  // bright enough on the page's dark background, told apart by hue
  var COLOURS = ["#ff5c5c", "#4dd04d", "#5c9dff", "#ffa640", "#d77bff", "#42d4f4", "#ff6bd6",
    "#e0c060", "#7fe0c0", "#c0c0c0", "#bfef45", "#ffb3c6"];
  var FG = getComputedStyle(body).color; // canvas text and axes (canvas has no currentColor)
  var MAX_CARS = 6;
  var TIMELINE_EVERY_MS = 15000;

  var cars = []; // [{number, class, team}] in entry order
  var laps = {}; // number -> {lap -> point row}
  var seq = null; // the last feed message applied (null: no history yet)
  var pending = []; // feed messages received before the history
  var loading = false;
  var selectedTab = document.querySelector(".chart-tabs [aria-selected=true]");
  var tab = selectedTab ? selectedTab.dataset.tab : "times"; // practice and qualifying: no lap chart
  var chosen = null; // numbers on the lap-time chart
  var plots = {}; // chart id -> uPlot
  var timelineAt = 0;

  // --- the data ------------------------------------------------------------------------

  function store(row) {
    var car = laps[row[F.number]] || (laps[row[F.number]] = {});
    car[row[F.lap]] = row;
  }

  function loadHistory() {
    if (loading) return;
    loading = true;
    fetch("/api/v1/sessions/" + sessionId + "/charts", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (history) {
        cars = history.cars;
        laps = {};
        history.points.forEach(store);
        seq = history.seq;
        var later = pending.filter(function (m) { return m.seq > seq; });
        pending = [];
        later.sort(function (a, b) { return a.seq - b.seq; }).forEach(onMessage);
        loading = false;
        draw(true);
      })
      .catch(function () {
        loading = false;
        seq = null;
        setTimeout(loadHistory, 5000);
      });
  }

  function onMessage(msg) {
    if (seq === null) {
      pending.push(msg);
      return;
    }
    if (msg.hb) {
      if (msg.seq > seq) reload();
      return;
    }
    if (msg.seq <= seq) return; // the history had it
    if (msg.seq !== seq + 1 || msg.reset) {
      reload();
      return;
    }
    seq = msg.seq;
    var pitted = false;
    (msg.p || []).forEach(function (row) {
      store(row);
      if (row[F.pit]) pitted = true;
    });
    draw(pitted); // a completed pit lap: the stint timelines change now

  }

  function reload() {
    seq = null;
    pending = [];
    loadHistory();
  }

  // --- the charts ----------------------------------------------------------------------

  function classOf(number) {
    for (var i = 0; i < cars.length; i++) if (cars[i].number === number) return cars[i].class;
    return "";
  }

  function latest(number) {
    var car = laps[number] || {};
    var last = 0;
    for (var lap in car) last = Math.max(last, Number(lap));
    return last ? car[last] : null;
  }

  // cars by their position at their latest lap (more laps first): the running order
  function running(numbers) {
    return numbers.slice().sort(function (a, b) {
      var pa = latest(a), pb = latest(b);
      if (!pa || !pb) return pa ? -1 : pb ? 1 : 0;
      return pb[F.lap] - pa[F.lap] || pa[F.pos] - pb[F.pos];
    });
  }

  function numbersIn(cls) {
    return cars.filter(function (c) { return cls === "" || c.class === cls; })
      .map(function (c) { return c.number; });
  }

  function series(numbers, value) {
    var maxLap = 0;
    numbers.forEach(function (n) { var p = latest(n); if (p) maxLap = Math.max(maxLap, p[F.lap]); });
    var xs = [];
    for (var lap = 1; lap <= maxLap; lap++) xs.push(lap);
    var data = [xs];
    var count = 0;
    numbers.forEach(function (n) {
      var car = laps[n] || {};
      data.push(xs.map(function (lap) {
        var v = car[lap] ? value(car[lap]) : null;
        if (v !== null) count++;
        return v;
      }));
    });
    return { data: data, count: count };
  }

  function colour(i) { return COLOURS[i % COLOURS.length]; }

  // the car number at the end of each line: the chart reads without a legend
  function labelEnds(u) {
    var ctx = u.ctx;
    ctx.save();
    ctx.font = Math.round(12 * devicePixelRatio) + "px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (var s = 1; s < u.series.length; s++) {
      var ys = u.data[s];
      for (var i = ys.length - 1; i >= 0; i--) {
        if (ys[i] == null) continue;
        ctx.fillStyle = u.series[s].stroke();
        var x = u.valToPos(u.data[0][i], "x", true) + 4 * devicePixelRatio;
        ctx.fillText(u.series[s].label, x, u.valToPos(ys[i], "y", true));
        break;
      }
    }
    ctx.restore();
  }

  function size(el) {
    var width = Math.max(260, el.clientWidth);
    return { width: width, height: width < 600 ? 320 : 460 };
  }

  // whole laps and round numbers on the axes (never "lap 1.5" or "8 s" for 7.5)
  var WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
  var SECONDS = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

  function plot(id, numbers, built, yLabel, invert, format, yIncrs) {
    var el = document.getElementById(id);
    var key = numbers.join(",");
    var old = plots[id];
    el.dataset.points = String(built.count);
    el.dataset.cars = key;
    if (old && old.rcKey === key) {
      old.setData(built.data);
      return;
    }
    if (old) old.destroy();
    var dims = size(el);
    var opts = {
      width: dims.width,
      height: dims.height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      padding: [12, 28, 0, 0],
      scales: { x: { time: false }, y: { dir: invert ? -1 : 1 } },
      axes: [
        { label: "Lap", stroke: FG, grid: { stroke: "rgba(128,128,128,0.25)" }, incrs: WHOLE },
        { label: yLabel, stroke: FG, grid: { stroke: "rgba(128,128,128,0.25)" }, incrs: yIncrs,
          values: function (u, vals) { return vals.map(format); } },
      ],
      series: [{}].concat(numbers.map(function (n, i) {
        return { label: n, stroke: colour(i), width: 2, spanGaps: false, points: { show: built.data[0].length < 40 } };
      })),
      hooks: { draw: [labelEnds] },
    };
    plots[id] = new window.uPlot(opts, built.data, el);
    plots[id].rcKey = key;
    keys(numbers);
  }

  function keys(numbers) {
    var box = document.getElementById("chart-keys");
    box.textContent = "";
    var list = document.createElement("ul");
    numbers.forEach(function (n, i) {
      var car = cars.filter(function (c) { return c.number === n; })[0] || { team: "" };
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "key-swatch";
      swatch.setAttribute("aria-hidden", "true");
      swatch.style.background = colour(i);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode("#" + n + " " + car.team));
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function seconds(us) { return us === null || us === undefined ? null : us / 1e6; }

  function drawLaps() {
    var cls = document.getElementById("laps-class").value;
    var numbers = running(numbersIn(cls)).filter(function (n) { return latest(n); });
    var built = series(numbers, function (p) { return cls === "" ? p[F.pos] : p[F.cpos]; });
    plot("chart-laps", numbers, built, "Position", true, function (v) { return v == null ? "" : String(v); }, WHOLE);
  }

  function drawGaps() {
    var cls = document.getElementById("gaps-class").value;
    var numbers = running(numbersIn(cls)).filter(function (n) { return latest(n); });
    var built = series(numbers, function (p) { return seconds(cls === "" ? p[F.gap] : p[F.cgap]); });
    plot("chart-gaps", numbers, built, "Gap (s)", true, function (v) { return v == null ? "" : String(v); }, SECONDS);
  }

  function drawTimes() {
    var all = running(cars.map(function (c) { return c.number; }));
    if (chosen === null) chosen = all.filter(function (n) { return latest(n); }).slice(0, 3);
    chips(all);
    var built = series(chosen, function (p) { return p[F.voided] ? null : seconds(p[F.time]); });
    plot("chart-times", chosen, built, "Lap time (s)", false, function (v) { return v == null ? "" : String(v); }, SECONDS);
  }

  function chips(all) {
    var box = document.getElementById("times-cars");
    var key = all.join(",");
    if (box.dataset.cars !== key) {
      box.dataset.cars = key;
      box.textContent = "";
      all.forEach(function (n) {
        var b = document.createElement("button");
        b.type = "button";
        b.dataset.car = n;
        b.textContent = "#" + n;
        b.setAttribute("aria-label", "Car " + n + " (" + classOf(n) + ")");
        box.appendChild(b);
      });
    }
    var buttons = box.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", String(chosen.indexOf(buttons[i].dataset.car) >= 0));
    }
  }

  function draw(fresh) {
    if (seq === null) return;
    if (tab === "laps") drawLaps();
    else if (tab === "times") drawTimes();
    else if (tab === "gaps") drawGaps();
    else refreshTimelines(fresh);
  }

  // --- the stint timelines (server-rendered SVG) ----------------------------------------

  function refreshTimelines(now) {
    var nowMs = Date.now();
    if (!now && nowMs - timelineAt < TIMELINE_EVERY_MS) return;
    timelineAt = nowMs;
    fetch("/live/charts", { headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("timelines");
        var old = document.getElementById("timelines");
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () { /* kept as it was; the next message tries again */ });
  }

  // --- tabs and pickers ----------------------------------------------------------------

  function show(name) {
    tab = name;
    var tabs = document.querySelectorAll(".chart-tabs [role=tab]");
    for (var i = 0; i < tabs.length; i++) {
      var on = tabs[i].dataset.tab === name;
      tabs[i].setAttribute("aria-selected", String(on));
      tabs[i].tabIndex = on ? 0 : -1;
      document.getElementById(tabs[i].getAttribute("aria-controls")).hidden = !on;
    }
    document.getElementById("chart-keys").hidden = name === "timeline";
    for (var id in plots) {
      plots[id].destroy();
      delete plots[id];
    }
    draw(true);
  }

  body.addEventListener("click", function (evt) {
    var t = evt.target.closest && evt.target.closest(".chart-tabs [role=tab]");
    if (t) {
      show(t.dataset.tab);
      return;
    }
    var chip = evt.target.closest && evt.target.closest("#times-cars button");
    if (chip) {
      var n = chip.dataset.car;
      var at = chosen.indexOf(n);
      if (at >= 0) chosen.splice(at, 1);
      else if (chosen.length < MAX_CARS) chosen.push(n);
      draw(true);
    }
  });

  body.addEventListener("keydown", function (evt) {
    var t = evt.target.closest && evt.target.closest(".chart-tabs [role=tab]");
    if (!t || (evt.key !== "ArrowRight" && evt.key !== "ArrowLeft")) return;
    var tabs = Array.prototype.slice.call(document.querySelectorAll(".chart-tabs [role=tab]"));
    var next = tabs[(tabs.indexOf(t) + (evt.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    show(next.dataset.tab);
  });

  ["laps-class", "gaps-class"].forEach(function (id) {
    var select = document.getElementById(id);
    if (select) select.addEventListener("change", function () { draw(true); });
  });

  window.addEventListener("resize", function () {
    for (var id in plots) plots[id].setSize(size(document.getElementById(id)));
  });

  // --- the feed ------------------------------------------------------------------------

  var lastMessageMs = null;
  var socket = null;
  var retries = 0;

  function badge() {
    var el = document.getElementById("live-badge");
    if (!el) return;
    var open = socket && socket.readyState === 1;
    var fresh = lastMessageMs !== null && Date.now() - lastMessageMs <= 5000;
    var state = open && fresh ? "live" : open ? "stale" : lastMessageMs === null ? "connecting" : "lost";
    var text = state === "live" ? "live" : state === "stale" ? "updated " +
      Math.floor((Date.now() - lastMessageMs) / 1000) + " s ago" : state === "lost" ?
      "connection lost, reconnecting…" : "connecting…";
    if (el.dataset.state !== state) el.dataset.state = state;
    if (el.textContent !== text) el.textContent = text;
    body.dataset.conn = state;
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/charts";
    socket = new WebSocket(url);
    socket.onopen = function () { retries = 0; reload(); };
    socket.onmessage = function (evt) {
      lastMessageMs = Date.now();
      var msg;
      try { msg = JSON.parse(evt.data); } catch (e) { return; }
      onMessage(msg);
      badge();
    };
    socket.onclose = function () {
      var delay = Math.min(30000, 1000 * Math.pow(2, retries++)) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
      badge();
    };
  }

  connect();
  setInterval(badge, 1000);
})();
