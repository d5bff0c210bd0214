// Bar charts drawn with the vendored ECharts from figures the page carries itself, in
// <script type="application/json" id="NAME-data">, into <div id="NAME"> (the
// Content-Security-Policy allows no inline script). One look for every chart of the site.
"use strict";

window.yilianBarChart = function (name, options) {
  function draw() {
    var box = document.getElementById(name);
    var source = document.getElementById(name + "-data");
    if (!box || !source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    var narrow = box.clientWidth < 480;
    chart.setOption({
      animation: false,
      color: data.series.map(function (s) { return options.colours[s.key] || "#3a6ea5"; }),
      // Drawn in the canvas: an HTML tooltip would carry inline styles, which the CSP refuses.
      tooltip: { trigger: "axis", renderMode: "richText", axisPointer: { type: "shadow" } },
      legend: { top: 0, left: 0, itemWidth: 14, itemHeight: 10, textStyle: { fontSize: narrow ? 11 : 12 } },
      // Room above the plot for the legend, which wraps to more lines on a phone.
      grid: { left: 4, right: 8, top: narrow ? options.gridTop.narrow : options.gridTop.wide, bottom: 4, containLabel: true },
      xAxis: {
        type: "category",
        data: options.categories(data),
        axisTick: { alignWithLabel: true },
        axisLabel: { fontSize: narrow ? 10 : 12, interval: options.everyLabel ? 0 : "auto", hideOverlap: true },
      },
      yAxis: {
        type: "value",
        minInterval: options.minInterval || 0,
        axisLabel: { fontSize: narrow ? 10 : 12, formatter: "{value}" + (data.unit || "") },
        splitLine: { lineStyle: { color: "#e1e6ec" } },
      },
      series: data.series.map(function (s, index) {
        var series = { name: s.name, type: "bar", data: s.data, barMaxWidth: 18, emphasis: { focus: "series" } };
        return options.series ? Object.assign(series, options.series(s, index, data)) : series;
      }),
    });
    box.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
};
