// Keyboard-only forms: Enter in a one-line field moves to the next field instead of
// submitting by accident (textareas keep their Enter); Ctrl+Enter submits.
(function () {
  "use strict";
  document.querySelectorAll("form[data-keyboard]").forEach(function (form) {
    var first = form.querySelector(".has-error input:not([type=hidden]), .has-error textarea, .has-error select")
      || (form.dataset.first && document.getElementById(form.dataset.first))
      || form.querySelector(".field input:not([type=hidden]), .field select, .field textarea");
    if (first) { first.focus(); }
    form.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") { return; }
      if (e.ctrlKey || e.metaKey) { e.preventDefault(); form.requestSubmit(); return; }
      var t = e.target;
      if (t.tagName === "TEXTAREA" || t.tagName === "BUTTON" || t.type === "submit") { return; }
      e.preventDefault();
      var items = Array.prototype.filter.call(
        form.querySelectorAll("input:not([type=hidden]), select, textarea, button"),
        function (el) { return !el.disabled && !el.closest("[hidden]"); });
      var i = items.indexOf(t);
      while (i >= 0 && i + 1 < items.length && t.name && items[i + 1].name === t.name) { i++; }
      if (i >= 0 && i + 1 < items.length) { items[i + 1].focus(); }
    });
  });
})();
