/* racecontrol /live: follow a car.
 *
 * Strategy: every car's row has an empty first cell (td.c-fav); this script puts a star
 * button in it. Starred cars (their numbers, in localStorage) are marked
 * (tr[data-fav]) and pinned at the top of the table, each group in race order. The
 * server knows nothing of favourites: its row-level updates replace rows and cells and
 * put the rows back in race order (live.js), and after each one live.js fires
 * "rc:swapped" on <body>, when this script puts the stars, marks and pins back. The
 * same pass compares each favourite with what it showed last time: a car that went
 * into the pit lane, or improved its best lap, gets a short banner (role="status").
 */
(function () {
  "use strict";

  var KEY = "racecontrol.favourites";
  var BANNER_MS = 10000;
  var body = document.body;
  var favourites = load(); // car numbers, as text ("07" and "7" are different cars)
  var seen = {}; // row id -> {state, best} as shown after the last update
  var banner = null;
  var bannerTimer = null;

  function load() {
    try {
      var value = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(value) ? value.map(String) : [];
    } catch (e) {
      return []; // storage disabled or garbled: start with none
    }
  }

  function save() {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(favourites));
    } catch (e) {
      /* not remembered after a reload; fine for this page */
    }
  }

  function numberOf(row) {
    var cell = row.querySelector(".c-no");
    return cell ? cell.textContent.trim() : "";
  }

  function teamOf(row) {
    var cell = row.querySelector(".c-team");
    return cell ? cell.getAttribute("title") || "" : "";
  }

  // the overall position (live.js keeps it in data-overall while a class is shown)
  function position(row) {
    var cell = row.querySelector(".c-pos");
    if (!cell) return Infinity;
    var text = cell.dataset.overall !== undefined ? cell.dataset.overall : cell.textContent;
    var value = parseInt(text, 10);
    return isFinite(value) ? value : Infinity;
  }

  function decorate(row, number, followed) {
    var cell = row.querySelector(".c-fav");
    if (!cell) return;
    var star = cell.querySelector("button.star");
    if (!star) {
      star = document.createElement("button");
      star.type = "button";
      star.className = "star";
      cell.appendChild(star);
    }
    var pressed = String(followed);
    if (star.getAttribute("aria-pressed") !== pressed) star.setAttribute("aria-pressed", pressed);
    var label = (followed ? "Stop following car " : "Follow car ") + number;
    if (star.getAttribute("aria-label") !== label) star.setAttribute("aria-label", label);
    var glyph = followed ? "\u2605" : "\u2606";
    if (star.textContent !== glyph) star.textContent = glyph;
    if (row.hasAttribute("data-fav") !== followed) row.toggleAttribute("data-fav", followed);
  }

  // What changed for a favourite since the last update, in words (null: nothing to say).
  function news(row, number, followed) {
    var bestCell = row.querySelector(".c-best");
    var now = { state: row.dataset.state, best: bestCell ? bestCell.textContent.trim() : "" };
    var before = seen[row.id];
    seen[row.id] = now;
    if (!before || !followed) return null;
    var car = "Car " + number + (teamOf(row) ? " (" + teamOf(row) + ")" : "");
    if (now.state === "pit" && before.state !== "pit") return car + " is in the pit lane";
    if (now.best && before.best && now.best !== before.best) {
      var overall = bestCell.classList.contains("best-overall") ? ", fastest of all" : "";
      return car + " sets its best lap: " + now.best + overall;
    }
    return null;
  }

  function announce(lines) {
    if (!banner) return;
    banner.querySelector("p").textContent = lines.join(" · ");
    banner.hidden = false;
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(function () {
      banner.hidden = true;
    }, BANNER_MS);
  }

  function pin(rows) {
    var container = document.getElementById("standings");
    if (!container) return;
    var order = rows.slice().sort(function (a, b) {
      var pinned = (a.hasAttribute("data-fav") ? 0 : 1) - (b.hasAttribute("data-fav") ? 0 : 1);
      return pinned || position(a) - position(b);
    });
    for (var i = 0; i < order.length; i++) {
      if (container.children[i] !== order[i]) {
        container.insertBefore(order[i], container.children[i] || null);
      }
    }
  }

  function apply() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#standings > tr[id]"));
    var lines = [];
    for (var i = 0; i < rows.length; i++) {
      var number = numberOf(rows[i]);
      var followed = favourites.indexOf(number) >= 0;
      decorate(rows[i], number, followed);
      var line = news(rows[i], number, followed);
      if (line) lines.push(line);
    }
    pin(rows);
    if (lines.length) announce(lines);
  }

  function makeBanner() {
    banner = document.createElement("div");
    banner.id = "fav-banner";
    banner.className = "fav-banner";
    banner.setAttribute("role", "status");
    banner.hidden = true;
    var text = document.createElement("p");
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", "Close the note");
    close.textContent = "\u00d7";
    banner.appendChild(text);
    banner.appendChild(close);
    body.appendChild(banner);
  }

  body.addEventListener("click", function (evt) {
    var target = evt.target;
    if (banner && target.closest && target.closest("#fav-banner button")) {
      banner.hidden = true;
      return;
    }
    var star = target.closest && target.closest("#standings button.star");
    if (!star) return;
    var number = numberOf(star.closest("tr"));
    var at = favourites.indexOf(number);
    if (at >= 0) favourites.splice(at, 1);
    else favourites.push(number);
    save();
    apply();
    star.focus(); // pinning moved the row: keep the keyboard where it was
  });

  // another tab starred a car: follow it here too
  window.addEventListener("storage", function (evt) {
    if (evt.key !== KEY) return;
    favourites = load();
    apply();
  });

  body.addEventListener("rc:swapped", apply);
  makeBanner();
  apply();
})();
