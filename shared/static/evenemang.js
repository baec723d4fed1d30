// Progressive enhancement only: every page works without this file.
"use strict";

// Copy a feed address to the clipboard (calendar's subscribe page).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) return;
  navigator.clipboard.writeText(field.value).then(() => {
    const label = button.textContent;
    button.textContent = button.dataset.copied || "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Ask before a form that cannot be undone (withdraw, cancel a date).
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// A page that comes back with errors moves keyboard and screen-reader focus to their summary.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();
  // A link in the error summary to a group of boxes focuses the group's first box.
  document.querySelectorAll(".error-summary a[href^='#']").forEach((link) => {
    link.addEventListener("click", (event) => {
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      const field = target.matches("input, select, textarea, button")
        ? target : target.querySelector("input:not([type=hidden]), select, textarea");
      if (!field) return;
      event.preventDefault();
      if (target.tagName === "DETAILS") target.open = true;
      field.focus();
      target.scrollIntoView({ block: "center" });
    });
  });
});
