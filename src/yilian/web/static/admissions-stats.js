// The admission numbers page's chart (the Content-Security-Policy allows no inline script): the
// waits by department and tag, from <script type="application/json" id="wait-chart-data">, drawn
// into #wait-chart with the vendored ECharts.
"use strict";

(function () {
  // Tagged in teal (the 社区签约 badge's colour), others in grey; the 90th percentile lighter.
  var COLOURS = { signed_median: "#0f766e", other_median: "#4b5563", signed_p90: "#5eead4", other_p90: "#c3c8cf" };

  function drawWaitChart() {
    var box = document.getElementById("wait-chart");
    var source = document.getElementById("wait-chart-data");
    if (!box || !source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    var narrow = box.clientWidth < 480;
    chart.setOption({
      animation: false,
      color: data.series.map(function (s) { return COLOURS[s.key] || "#3a6ea5"; }),
      // Drawn in the canvas: an HTML tooltip would carry inline styles, which the CSP refuses.
      tooltip: { trigger: "axis", renderMode: "richText", axisPointer: { type: "shadow" } },
      legend: { top: 0, left: 0, itemWidth: 14, itemHeight: 10, textStyle: { fontSize: narrow ? 11 : 12 } },
      grid: { left: 4, right: 8, top: narrow ? 56 : 40, bottom: 4, containLabel: true },
      xAxis: {
        type: "category",
        data: data.departments,
        axisTick: { alignWithLabel: true },
        axisLabel: { fontSize: narrow ? 10 : 12, interval: 0, hideOverlap: true },
      },
      yAxis: {
        type: "value",
        axisLabel: { formatter: "{value}" + data.unit, fontSize: narrow ? 10 : 12 },
        splitLine: { lineStyle: { color: "#e1e6ec" } },
      },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          // A department where nobody of this kind was admitted: no bar ("-" is ECharts' empty).
          data: s.data.map(function (v) { return v === null ? "-" : v; }),
          barMaxWidth: 16,
          emphasis: { focus: "series" },
        };
      }),
    });
    box.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawWaitChart);
  } else {
    drawWaitChart();
  }
})();
