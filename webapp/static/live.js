// The bell and the lists that refresh by themselves (docs/notifications.md, "In the app").
//
// Every few seconds (<body data-live-interval>, seconds; paused while the tab is hidden) the
// page asks /live for its unread count and for the version token of each live list it shows
// (an element with data-live-view and data-live-version, rendered with the page). When a
// token moves, the page is fetched again and only that list's element is replaced: forms and
// filters outside it keep what was typed. If the person is inside the list (focus on one of
// its links or buttons, a box ticked, text typed), the new list waits behind a small notice
// until they ask for it; then what they typed or ticked in rows still listed is carried over. Screen readers hear of new rows through #live-status (aria-live).
(function () {
  "use strict";
  const bell = document.getElementById("bell");
  const status = document.getElementById("live-status");
  const seconds = Number(document.body.dataset.liveInterval);
  if (!bell || !status || !(seconds > 0)) return;
  const interval = Math.max(0.1, seconds) * 1000;
  const known = {}; // live view -> the token of what the page shows
  const waiting = new Map(); // region -> the newer list not yet shown
  let timer = null;
  let busy = false;
  let stopped = false;

  function regions() {
    return Array.from(document.querySelectorAll("[data-live-view][id]"));
  }
  regions().forEach((region) => {
    known[region.dataset.liveView] = region.dataset.liveVersion || "";
  });

  function say(text) {
    status.textContent = "";
    // a change of text is what screen readers announce; a new node each time says it again
    window.setTimeout(() => { status.textContent = text; }, 50);
  }

  function updateBell(count, label) {
    const badge = bell.querySelector(".bell-count");
    if (badge) {
      badge.textContent = label;
      badge.hidden = count === 0;
    }
    bell.classList.toggle("unread", count > 0);
    bell.setAttribute(
      "aria-label",
      count > 0 ? bell.dataset.labelSome.replace("{n}", label) : bell.dataset.labelNone
    );
  }

  // -- a list's region ------------------------------------------------------------------------

  function changedByHand(field) {
    if (field.type === "hidden" || field.disabled) return false;
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") return Array.from(field.options).some((o) => o.selected !== o.defaultSelected);
    return field.value !== field.defaultValue;
  }

  function inUse(region) {
    const focused = document.activeElement;
    if (focused && focused !== region && region.contains(focused)) return true;
    return Array.from(region.querySelectorAll("input, select, textarea")).some(changedByHand);
  }

  // a row's identity: its data-live-key, else where its first link goes (a table row's case)
  function rows(element) {
    return Array.from(element.querySelectorAll("[data-live-key], tbody tr"));
  }
  function key(row) {
    if (row.dataset.liveKey) return row.dataset.liveKey;
    const link = row.querySelector("a[href]");
    return link ? link.getAttribute("href") : row.textContent;
  }
  function keys(element) {
    return new Set(rows(element).map(key));
  }

  // a field the person changed, known by its id (or, for a box, its name and value)
  function fieldKey(field) {
    if (field.id) return `#${field.id}`;
    if (field.type === "checkbox" || field.type === "radio") return `${field.name}=${field.value}`;
    return null;
  }
  function changedFields(region) {
    const kept = new Map();
    region.querySelectorAll("input, select, textarea").forEach((field) => {
      const k = fieldKey(field);
      if (k && changedByHand(field)) kept.set(k, field.type === "checkbox" || field.type === "radio" ? field.checked : field.value);
    });
    return kept;
  }
  function restore(region, kept) {
    region.querySelectorAll("input, select, textarea").forEach((field) => {
      const k = fieldKey(field);
      if (!k || !kept.has(k)) return;
      if (field.type === "checkbox" || field.type === "radio") field.checked = kept.get(k);
      else field.value = kept.get(k);
    });
  }

  function swap(region, fresh) {
    waiting.delete(region);
    const notice = document.getElementById(`${region.id}-waiting`);
    if (notice) notice.remove();
    if (fresh.innerHTML === region.innerHTML) return;
    const before = keys(region);
    const kept = changedFields(region); // what was typed or ticked in rows still there stays
    region.innerHTML = fresh.innerHTML;
    restore(region, kept);
    region.dataset.liveVersion = fresh.dataset.liveVersion || "";
    let added = 0;
    rows(region).forEach((row) => {
      if (!before.has(key(row))) {
        row.classList.add("live-new");
        added += 1;
      }
    });
    if (window.htmx) window.htmx.process(region);
    say(added ? status.dataset.textNew.replace("{n}", String(added)) : status.dataset.textUpdated);
    region.dispatchEvent(new CustomEvent("live:swapped", { bubbles: true, detail: { added } }));
  }

  function wait(region, fresh) {
    waiting.set(region, fresh);
    if (document.getElementById(`${region.id}-waiting`)) return;
    const notice = document.createElement("div");
    notice.id = `${region.id}-waiting`;
    notice.className = "live-waiting";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = status.dataset.textWaiting;
    button.addEventListener("click", () => {
      const newest = waiting.get(region);
      if (!newest) return;
      swap(region, newest);
      // the button is gone: a keyboard user goes on from the top of the list they asked for
      region.tabIndex = -1;
      region.focus();
    });
    notice.appendChild(button);
    region.parentNode.insertBefore(notice, region);
    say(status.dataset.textWaiting);
  }

  function show(region, fresh) {
    if (inUse(region)) wait(region, fresh);
    else swap(region, fresh);
  }

  async function refetch(changed) {
    const response = await fetch(window.location.href, {
      headers: { "X-Live": "1" },
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
    });
    if (!response.ok) return false;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of changed) {
      const fresh = page.getElementById(region.id);
      if (fresh) show(region, fresh);
    }
    return true;
  }

  // -- the poll -------------------------------------------------------------------------------

  function schedule() {
    window.clearTimeout(timer);
    if (!stopped && !document.hidden) timer = window.setTimeout(poll, interval);
  }

  async function poll() {
    if (busy || stopped) return;
    busy = true;
    try {
      const views = Object.keys(known);
      const url = bell.dataset.poll + (views.length ? `?views=${encodeURIComponent(views.join(","))}` : "");
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "manual", // signed out: stop, and leave the message for the next page
        cache: "no-store",
      });
      if (response.type === "opaqueredirect" || response.status === 400 || response.status === 403) {
        stopped = true;
        return;
      }
      if (!response.ok) return;
      const answer = await response.json();
      updateBell(answer.unread, answer.unread_label);
      const moved = Object.entries(answer.versions || {}).filter(([view, token]) => known[view] !== token);
      const changed = regions().filter((r) => moved.some(([view]) => view === r.dataset.liveView));
      if (changed.length && (await refetch(changed))) {
        moved.forEach(([view, token]) => { known[view] = token; });
      }
      // a list that waited for the person: shown once they have left it
      waiting.forEach((fresh, region) => { if (!inUse(region)) swap(region, fresh); });
    } catch (error) {
      // offline or the server restarting: ask again next time
    } finally {
      busy = false;
      schedule();
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) window.clearTimeout(timer);
    else poll();
  });
  schedule();
})();
