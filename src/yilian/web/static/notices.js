// The header's unread count and live notices, from GET /api/v1/events (Server-Sent Events).
// The browser reconnects by itself and sends Last-Event-ID, so no notice is lost meanwhile.
//
// A notice about what the open page shows updates the page's part that changed, so that the
// banner never arrives over a page that still shows the old status:
// - a part marked data-live-for="<path> …" (or "*": any notice), with an id, is re-fetched and
//   replaced when a notice leads to one of those paths;
// - otherwise, when the notice leads to this very page, the page is re-fetched and its parts (the
//   children of <main>) are renewed: those that changed replaced, new ones added, gone ones removed.
// A part holding what the user is typing (a changed field, the focus) is left alone: the banner
// then offers to reload instead.
(function () {
  "use strict";
  var badge = document.querySelector("[data-notice-stream]");
  if (!badge || !window.EventSource) { return; }
  var count = badge.querySelector("[data-unread]");
  var flash = document.getElementById("flash");
  var main = document.querySelector("main");
  // Words of its own (the page's catalogue words, data-updated-text, data-stale-text and
  // data-reload-text on the badge, take precedence).
  var english = (document.documentElement.lang || "").indexOf("zh") !== 0;
  var words = {
    updated: badge.getAttribute("data-updated-text") || (english ? " (this page is updated)" : "（本页已更新）"),
    stale: badge.getAttribute("data-stale-text") || (english ? " (what you are typing was kept)" : "（您正在填写的部分未更新）"),
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

  // A part just put in the page: htmx wires it, and it glows a moment so the eye finds it.
  function show(part) {
    if (window.htmx) { window.htmx.process(part); }
    if (part.animate) {
      part.animate([{ backgroundColor: "#fff4c2" }, { backgroundColor: "transparent" }], { duration: 2000 });
    }
  }

  function swap(part, fresh) {
    part.replaceWith(fresh);
    show(fresh);
  }

  // A notice about this page renews: its marked parts (data-live-for naming the notice's path, or
  // "*"), else, when the notice leads to this very page, the page's parts (children of <main>).
  function concerns(notice) {
    var path = pathOf(notice.link);
    var marked = Array.prototype.filter.call(document.querySelectorAll("[data-live-for][id]"), function (part) {
      var paths = part.getAttribute("data-live-for").split(/\s+/);
      return paths.indexOf("*") >= 0 || (path !== null && paths.indexOf(path) >= 0);
    });
    if (marked.length) { return { marked: marked }; }
    return main && path === window.location.pathname ? { page: true } : null;
  }

  function parts(root) {
    return Array.prototype.filter.call(root.children, function (child) { return child.id !== "flash"; });
  }

  // Which part of the page a fresh part stands for: same element, same classes, same id or label.
  function signature(node) {
    return [node.tagName, node.id, node.className, node.getAttribute("aria-label") || "",
      node.getAttribute("aria-labelledby") || ""].join("|");
  }

  // Renew `old` from `fresh`; false when it holds what the user is typing (left as it is).
  function renewPart(old, fresh) {
    if (fresh.outerHTML === old.outerHTML) { return true; }
    if (beingEdited(old)) { return false; }
    swap(old, document.importNode(fresh, true));
    return true;
  }

  // The page's parts against the fresh page's, in order: changed ones replaced, new ones inserted,
  // gone ones removed (each unless being typed in). True when the page now shows it all.
  function renewPage(doc) {
    var freshMain = doc.querySelector("main");
    if (!freshMain) { return false; }
    var olds = parts(main);
    var complete = true;
    var at = 0;
    parts(freshMain).forEach(function (fresh) {
      var key = signature(fresh);
      var match = -1;
      for (var i = at; i < olds.length; i += 1) {
        if (signature(olds[i]) === key) { match = i; break; }
      }
      if (match < 0) {
        var added = document.importNode(fresh, true);
        if (at < olds.length) { olds[at].before(added); } else { main.append(added); }
        show(added);
        return;
      }
      for (; at < match; at += 1) {
        if (beingEdited(olds[at])) { complete = false; } else { olds[at].remove(); }
      }
      complete = renewPart(olds[match], fresh) && complete;
      at = match + 1;
    });
    for (; at < olds.length; at += 1) {
      if (beingEdited(olds[at])) { complete = false; } else { olds[at].remove(); }
    }
    return complete;
  }

  // Re-fetch this page and renew what the notice concerns; resolves to true when all is renewed.
  function renew(scope) {
    return fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (scope.page) { return renewPage(doc); }
        return scope.marked.map(function (part) {
          var fresh = doc.getElementById(part.id);
          return fresh ? renewPart(part, fresh) : false;
        }).every(Boolean);
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
      note.textContent = updated ? words.updated : words.stale;
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
    var scope = concerns(notice);
    if (!scope) {
      banner(notice, false, false);
      return;
    }
    renew(scope).then(function (complete) { banner(notice, complete, !complete); });
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
