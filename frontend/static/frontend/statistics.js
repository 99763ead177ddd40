// Charts of the statistics pages, drawn with Chart.js (served from vendor/, no CDN: decision 0015).
//
//   <canvas data-chart="chart-data-bureaus"    the id of a json_script: {labels, rates: [...], classes: [...]}
//           data-series="rates"                which series to draw: rates (percent) or classes (counts)
//           data-horizontal data-stacked data-line    bars across, stacked, or a line
//           role="img" aria-label="…">         the numbers are always in a table beside the chart too
//
// Pages that re-read parts of themselves (desk_live.js) announce it with "consult:regions": new canvases
// are drawn then, charts whose canvas left the page are destroyed.
const COLOURS = {
  rates: ["#1f6feb", "#2da44e", "#bf8700", "#8250df"],
  classes: ["#2da44e", "#1f6feb", "#d4a72c", "#8c959f"],
  desk: ["#d4a72c", "#1f6feb", "#8c959f"],
};

const charts = new Map(); // canvas -> Chart

function config(canvas, data) {
  const series = canvas.dataset.series || "rates";
  const percent = series === "rates";
  const line = "line" in canvas.dataset && data.labels.length > 1; // one step: bars, a line needs two points
  const horizontal = "horizontal" in canvas.dataset;
  const stacked = "stacked" in canvas.dataset;
  const colours = COLOURS[canvas.dataset.colours || series] || COLOURS.rates;
  const datasets = data[series].map((set, i) => ({
    label: set.label,
    data: set.data,
    backgroundColor: colours[i % colours.length],
    borderColor: colours[i % colours.length],
    borderWidth: line ? 2 : 0,
    spanGaps: true,
  }));
  const valueAxis = {
    beginAtZero: true,
    stacked,
    ...(percent ? { max: 100, ticks: { callback: (v) => `${v}%` } } : { ticks: { precision: 0 } }),
  };
  const categoryAxis = { stacked, ticks: { autoSkip: false } };
  return {
    type: line ? "line" : "bar",
    data: { labels: data.labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: horizontal ? "y" : "x",
      scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: percent
            ? { label: (item) => `${item.dataset.label}: ${item.raw === null ? "—" : `${item.raw}%`}` }
            : {},
        },
      },
    },
  };
}

function draw() {
  if (!window.Chart) return; // the library did not load: the tables still say everything
  for (const [canvas, chart] of charts) {
    if (!canvas.isConnected) {
      chart.destroy();
      charts.delete(canvas);
    }
  }
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    if (charts.has(canvas)) continue;
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) continue;
    charts.set(canvas, new window.Chart(canvas, config(canvas, JSON.parse(source.textContent))));
    canvas.dataset.drawn = "true";
  }
}

// The scope form: a date typed means counting by dates, so the session choice steps aside ("any").
const scope = document.querySelector("[data-stats-scope]");
scope?.addEventListener("change", (event) => {
  if (event.target.type === "date" && event.target.value) scope.elements.year.value = "";
});

window.addEventListener("consult:regions", draw);
draw();
