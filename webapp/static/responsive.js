// Pages on a phone (the responsive part of app.css, docs/architecture.md "Pages on a phone").
// 1. The header's menu button: on a narrow screen the navigation and the account links fold
//    behind it (without this script they stay shown, wrapped).
// 2. Tables: at phone width a table wider than its container becomes a stack of cards (each
//    cell labelled with its column's heading); a table without headings, or any table too
//    wide on a wider screen, scrolls inside a container of its own. Tables that fit stay
//    tables. Lists refreshed in place (live.js,
//    htmx) are looked at again.
(function () {
  "use strict";
  const phone = window.matchMedia("(max-width: 640px)");

  const header = document.querySelector("header.top");
  const toggle = header && header.querySelector(".menu-toggle");
  if (header && toggle) {
    header.classList.add("has-menu");
    toggle.hidden = false;
    const show = (open) => {
      header.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    toggle.addEventListener("click", () => show(!header.classList.contains("open")));
    header.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && header.classList.contains("open")) {
        show(false);
        toggle.focus();
      }
    });
  }

  function label(table) {
    const heads = Array.from(table.querySelectorAll(":scope > thead > tr:last-child > th"));
    if (!heads.length) return false;
    const names = [];
    for (const th of heads) {
      const span = th.colSpan || 1;
      // a sortable header names its column in data-label (its text has the arrow too)
      for (let i = 0; i < span; i++) names.push(th.dataset.label || th.textContent.trim());
    }
    for (const row of table.querySelectorAll(":scope > tbody > tr")) {
      let column = 0;
      for (const cell of row.cells) {
        if (cell.colSpan > 1) cell.dataset.label = "";
        else if (!cell.hasAttribute("data-label")) cell.dataset.label = names[column] || "";
        column += cell.colSpan || 1;
      }
    }
    return true;
  }

  function fit(root) {
    // until this first runs, app.css lets a table scroll in its own box (no wide first paint)
    document.documentElement.classList.add("fitted");
    const tables = (root || document).querySelectorAll("main table");
    for (const table of tables) {
      if (table.closest(".djs-container")) continue;
      table.classList.remove("stacked");
      const box = table.parentElement;
      const style = getComputedStyle(box);
      const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      // measured with Chinese kept in words: a table of Chinese text always "fits" by breaking
      // its cells a character a line, which is what a phone must not show
      table.classList.add("measuring");
      const natural = table.offsetWidth;
      table.classList.remove("measuring");
      if (natural <= room + 1) continue;
      if (!phone.matches) {
        // wider screens keep tables as tables: one still too wide scrolls in its own box
        if (table.offsetWidth > room + 1) scrollBox(table, box);
        continue;
      }
      if (!table.classList.contains("no-stack") && label(table)) {
        table.classList.add("stacked");
      } else {
        scrollBox(table, box);
      }
    }
  }

  function scrollBox(table, box) {
    if (box.classList.contains("table-scroll")) return;
    const wrap = document.createElement("div");
    wrap.className = "table-scroll";
    table.replaceWith(wrap);
    wrap.appendChild(table);
  }

  fit();
  phone.addEventListener("change", () => fit());
  document.addEventListener("live:swapped", (event) => fit(event.target));
  document.body.addEventListener("htmx:afterSwap", (event) => fit(event.target.closest("main") ? event.target : undefined));
})();
