// The KPI dashboard's charts (Chart.js): the chosen rate per department and per case type,
// and its trend over time beside the number of cases. Data comes from the page.
(function () {
  "use strict";
  const source = document.getElementById("kpi-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const choice = document.getElementById("kpi-choice");
  const charts = [];
  const percent = { min: 0, max: 100, ticks: { callback: (v) => v + "%" } };
  // the trend's rate axis runs a little past 100% so that a line at 100% (every case on time)
  // is drawn whole, not cut in half by the chart's top edge; no tick is labelled above 100%
  const rateWithHeadroom = {
    min: 0,
    max: 110,
    ticks: { stepSize: 20, callback: (v) => (v <= 100 ? v + "%" : "") },
    afterBuildTicks: (axis) => { axis.ticks = axis.ticks.filter((t) => t.value <= 100); },
  };

  function bars(id, series, kpi) {
    return new Chart(document.getElementById(id), {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [{ label: data.kpiLabels[kpi], data: series.rates[kpi], backgroundColor: "#b91c1c" }],
      },
      options: { maintainAspectRatio: false, scales: { y: percent }, plugins: { legend: { display: true } } },
    });
  }

  function trend(kpi) {
    return new Chart(document.getElementById("chart-trend"), {
      data: {
        labels: data.trend.labels,
        datasets: [
          { type: "line", label: data.kpiLabels[kpi], data: data.trend.rates[kpi], borderColor: "#b91c1c",
            backgroundColor: "#b91c1c", spanGaps: true, clip: false, yAxisID: "y" },
          { type: "bar", label: data.casesLabel, data: data.trend.cases, backgroundColor: "#cbd2d9", yAxisID: "cases" },
        ],
      },
      options: {
        maintainAspectRatio: false,
        onClick: (_event, elements) => openPeriod(kpi, elements),
        onHover: (event, elements) => { event.native.target.style.cursor = elements.length ? "pointer" : ""; },
        scales: { y: { ...rateWithHeadroom, position: "left" }, cases: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } },
      },
    });
  }

  // a click on a trend point opens the cases behind it (docs/lists.md): the rate's
  // denominator for the line, every case of the period for the bar; the trend table below
  // the charts links each figure too
  function openPeriod(kpi, elements) {
    if (!elements.length || !data.trend.periods || !data.casesUrl) return;
    const element = elements[0];
    const period = data.trend.periods[element.index];
    if (!period) return;
    const args = new URLSearchParams({ created_from: period[0], created_to: period[1] });
    if (element.datasetIndex === 0) {
      args.set("kpi", kpi);
      args.set("kpi_part", "d");
    } else {
      args.set("kpi", "cases");
    }
    window.location.assign(data.casesUrl + "?" + args.toString());
  }

  function draw(kpi) {
    while (charts.length) charts.pop().destroy();
    charts.push(bars("chart-departments", data.departments, kpi));
    charts.push(bars("chart-types", data.caseTypes, kpi));
    charts.push(trend(kpi));
  }

  draw(data.kpi);
  if (choice) choice.addEventListener("change", () => draw(choice.value));
})();
