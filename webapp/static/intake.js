// The intake page: the knowledge base's "use as the answer" and Enter in its search.
(function () {
  "use strict";
  // "Use as the answer": the article becomes the answer and the outcome "answered now".
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-answer]");
    if (!button) { return; }
    var form = document.getElementById("intake-form");
    var answered = form.querySelector('input[name="intake_outcome"][value="answered"]');
    if (answered) {
      answered.checked = true;
      answered.dispatchEvent(new Event("change", { bubbles: true }));
    }
    var answer = document.getElementById("f_answer");
    if (answer) { answer.value = button.dataset.answer; answer.focus(); }
  });
  // Enter in the knowledge search looks things up; it is outside the intake form anyway.
  // (a "kb-search" event: htmx's keydown[key=='Enter'] filter would need eval, which the
  // Content-Security-Policy forbids)
  var q = document.getElementById("kb-q");
  if (q) {
    q.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") { return; }
      e.preventDefault();
      q.dispatchEvent(new CustomEvent("kb-search"));
    });
  }
})();
