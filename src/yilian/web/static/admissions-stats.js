// The admission numbers page: a month chosen shows at once (the 显示 button stays for no script),
// and the chart of the waits by department and tag (charts.js draws it).
"use strict";

document.querySelectorAll(".stats-filter select").forEach(function (select) {
  select.addEventListener("change", function () { select.form.requestSubmit(); });
});

window.yilianBarChart("wait-chart", {
  // Tagged in teal (the 社区签约 badge's colour), others in grey; the 90th percentile lighter.
  colours: { signed_median: "#0f766e", other_median: "#4b5563", signed_p90: "#5eead4", other_p90: "#c3c8cf" },
  gridTop: { narrow: 56, wide: 40 },
  everyLabel: true,
  categories: function (data) { return data.departments; },
  series: function (s) {
    // A department where nobody of this kind was admitted: no bar ("-" is ECharts' empty).
    return { data: s.data.map(function (v) { return v === null ? "-" : v; }), barMaxWidth: 16 };
  },
});
