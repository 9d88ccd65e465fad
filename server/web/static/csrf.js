/* racecontrol: the session's CSRF token on every htmx request (server/web/csrf.py).
 *
 * The page's <meta name="csrf-token"> holds it (only pages with a login carry one); htmx
 * sends it as the X-CSRF-Token header. Plain forms carry it as a hidden field instead.
 */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta) return;
  var token = meta.getAttribute("content") || "";
  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRF-Token"] = token;
  });
})();
