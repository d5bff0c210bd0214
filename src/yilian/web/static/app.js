// Yilian's few lines of script (the Content-Security-Policy allows no inline script).
"use strict";

(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every htmx request carries the CSRF token (the server refuses unsafe requests without it),
  // and asks for HTML: an error then comes back as a fragment, not as problem+json.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
    event.detail.headers["Accept"] = "text/html";
  });

  // Errors come back as a small fragment: show it in #flash instead of the requested target.
  // A request whose session ended lands on the sign-in page: go there for real.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var landed = xhr && xhr.responseURL ? new URL(xhr.responseURL) : null;
    if (landed && landed.pathname === "/login" && window.location.pathname !== "/login") {
      event.detail.shouldSwap = false;
      window.location.assign(landed.pathname + landed.search);
      return;
    }
    if (xhr && xhr.status >= 400) {
      var flash = document.getElementById("flash");
      if (flash) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
        event.detail.target = flash;
        event.detail.swapOverride = "innerHTML";
      }
    }
  });

  // A new request clears the last error.
  document.addEventListener("htmx:beforeRequest", function () {
    var flash = document.getElementById("flash");
    if (flash) {
      flash.replaceChildren();
    }
  });

  // Close an open drop-down menu when the user taps elsewhere or presses Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.removeAttribute("open");
      }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
        menu.removeAttribute("open");
      });
    }
  });
  // Free text with an ID number or a phone in it: the other side will see it masked. Warn the
  // author beside the form (non-blocking) while typing; core.masking is the rule on the server.
  var PERSONAL = /\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx]|(?:^|\D)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)/;
  document.addEventListener("input", function (event) {
    var form = event.target && event.target.form;
    var warning = form ? form.querySelector("[data-personal-warning]") : null;
    if (!warning) {
      return;
    }
    var fields = form.querySelectorAll("textarea, input:not([type]), input[type=text]");
    warning.hidden = !Array.prototype.some.call(fields, function (field) {
      return PERSONAL.test(field.value);
    });
  });
})();
