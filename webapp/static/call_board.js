// The on-duty lead's board (/calls/board): waits, talk times and times in a state count up
// every second in the page. Each [data-seconds] element was rendered with its value at the
// server's "now"; it shows that plus the time since the browser first saw the element (a
// list fetched again by live.js brings new elements, with new values). The browser's own
// clock is never compared with the server's.
(function () {
  "use strict";
  const seen = new WeakMap(); // element -> performance.now() when first seen

  function format(total) {
    const s = Math.max(0, Math.floor(total));
    const hours = Math.floor(s / 3600);
    const minutes = Math.floor((s % 3600) / 60);
    const seconds = String(s % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
  }

  function tick() {
    const now = performance.now();
    document.querySelectorAll("[data-seconds]").forEach((element) => {
      if (!seen.has(element)) seen.set(element, now);
      const shown = Number(element.dataset.seconds) + (now - seen.get(element)) / 1000;
      const text = format(shown);
      if (element.textContent !== text) element.textContent = text;
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
