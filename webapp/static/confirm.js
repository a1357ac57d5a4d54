// A button with data-confirm="question" asks before its form is sent (in place of an inline
// onclick="return confirm(...)", which the Content-Security-Policy does not run).
document.addEventListener("click", function (e) {
  "use strict";
  var button = e.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) { e.preventDefault(); }
});
