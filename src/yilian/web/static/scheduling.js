// The reserved-slot pages' script (the Content-Security-Policy allows no inline script):
// the clinic office's weekly chart (questions before booking and cancelling: data-confirm, app.js).
"use strict";

(function () {
  function shortWeek(label) {
    return label.slice(5); // "2026/11/23" -> "11/23"
  }

  // Kept slots offered, booked and released per week (the clinic office's page).
  if (window.yilianBarChart) {
    window.yilianBarChart("use-chart", {
      colours: { kept_offered: "#9fb8d6", kept_booked: "#1b7f4b", released: "#d0892a" },
      gridTop: { narrow: 48, wide: 36 },
      minInterval: 1,
      categories: function (data) { return data.weeks.map(shortWeek); },
      series: function (s, index, data) {
        if (index !== 0 || !data.current) {
          return {};
        }
        return {
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { color: "#5d6b7a", type: "dashed" },
            label: { formatter: data.current_label || "", position: "insideEndTop", fontSize: 11 },
            data: [{ xAxis: shortWeek(data.current) }],
          },
        };
      },
    });
  }
})();
