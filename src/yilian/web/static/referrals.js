// The referral pages' few lines of script (the Content-Security-Policy allows no inline script):
// the names of the files chosen under 拍照 / 选择文件, and the sheet's 打印 button.
"use strict";

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

document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
