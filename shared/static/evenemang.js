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

// The repeat rule as a sentence while it is entered (the request form): "every Wednesday,
// 4 times, until 30 Dec", worded from the page's own catalogue words (data-words).
document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("repeat-sentence");
  const form = out && out.closest("form");
  if (!form) return;
  const words = JSON.parse(out.dataset.words);
  const fill = (pattern, values) => pattern.replace(/%\((\w+)\)s/g, (_, key) => values[key]);
  const day = (value) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(value + "T00:00:00Z") : null);
  const codes = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const join = (names) => (names.length < 2 ? names.join("")
    : `${names.slice(0, -1).join(", ")} ${words.and} ${names[names.length - 1]}`);

  function extent(first, days, count, until) {
    // The dates of a weekly rule from the first: how many, and the last one.
    let n = 0; let last = null;
    for (let d = new Date(first), i = 0; i < 3660; i += 1, d.setUTCDate(d.getUTCDate() + 1)) {
      if (!days.includes((d.getUTCDay() + 6) % 7)) continue;
      if (until && d > until) break;
      n += 1; last = new Date(d);
      if (count && n === count) break;
    }
    return [n, last];
  }

  function sentence() {
    if (!form.querySelector("#repeat-weekly:checked")) return "";
    const days = codes.map((c, i) => (form.querySelector(`#weekday-${c}:checked`) ? i : -1))
      .filter((i) => i >= 0);
    if (!days.length) return "";
    const parts = [fill(words.every, { days: join(days.map((i) => words.days[i])) })];
    const first = day(form.elements.date.value);
    const byDate = form.querySelector("#repeat_end-until:checked");
    let count = byDate ? null : parseInt(form.elements.repeat_count.value, 10);
    let last = byDate ? day(form.elements.repeat_until.value) : null;
    if (!(count >= 1 && count <= 500)) count = null;
    if (first && (count || last)) [count, last] = extent(first, days, count, last);
    if (count) parts.push(count === 1 ? words.once : fill(words.times, { n: count }));
    if (last) {
      const year = !first || last.getUTCFullYear() !== first.getUTCFullYear();
      const shown = `${last.getUTCDate()} ${words.months[last.getUTCMonth()]}`;
      parts.push(fill(words.until, { date: year ? `${shown} ${last.getUTCFullYear()}` : shown }));
    }
    return parts.join(", ");
  }

  const update = () => {
    const text = sentence();
    out.hidden = !text;
    out.querySelector("[data-sentence]").textContent = text;
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
});
