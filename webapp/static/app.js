// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // form-js "conditional.hide" for the simple comparisons our forms use:
  //   =field = "value", =field != "value" (joined with and/or). Anything else stays visible;
  //   the server decides what is required either way.
  function valueOf(form, key) {
    const checked = form.querySelector(`[name="${key}"]:checked`);
    if (checked) return checked.value;
    const el = form.querySelector(`[name="${key}"]:not([type=hidden])`);
    return el ? el.value : null;
  }
  function test(form, expr) {
    const m = expr.match(/^=\s*(.+)$/);
    if (!m) return false;
    const parts = m[1].split(/\s+(and|or)\s+/);
    let result = null, join = null;
    for (const part of parts) {
      if (part === "and" || part === "or") { join = part; continue; }
      const c = part.match(/^\(?\s*([A-Za-z_]\w*)\s*(!=|=)\s*"([^"]*)"\s*\)?$/);
      if (!c) return false;
      const v = valueOf(form, c[1]);
      const r = c[2] === "=" ? v === c[3] : v !== c[3];
      result = result === null ? r : join === "and" ? result && r : result || r;
    }
    return !!result;
  }
  function apply(form) {
    form.querySelectorAll("[data-hide]").forEach((field) => {
      field.hidden = test(form, field.dataset.hide);
    });
  }
  document.addEventListener("change", (e) => {
    const form = e.target.closest("form");
    if (form) apply(form);
  });
  // A live count for text with a limit: the server refuses too long text (it is never cut),
  // counted as it counts it: characters (not UTF-16 units), without surrounding blanks, a line
  // break as the CR LF a browser sends.
  function count(field) {
    const out = document.getElementById(`${field.id}_count`);
    if (!out) return;
    const limit = Number(field.dataset.maxlength);
    const n = [...field.value.trim().replace(/\r?\n/g, "\r\n")].length;
    out.textContent = `${n} / ${limit}`;
    out.classList.toggle("over", n > limit);
  }
  document.addEventListener("input", (e) => {
    if (e.target.dataset && e.target.dataset.maxlength) count(e.target);
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form").forEach(apply);
    document.querySelectorAll("[data-maxlength]").forEach(count);
  });
  document.addEventListener("htmx:afterSwap", (e) => e.target.querySelectorAll("form").forEach(apply));
})();

// A "Print" link (data-print): the browser's print dialog, with static/print.css.
document.addEventListener("click", (e) => {
  const link = e.target.closest && e.target.closest("[data-print]");
  if (!link) return;
  e.preventDefault();
  window.print();
});
