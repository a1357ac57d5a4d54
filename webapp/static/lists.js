// Lists (docs/lists.md): keyboard navigation and "select all on this page".
//   j / k    move the highlighted row down / up     Enter  open the highlighted row
//   /        go to the list's search and filters     ?      show or hide the help (Esc closes)
// Keys typed in a field (input, select, textarea, contenteditable) are the field's: ignored
// here, except Esc, which leaves the field. The highlighted row is marked with aria-selected
// and the class kbd-current, and scrolled into view; its first link is focused so a screen
// reader reads it. Rows re-rendered by the live lists (live.js) are found afresh each time.
(function () {
  "use strict";

  function typing(el) {
    if (!el || el === document.body) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function table() { return document.querySelector("table[data-list]"); }

  function rows() {
    var t = table();
    if (!t) { return []; }
    return Array.prototype.filter.call(t.querySelectorAll("tbody tr"), function (tr) {
      return tr.querySelector("a[href]");
    });
  }

  function currentIndex(list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains("kbd-current")) { return i; }
    }
    return -1;
  }

  function highlight(list, index) {
    list.forEach(function (tr) {
      tr.classList.remove("kbd-current");
      tr.removeAttribute("aria-selected");
    });
    var row = list[index];
    if (!row) { return; }
    row.classList.add("kbd-current");
    row.setAttribute("aria-selected", "true");
    var link = row.querySelector("a[href]");
    if (link) { link.focus({ preventScroll: true }); }
    if (row.scrollIntoView) { row.scrollIntoView({ block: "nearest" }); }
  }

  function help() { return document.getElementById("list-keys"); }
  var opener = null;

  function showHelp(show) {
    var box = help();
    if (!box) { return; }
    if (show) {
      opener = document.activeElement;
      box.hidden = false;
      var close = box.querySelector("[data-list-keys-close]");
      if (close) { close.focus(); }
    } else if (!box.hidden) {
      box.hidden = true;
      if (opener && opener.focus) { opener.focus(); }
    }
  }

  function filterBox() {
    var form = document.querySelector("form[data-list-filters]");
    if (!form) { return null; }
    return form.querySelector("input:not([type=hidden]):not([type=checkbox]), select, textarea");
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var box = help();
    var open = box && !box.hidden;
    if (e.key === "Escape") {
      if (open) { e.preventDefault(); showHelp(false); return; }
      if (typing(e.target) && e.target.closest("form[data-list-filters]")) { e.target.blur(); }
      return;
    }
    if (typing(e.target)) { return; }
    if (open) {
      if (e.key === "?") { e.preventDefault(); showHelp(false); }
      return;
    }
    if (e.key === "?") {
      if (box) { e.preventDefault(); showHelp(true); }
      return;
    }
    if (e.key === "/") {
      var field = filterBox();
      if (field) { e.preventDefault(); field.focus(); }
      return;
    }
    var list = rows();
    if (!list.length) { return; }
    var i = currentIndex(list);
    if (e.key === "j") {
      e.preventDefault();
      highlight(list, Math.min(list.length - 1, i + 1));
    } else if (e.key === "k") {
      e.preventDefault();
      highlight(list, Math.max(0, i < 0 ? 0 : i - 1));
    } else if (e.key === "Enter" && i >= 0) {
      // a link or button that has the focus opens itself; only the row's own link is ours
      var link = list[i].querySelector("a[href]");
      if (e.target === link || !e.target.closest || !e.target.closest("a, button") ) {
        e.preventDefault();
        window.location.assign(link.href);
      }
    }
  });

  document.addEventListener("click", function (e) {
    var box = help();
    if (!box || box.hidden) { return; }
    if (e.target === box || e.target.closest("[data-list-keys-close]")) { showHelp(false); }
  });

  // "select all on this page": a header checkbox ticks the rows' checkboxes of that name
  document.addEventListener("change", function (e) {
    var all = e.target.closest && e.target.closest("input[data-select-all]");
    var boxes;
    if (all) {
      boxes = document.querySelectorAll('input[type=checkbox][name="' + all.dataset.selectAll + '"]');
      Array.prototype.forEach.call(boxes, function (b) { if (!b.disabled) { b.checked = all.checked; } });
      return;
    }
    var one = e.target;
    if (one.type !== "checkbox" || !one.name) { return; }
    var head = document.querySelector('input[data-select-all="' + one.name + '"]');
    if (!head) { return; }
    boxes = Array.prototype.slice.call(document.querySelectorAll('input[type=checkbox][name="' + one.name + '"]'));
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    head.checked = ticked === boxes.length && ticked > 0;
    head.indeterminate = ticked > 0 && ticked < boxes.length;
  });
})();
