// Draws every <div data-chart="ID"> from the JSON in <script type="application/json" id="ID">
// with Apache ECharts: bars per category, amounts in integer fen shown as yuan, ECharts' own
// round axis, a tooltip and a legend, resized with the window. No inline script (CSP).
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") { return; }  // the tables stay the charts
  var lang = document.documentElement.lang || "zh-hans";
  var zh = lang.toLowerCase().indexOf("zh") === 0;
  var yuan = new Intl.NumberFormat(zh ? "zh-CN" : "en-US", { style: "currency", currency: "CNY" });
  var compact = new Intl.NumberFormat(zh ? "zh-CN" : "en-US",
    { style: "currency", currency: "CNY", notation: "compact", maximumFractionDigits: 1 });
  function money(fen) { return yuan.format(fen / 100); }
  function short(fen) { return compact.format(fen / 100); }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(el, null, { renderer: "svg", locale: zh ? "ZH" : "EN" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: money },
      legend: { top: 0 },
      grid: { left: 8, right: 12, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.categories },
      yAxis: { type: "value", min: 0, axisLabel: { formatter: short } },
      series: data.series.map(function (s) {
        var series = { name: s.name, type: s.type === "line" ? "line" : "bar", data: s.data, barMaxWidth: 28 };
        if (s.stack) { series.stack = s.stack; }
        if (s.color) { series.itemStyle = { color: s.color }; }
        return series;
      })
    });
    el.setAttribute("data-chart-ready", "1");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
