// Starts Swagger UI on /docs. A static file, because the Content-Security-Policy allows no inline script.
"use strict";

window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url") || "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never call out to an outside validator
    persistAuthorization: false,
    // "Try it out" with the browser session: state-changing calls must echo the CSRF token.
    requestInterceptor: function (request) {
      if (csrf && request.method && !/^(GET|HEAD|OPTIONS)$/i.test(request.method)) {
        request.headers["X-CSRF-Token"] = csrf.getAttribute("content");
      }
      return request;
    },
  });
});
