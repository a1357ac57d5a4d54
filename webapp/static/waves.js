// A hot-topic wave's daily trend (Chart.js); the data comes from the page (#wave-data).
(function () {
  "use strict";
  const source = document.getElementById("wave-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(document.getElementById("chart-wave"), {
    type: "bar",
    data: { labels: data.labels, datasets: [{ label: data.label, data: data.counts, backgroundColor: "#b91c1c" }] },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
})();
