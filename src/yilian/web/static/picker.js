// The resident picker (templates/_picker.html): a result tapped fills the form's hidden
// resident_id and shows who was chosen; 更换 brings the search back with the recent residents.
// No inline script: the Content-Security-Policy allows none.
"use strict";

(function () {
  function part(picker, name) {
    return picker.querySelector("[data-picker-" + name + "]");
  }

  // A button that asks once before acting for the chosen resident names him or her
  // (data-confirm-for-resident holds the sentence with "{resident}"; app.js asks).
  function ask(picker, name) {
    var form = picker.closest("form");
    (form ? form.querySelectorAll("[data-confirm-for-resident]") : []).forEach(function (button) {
      if (name) {
        button.dataset.confirm = button.dataset.confirmForResident.replace("{resident}", name);
      } else {
        delete button.dataset.confirm;
      }
    });
  }

  function choose(picker, option) {
    var value = part(picker, "value");
    value.value = option.getAttribute("data-picker-option");
    part(picker, "who").innerHTML = option.querySelector(".picker-who").innerHTML;
    part(picker, "chosen").hidden = false;
    part(picker, "search").hidden = true;
    picker.querySelectorAll(".field-error").forEach(function (note) { note.remove(); });  // answered
    ask(picker, option.querySelector(".picker-name").textContent);
    value.dispatchEvent(new Event("change", { bubbles: true }));
    part(picker, "change").focus();
  }

  function change(picker) {
    var value = part(picker, "value");
    value.value = "";
    ask(picker, null);
    value.dispatchEvent(new Event("change", { bubbles: true }));
    part(picker, "chosen").hidden = true;
    part(picker, "search").hidden = false;
    var search = part(picker, "search").querySelector("input[type=search]");
    search.focus();
    if (window.htmx) {
      window.htmx.trigger(search, "picker-reload");
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var option = target ? target.closest("[data-picker-option]") : null;
    var again = target ? target.closest("[data-picker-change]") : null;
    var picker = (option || again || document.body).closest("[data-picker]");
    if (!picker) {
      return;
    }
    if (option) {
      choose(picker, option);
    } else {
      change(picker);
    }
  });
})();
