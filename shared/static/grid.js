// The free/busy grid (/grid), progressive enhancement only: without this file every free
// cell is a link to the filled-in request form and the weeks and filters are links and a
// form. With it: drag across free cells (several hours, several resources) or use the
// keyboard (arrows move, Space starts a selection, arrows extend it, Enter opens the form,
// Escape clears), and a new week, day or filter is fetched from the server and put in
// place without reloading the page (the address kept in step with history.replaceState).
"use strict";

(() => {
  const area = document.getElementById("fb-area");
  if (!area) return;
  const filters = document.getElementById("fb-filters");
  const phone = window.matchMedia("(max-width: 40rem)");
  let grid = null; // what the server put in data-grid: form, dates, days, times, resources
  let view = "week";
  let cells = new Map(); // "r.t.d" -> td
  let current = null; // the cell holding the keyboard focus
  let anchor = null; // where a selection started
  let selection = null; // {r0, r1, t0, t1, d}
  let dragging = false;
  let dragged = false;

  const at = (td) => td.dataset.at.split(".").map(Number);
  const cellAt = (r, t, d) => cells.get(`${r}.${t}.${d}`);
  const selectable = (td) => !!td && (td.classList.contains("fb-free") || td.classList.contains("fb-pending"));

  function setup() {
    const fb = document.getElementById("fb");
    const table = document.getElementById("fb-grid");
    grid = fb ? JSON.parse(fb.dataset.grid) : null;
    view = fb ? fb.dataset.view : "week";
    cells = new Map();
    current = anchor = selection = null;
    if (!table) return;
    table.querySelectorAll("td.fb-c").forEach((td) => {
      cells.set(td.dataset.at, td);
      const link = td.querySelector("a");
      if (link) link.tabIndex = -1;
    });
    const first = table.querySelector("td.fb-free, td.fb-pending") || table.querySelector("td.fb-c");
    if (first) roving(first);
    if (filters && fb && fb.dataset.week) {
      const week = filters.querySelector("input[name=week]");
      if (week) week.value = fb.dataset.week;
    }
  }

  function focusable(td) {
    return td.querySelector("a") || td;
  }

  function roving(td) {
    if (current && current !== td) focusable(current).tabIndex = -1;
    current = td;
    focusable(td).tabIndex = 0;
  }

  function moveTo(td) {
    if (!td) return;
    roving(td);
    focusable(td).focus();
  }

  // --- selection ------------------------------------------------------------------------------

  function rectangle(from, to) {
    const [ra, ta, d] = at(from);
    let [rb, tb, db] = at(to);
    if (db !== d) tb = db < d ? 0 : grid.times.length - 1; // a span stays within one day
    const r0 = Math.min(ra, rb), r1 = Math.max(ra, rb), t0 = Math.min(ta, tb), t1 = Math.max(ta, tb);
    for (let r = r0; r <= r1; r++) {
      for (let t = t0; t <= t1; t++) if (!selectable(cellAt(r, t, d))) return null;
    }
    return { r0, r1, t0, t1, d };
  }

  function paint(next) {
    document.querySelectorAll("#fb-grid .fb-selected").forEach((td) => td.classList.remove("fb-selected"));
    selection = next;
    const region = document.getElementById("fb-selection");
    if (!next) {
      if (region) region.textContent = "";
      return;
    }
    for (let r = next.r0; r <= next.r1; r++) {
      for (let t = next.t0; t <= next.t1; t++) cellAt(r, t, next.d).classList.add("fb-selected");
    }
    if (!region) return;
    const fb = document.getElementById("fb");
    const names = grid.resources.slice(next.r0, next.r1 + 1).map((r) => r.name).join(", ");
    const what = `${names} · ${grid.days[next.d]} ${grid.times[next.t0][0]}–${grid.times[next.t1][1]}`;
    const text = document.createElement("span");
    text.textContent = fb.dataset.selected.replace("%s", what);
    const go = document.createElement("a");
    go.className = "button";
    go.href = formUrl(next);
    go.textContent = fb.dataset.go;
    region.replaceChildren(text, go);
  }

  function nextDate(iso) {
    const day = new Date(`${iso}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() + 1);
    return day.toISOString().slice(0, 10);
  }

  function formUrl(span) {
    const date = grid.dates[span.d];
    const end = grid.times[span.t1][1];
    const query = new URLSearchParams({ date, start_time: grid.times[span.t0][0] });
    query.set("end_time", end === "24:00" ? "00:00" : end);
    if (end === "24:00") query.set("end_date", nextDate(date));
    grid.resources.slice(span.r0, span.r1 + 1).forEach((r) => query.append("resource", r.id));
    return `${grid.form}?${query}`;
  }

  function extendTo(td) {
    if (!anchor) return;
    const next = rectangle(anchor, td);
    if (next) paint(next);
  }

  // --- keyboard --------------------------------------------------------------------------------

  function neighbour(td, key) {
    let [r, t, d] = at(td);
    const rows = grid.resources.length, times = grid.times.length, days = grid.dates.length;
    const across = view === "week" ? { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }
      : { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (key === "Home") return cellAt(r, 0, d);
    if (key === "End") return cellAt(r, times - 1, d);
    const [dr, dt] = across[key];
    r += dr;
    t += dt;
    if (view === "week" && r < 0 && d > 0) { d -= 1; r = rows - 1; }
    if (view === "week" && r >= rows && d < days - 1) { d += 1; r = 0; }
    return cellAt(r, t, d);
  }

  area.addEventListener("keydown", (event) => {
    const td = event.target.closest && event.target.closest("td.fb-c");
    if (!td || !grid) return;
    const key = event.key;
    if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(key)) {
      event.preventDefault();
      const next = neighbour(td, key);
      if (!next) return;
      if (event.shiftKey && !anchor && selectable(td)) anchor = td;
      moveTo(next);
      extendTo(next);
    } else if (key === " " || key === "Spacebar") {
      event.preventDefault();
      if (!selectable(td)) return;
      anchor = td;
      paint(rectangle(td, td));
    } else if (key === "Enter" && selection) {
      event.preventDefault();
      window.location.assign(formUrl(selection));
    } else if (key === "Escape") {
      anchor = null;
      paint(null);
    }
  });

  area.addEventListener("focusin", (event) => {
    const td = event.target.closest && event.target.closest("td.fb-c");
    if (td && td !== current) roving(td);
  });

  // --- mouse: drag across free cells -----------------------------------------------------------

  area.addEventListener("pointerdown", (event) => {
    const td = event.target.closest && event.target.closest("td.fb-c");
    if (!td || event.pointerType !== "mouse" || event.button !== 0 || !selectable(td)) return;
    event.preventDefault(); // no text selection, no dragging the link away
    dragging = true;
    dragged = false;
    anchor = td;
    moveTo(td);
    paint(rectangle(td, td));
  });

  area.addEventListener("pointerover", (event) => {
    if (!dragging) return;
    const td = event.target.closest && event.target.closest("td.fb-c");
    if (!td) return;
    if (td !== anchor) dragged = true;
    extendTo(td);
  });

  document.addEventListener("pointerup", () => {
    if (!dragging) return;
    dragging = false;
    if (dragged && selection) window.location.assign(formUrl(selection));
  });

  area.addEventListener("click", (event) => {
    if (dragged && event.target.closest("td.fb-c")) {
      event.preventDefault(); // the drag has opened the form already
      return;
    }
    const link = event.target.closest("a[data-fetch]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    load(link.href, true);
  });

  // --- a new week, day or filter from the server ----------------------------------------------

  let loading = null;

  function load(url, focusHeading) {
    const wanted = new URL(url, window.location.href);
    wanted.searchParams.delete("partial");
    const fetched = new URL(wanted);
    fetched.searchParams.set("partial", "1");
    if (loading) loading.abort();
    loading = new AbortController();
    area.classList.add("fb-loading");
    fetch(fetched, { credentials: "same-origin", signal: loading.signal, headers: { Accept: "text/html" } })
      .then((response) => {
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.text();
      })
      .then((html) => {
        area.innerHTML = html;
        area.classList.remove("fb-loading");
        history.replaceState(null, "", wanted);
        setup();
        if (focusHeading) document.getElementById("fb-h")?.focus();
      })
      .catch((error) => {
        if (error.name !== "AbortError") window.location.assign(wanted); // the page itself says why
      });
  }

  function filtered(changedWeek) {
    const query = new URLSearchParams(window.location.search);
    const data = new FormData(filters);
    query.delete("resource");
    data.getAll("resource").forEach((id) => query.append("resource", id));
    if (data.get("kind")) query.set("kind", data.get("kind")); else query.delete("kind");
    if (changedWeek && data.get("week")) {
      query.set("week", data.get("week"));
      query.delete("day");
    }
    return `${window.location.pathname}?${query}`;
  }

  if (filters) {
    filters.addEventListener("change", (event) => {
      load(filtered(event.target.name === "week"), false);
    });
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      load(filtered(true), false);
    });
  }

  setup();
  // On a phone a day at a time, unless a week (or a day) was asked for.
  const fb = document.getElementById("fb");
  if (fb && phone.matches && fb.dataset.view === "week" && !fb.dataset.chosen) {
    const day = fb.querySelector("[data-view-link]");
    if (day) load(day.href, false);
  }
})();
