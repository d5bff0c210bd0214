// The reserved-slot pages' script (the Content-Security-Policy allows no inline script):
// a question before a plain form cancels an appointment, and the clinic office's weekly chart.
"use strict";

(function () {
  // <button data-confirm="..."> asks before its form is sent (htmx forms use hx-confirm instead).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button ? button.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  var COLOURS = { kept_offered: "#9fb8d6", kept_booked: "#1b7f4b", released: "#d0892a" };

  function shortWeek(label) {
    return label.slice(5); // "2026/11/23" -> "11/23"
  }

  // Kept slots offered, booked and released per week: the figures come from the page itself,
  // in <script type="application/json" id="use-chart-data">, drawn into #use-chart.
  function drawUseChart() {
    var box = document.getElementById("use-chart");
    var source = document.getElementById("use-chart-data");
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
      grid: { left: 4, right: 8, top: narrow ? 48 : 36, bottom: 4, containLabel: true },
      xAxis: {
        type: "category",
        data: data.weeks.map(shortWeek),
        axisTick: { alignWithLabel: true },
        axisLabel: { fontSize: narrow ? 10 : 12, hideOverlap: true },
      },
      yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#e1e6ec" } } },
      series: data.series.map(function (s, index) {
        var series = { name: s.name, type: "bar", data: s.data, barMaxWidth: 18, emphasis: { focus: "series" } };
        if (index === 0 && data.current) {
          series.markLine = {
            silent: true,
            symbol: "none",
            lineStyle: { color: "#5d6b7a", type: "dashed" },
            label: { formatter: data.current_label || "", position: "insideEndTop", fontSize: 11 },
            data: [{ xAxis: shortWeek(data.current) }],
          };
        }
        return series;
      }),
    });
    box.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawUseChart);
  } else {
    drawUseChart();
  }
})();
