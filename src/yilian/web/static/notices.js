// The header's unread count and live notices, from GET /api/v1/events (Server-Sent Events).
// The browser reconnects by itself and sends Last-Event-ID, so no notice is lost meanwhile.
//
// A notice about what the open page shows updates the page's part that changed, so that the
// banner never arrives over a page that still shows the old status:
// - a part marked data-live-for="<path> …" (or "*": any notice), with an id, is re-fetched and
//   replaced when a notice leads to one of those paths;
// - otherwise, when the notice leads to this very page, the page is re-fetched and each of its
//   parts (the children of <main>) that differs is replaced.
// A part holding what the user is typing (a changed field, the focus) is left alone: the banner
// then offers to reload instead.
(function () {
  "use strict";
  var badge = document.querySelector("[data-notice-stream]");
  if (!badge || !window.EventSource) { return; }
  var count = badge.querySelector("[data-unread]");
  var flash = document.getElementById("flash");
  var main = document.querySelector("main");
  // Two words of its own (the page's catalogue words, data-updated-text / data-reload-text on
  // the badge, take precedence).
  var english = (document.documentElement.lang || "").indexOf("zh") !== 0;
  var words = {
    updated: badge.getAttribute("data-updated-text") || (english ? " (this page is updated)" : "（本页已更新）"),
    reload: badge.getAttribute("data-reload-text") || (english ? " Reload this page" : " 刷新本页"),
  };

  function pathOf(link) {
    return link ? new URL(link, window.location.href).pathname : null;
  }

  function beingEdited(part) {
    if (part.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) {
      return true;
    }
    return Array.prototype.some.call(part.querySelectorAll("input, textarea, select"), function (field) {
      if (field.type === "hidden") { return false; }
      if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return field.value !== field.defaultValue;
    });
  }

  function swap(part, fresh) {
    part.replaceWith(fresh);
    if (window.htmx) { window.htmx.process(fresh); }
    if (fresh.animate) {
      fresh.animate([{ backgroundColor: "#fff4c2" }, { backgroundColor: "transparent" }], { duration: 2000 });
    }
  }

  // The parts to renew for this notice: [{part, find(freshDocument)}]; none when it is not about this page.
  function partsFor(notice) {
    var path = pathOf(notice.link);
    var marked = Array.prototype.filter.call(document.querySelectorAll("[data-live-for][id]"), function (part) {
      var paths = part.getAttribute("data-live-for").split(/\s+/);
      return paths.indexOf("*") >= 0 || (path !== null && paths.indexOf(path) >= 0);
    });
    if (marked.length) {
      return marked.map(function (part) {
        return { part: part, find: function (doc) { return doc.getElementById(part.id); } };
      });
    }
    if (!main || path !== window.location.pathname) { return []; }
    return Array.prototype.filter.call(main.children, function (child) { return child.id !== "flash"; })
      .map(function (part, index) {
        return {
          part: part,
          find: function (doc) {
            var fresh = doc.querySelector("main");
            var children = fresh ? Array.prototype.filter.call(fresh.children, function (c) { return c.id !== "flash"; }) : [];
            return children.length === main.children.length - 1 ? children[index] : null;
          },
        };
      });
  }

  // Re-fetch this page and renew the parts; resolves to true when the page now shows it all.
  function renew(parts) {
    if (!parts.length) { return Promise.resolve(false); }
    return fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var complete = true;
        parts.forEach(function (entry) {
          var fresh = entry.find(doc);
          if (!fresh) { complete = false; return; }
          if (fresh.outerHTML === entry.part.outerHTML) { return; }
          if (beingEdited(entry.part)) { complete = false; return; }
          swap(entry.part, document.importNode(fresh, true));
        });
        return complete;
      })
      .catch(function () { return false; });
  }

  function banner(notice, updated, stale) {
    if (!flash) { return; }
    var item = document.createElement("div");
    item.className = "flash flash-ok";
    item.setAttribute("role", "status");
    item.setAttribute("data-live-notice", notice.kind);
    var link = document.createElement("a");
    link.href = notice.link || "/notices";
    link.textContent = notice.title + "：" + notice.body;
    item.appendChild(link);
    if (updated || stale) {
      var note = document.createElement("small");
      note.setAttribute(updated ? "data-live-updated" : "data-live-stale", "");
      note.textContent = updated ? words.updated : "";
      if (stale) {
        var reload = document.createElement("a");
        reload.href = window.location.href;
        reload.textContent = words.reload;
        note.appendChild(reload);
      }
      item.appendChild(note);
    }
    flash.prepend(item);
  }

  var source = new EventSource(badge.getAttribute("data-notice-stream"));
  source.addEventListener("unread", function (event) {
    var n = parseInt(event.data, 10) || 0;
    count.textContent = String(n);
    badge.classList.toggle("has-unread", n > 0);
  });
  source.addEventListener("notice", function (event) {
    var notice = JSON.parse(event.data);
    var parts = partsFor(notice);
    renew(parts).then(function (complete) {
      banner(notice, parts.length > 0 && complete, parts.length > 0 && !complete);
    });
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
