// The header's unread count and live notices, from GET /api/v1/events (Server-Sent Events).
// The browser reconnects by itself and sends Last-Event-ID, so no notice is lost meanwhile.
(function () {
  "use strict";
  var badge = document.querySelector("[data-notice-stream]");
  if (!badge || !window.EventSource) { return; }
  var count = badge.querySelector("[data-unread]");
  var flash = document.getElementById("flash");
  var source = new EventSource(badge.getAttribute("data-notice-stream"));
  source.addEventListener("unread", function (event) {
    var n = parseInt(event.data, 10) || 0;
    count.textContent = String(n);
    badge.classList.toggle("has-unread", n > 0);
  });
  source.addEventListener("notice", function (event) {
    var notice = JSON.parse(event.data);
    if (!flash) { return; }
    var item = document.createElement("div");
    item.className = "flash flash-ok";
    item.setAttribute("role", "status");
    item.setAttribute("data-live-notice", notice.kind);
    var link = document.createElement("a");
    link.href = notice.link || "/notices";
    link.textContent = notice.title + "：" + notice.body;
    item.appendChild(link);
    flash.prepend(item);
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
