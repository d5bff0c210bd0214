// The referral pages' few lines of script (the Content-Security-Policy allows no inline script):
// the sheet's 打印 button.
"use strict";

document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
