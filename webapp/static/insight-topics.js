// The topics and areas page's charts (Chart.js): cases per week or month, and per category
// and area beside the previous period. Data comes from the page's JSON block.
(function () {
  "use strict";
  const source = document.getElementById("topics-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const options = { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } };

  new Chart(document.getElementById("chart-topics-trend"), {
    type: "bar",
    data: { labels: data.trend.labels, datasets: [{ label: data.casesLabel, data: data.trend.counts, backgroundColor: "#b91c1c" }] },
    options: options,
  });
  function compared(id, series) {
    return new Chart(document.getElementById(id), {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [
          { label: data.casesLabel, data: series.counts, backgroundColor: "#b91c1c" },
          { label: data.previousLabel, data: series.previous, backgroundColor: "#cbd2d9" },
        ],
      },
      options: options,
    });
  }
  compared("chart-topics-categories", data.categories);
  compared("chart-topics-areas", data.areas);
})();
