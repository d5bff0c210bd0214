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
  // --- Ask once before what cannot be undone ----------------------------------------------------
  // data-confirm="…" (on a submit button, a form or an hx-post element) holds the sentence the
  // server wrote: what will happen, to whom, when. Only the dialog's yes sends the request.
  var WORDS = {
    zh: { yes: "确定", no: "取消", failed: "提交失败，请检查网络后重试。" },
    en: { yes: "Confirm", no: "Cancel", failed: "Could not send: check the connection and retry." },
  };
  function words() {
    return (document.documentElement.lang || "zh").indexOf("zh") === 0 ? WORDS.zh : WORDS.en;
  }

  function ask(text, yesText) {
    return new Promise(function (resolve) {
      var dialog = document.createElement("dialog");
      dialog.className = "confirm-dialog";
      var message = document.createElement("p");
      message.textContent = text;
      var actions = document.createElement("div");
      actions.className = "confirm-actions";
      var no = document.createElement("button");
      no.type = "button";
      no.className = "secondary";
      no.textContent = words().no;
      var yes = document.createElement("button");
      yes.type = "button";
      yes.textContent = yesText || words().yes;
      actions.append(no, yes);
      dialog.append(message, actions);
      document.body.append(dialog);
      var answered = false;
      function answer(value) {
        if (!answered) {
          answered = true;
          dialog.close();
          dialog.remove();
          resolve(value);
        }
      }
      no.addEventListener("click", function () { answer(false); });
      yes.addEventListener("click", function () { answer(true); });
      dialog.addEventListener("close", function () { answer(false); });
      dialog.showModal();
      no.focus();
    });
  }

  function confirmation(form, submitter) {
    var holder = submitter && submitter.dataset.confirm ? submitter : form;
    return holder.dataset.confirm ? ask(holder.dataset.confirm, holder.dataset.confirmYes) : Promise.resolve(true);
  }

  document.addEventListener("htmx:confirm", function (event) {
    var element = event.detail.elt;
    if (element && element.dataset && element.dataset.confirm) {
      event.preventDefault();
      ask(element.dataset.confirm, element.dataset.confirmYes).then(function (yes) {
        if (yes) {
          event.detail.issueRequest(true);
        }
      });
    }
  });

  // --- Forms answer inline ---------------------------------------------------------------------
  // A POST form (not htmx, not data-native) is sent by script: a redirect is followed, a
  // problem+json answer is shown beside the fields it names, and nothing typed or attached is
  // lost. The server validates; the browser's own (English) messages are switched off.
  function inline(form) {
    return form.method === "post" && !form.hasAttribute("hx-post") && !form.hasAttribute("data-native");
  }

  function quiet(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("form").forEach(function (form) {
      form.noValidate = true;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { quiet(document); });
  document.addEventListener("htmx:load", function (event) { quiet(event.detail.elt); });

  function clearErrors(form) {
    form.querySelectorAll(".field-error, .form-error").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
  }

  function fieldOf(form, name) {
    var field = form.elements.namedItem(name);
    if (field && typeof field.length === "number" && !field.tagName) {
      field = field[0];  // several fields of one name: the first
    }
    return field;
  }

  function showProblem(form, problem) {
    var general = [];
    var first = null;
    (problem.errors || []).forEach(function (error) {
      var name = String(error.field || "").split(".").pop();
      var field = name ? fieldOf(form, name) : null;
      if (!field) {
        general.push(error.message);
        return;
      }
      var group = field.type === "radio" || field.type === "checkbox" ? field.closest("fieldset") : null;
      var anchor = form.querySelector('[data-error-for="' + name + '"]') || group || field;
      var note = document.createElement("small");
      note.className = "field-error";
      note.setAttribute("role", "alert");
      note.textContent = error.message;
      if (field.type !== "hidden") {
        field.setAttribute("aria-invalid", "true");
        first = first || field;
      } else {
        first = first || note;  // a hidden field (the resident picker's): bring its message into view
      }
      anchor.insertAdjacentElement(anchor === group ? "beforeend" : "afterend", note);
    });
    if (!(problem.errors || []).length || general.length) {
      var box = document.createElement("p");
      box.className = "form-error";
      box.setAttribute("role", "alert");
      box.textContent = general.length ? general.join(" ") : problem.detail || problem.title;
      form.prepend(box);
      first = first || box;
    }
    if (first) {
      first.scrollIntoView({ block: "center" });
      if (first.focus) {
        first.focus({ preventScroll: true });
      }
    }
  }

  // Where a form's redirect leads. Back to this very page with another #fragment, assign()
  // would only scroll: the page is loaded again, at the fragment.
  function go(location) {
    var target = new URL(location, window.location.href);
    var here = window.location;
    if (target.pathname === here.pathname && target.search === here.search) {
      if (target.hash) {
        history.replaceState(null, "", target.hash);
      }
      here.reload();
    } else {
      here.assign(target.href);
    }
  }

  function send(form, submitter) {
    var body = new FormData(form, submitter);
    var buttons = form.querySelectorAll("button, input[type=submit]");
    buttons.forEach(function (button) { button.disabled = true; });
    form.setAttribute("aria-busy", "true");
    function done() {
      buttons.forEach(function (button) { button.disabled = false; });
      form.removeAttribute("aria-busy");
    }
    // getAttribute: a field named "action" would shadow form.action.
    return fetch(new URL(form.getAttribute("action") || "", window.location.href), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        "Accept": "application/problem+json",
        "X-CSRF-Token": csrfToken(),
        "X-Inline-Form": "1",
      },
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (response.status === 204 && response.headers.get("location")) {
        go(response.headers.get("location"));
        return;
      }
      if (type.indexOf("json") >= 0) {
        return response.json().then(function (problem) {
          done();
          clearErrors(form);
          showProblem(form, problem);
        });
      }
      return response.text().then(function (html) {  // a page answered the post: show it
        document.open();
        document.write(html);
        document.close();
      });
    }).catch(function () {
      done();
      clearErrors(form);
      showProblem(form, { detail: words().failed });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    if (form.hasAttribute("hx-post")) {
      return;  // htmx sends it and asks through htmx:confirm
    }
    if (form.dataset.confirmed === "1") {
      delete form.dataset.confirmed;  // a native form, confirmed: let it go
      return;
    }
    var native = !inline(form);
    var asks = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (native && !asks) {
      return;
    }
    event.preventDefault();
    confirmation(form, submitter).then(function (yes) {
      if (!yes) {
        return;
      }
      if (native) {
        form.dataset.confirmed = "1";
        form.requestSubmit(submitter);
      } else {
        send(form, submitter);
      }
    });
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

// A file input hidden behind its buttons ([data-file-choice]: 拍照 / 选择文件): the chosen files'
// names are said below them, as the browser's own (English) control would.
document.querySelectorAll("[data-file-choice]").forEach((choice) => {
  const said = choice.querySelector("[data-file-chosen]");
  const none = said.textContent;
  choice.addEventListener("change", () => {
    const names = [...choice.querySelectorAll('input[type="file"]')].flatMap((input) =>
      [...input.files].map((file) => file.name),
    );
    said.textContent = names.length ? names.join("、") : none;
  });
});
