/* racecontrol: the session's CSRF token on every write (server/web/csrf.py).
 *
 * The page's <meta name="csrf-token"> holds it (only pages with a login carry one); htmx
 * sends it as the X-CSRF-Token header. Plain forms carry it as a hidden field (the
 * templates' csrf_field, added here too if a form lacks it); an upload form
 * (multipart/form-data, whose body the guard does not parse) carries it in its action's
 * query instead.
 */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta) return;
  var token = meta.getAttribute("content") || "";
  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRF-Token"] = token;
  });
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") return;
    if (form.enctype === "multipart/form-data") {
      var action = new URL(form.action, window.location.href);
      action.searchParams.set("csrf_token", token);
      form.action = action.toString();
    } else if (!form.querySelector('input[name="csrf_token"]')) {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "csrf_token";
      field.value = token;
      form.appendChild(field);
    }
  }, true);
})();
