// The screen pop on the intake page (docs/calls.md, "Screen pop").
//
// Every HOTLINE_SCREEN_POP_POLL_SECONDS (#screen-pop data-interval; paused while the tab is
// hidden; nothing when 0) the page asks GET /calls/pop?seen=N. 204: no call rang or was
// answered here since. Otherwise the call comes with its banner and the caller's history:
// the banner replaces #screen-pop's content, the history fills #pop-history, the call's id
// goes into the intake form's hidden call_id, and the caller's number into the phone field,
// but only if the field is empty or still holds the previous pop's number (what the
// operator typed is never overwritten). The banner's two small forms (no case with a
// reason; about an earlier case) are sent in the background and their answer replaces
// the banner; without script they are plain forms.
(function () {
  "use strict";
  const box = document.getElementById("screen-pop");
  if (!box) return;
  const history = document.getElementById("pop-history");
  const callField = document.getElementById("intake-call-id");
  const phone = document.getElementById("f_caller_phone");
  const seconds = Number(box.dataset.interval);
  let seen = Number(box.dataset.seen) || 0;
  let popped = box.dataset.caller || ""; // the number the last pop put in the form
  let timer = null;
  let busy = false;
  let stopped = false;

  function prefill(number) {
    if (!phone || !number) return;
    const current = phone.value.trim();
    if (current !== "" && current !== popped) return; // the operator's own typing stays
    if (current !== number) {
      phone.value = number;
      // the earlier-cases panel (htmx) listens to the field's input and change
      phone.dispatchEvent(new Event("input", { bubbles: true }));
      phone.dispatchEvent(new Event("change", { bubbles: true }));
    }
    popped = number;
  }

  function show(answer) {
    seen = answer.seq;
    box.innerHTML = answer.banner;
    if (history) {
      history.innerHTML = answer.history;
      history.hidden = false;
    }
    if (callField) callField.value = answer.call.call_id;
    prefill(answer.call.caller);
    box.dataset.caller = popped;
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!stopped && !document.hidden) timer = window.setTimeout(poll, Math.max(0.1, seconds) * 1000);
  }

  async function poll() {
    if (busy || stopped) return;
    busy = true;
    try {
      const response = await fetch(`${box.dataset.poll}?seen=${encodeURIComponent(seen)}`, {
        headers: { Accept: "application/json", "X-Live": "1" }, // not use: the session may idle out
        credentials: "same-origin",
        redirect: "manual", // signed out: stop
        cache: "no-store",
      });
      if (response.type === "opaqueredirect" || response.status === 400 || response.status === 403) {
        stopped = true;
        return;
      }
      if (response.status === 200) show(await response.json());
      else if (response.status === 204) {
        // a call that rang here was given up before we asked: nothing to show, move on
        const skipped = Number(response.headers.get("X-Pop-Seq"));
        if (skipped > seen) seen = skipped;
      }
    } catch (error) {
      // offline or the server restarting: ask again next time
    } finally {
      busy = false;
      schedule();
    }
  }

  // the banner's forms, sent in the background: the answer is the banner again
  box.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-pop-form]");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Pop": "1" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok || response.status === 422) {
        box.innerHTML = await response.text();
        // recorded (no case, or an earlier case): a case typed now is not linked to it
        if (response.ok && callField) callField.value = "";
        const focus = box.querySelector("[role=alert], .pop-done");
        if (focus) { focus.tabIndex = -1; focus.focus(); }
        return;
      }
      form.submit(); // anything else: the plain form shows what happened
    } catch (error) {
      form.submit();
    } finally {
      if (button && button.isConnected) button.disabled = false;
    }
  });

  if (!(seconds > 0)) return;
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) window.clearTimeout(timer);
    else poll();
  });
  schedule();
})();
