// Japanese for plotly.js's own words (the chart toolbar, dates on the axes), used when
// the page is in Japanese (<html lang="ja">). Load after plotly.min.js and before
// charts.js; every chart drawn afterwards takes the page's locale. The charts' titles,
// legends and hover text come from Python, translated with the rest of the portal.
(function () {
  "use strict";
  if (typeof Plotly === "undefined") return;
  var lang = (document.documentElement.getAttribute("lang") || "").toLowerCase();
  if (lang !== "ja" && lang.indexOf("ja-") !== 0) return;
  var months = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];
  Plotly.register({
    moduleType: "locale",
    name: "ja",
    dictionary: {
      "Autoscale": "自動スケール",
      "Box Select": "矩形選択",
      "Lasso Select": "投げ縄選択",
      "Pan": "パン",
      "Zoom": "ズーム",
      "Zoom in": "拡大",
      "Zoom out": "縮小",
      "Reset": "リセット",
      "Reset axes": "軸をリセット",
      "Reset view": "表示をリセット",
      "Reset views": "表示をリセット",
      "Download plot": "グラフをダウンロード",
      "Download plot as a PNG": "グラフをPNGでダウンロード",
      "Download plot as JSON": "グラフをJSONでダウンロード",
      "Preparing image - this may take a few seconds": "画像を作成しています。数秒かかることがあります",
      "Image download succeeded": "画像をダウンロードしました",
      "Sorry, there was a problem downloading your image!": "画像のダウンロードで問題が発生しました",
      "Sorry, there was a problem downloading your JSON file!": "JSONファイルのダウンロードで問題が発生しました",
      "Toggle Spike Lines": "スパイクラインの表示を切り替え",
      "Show closest data on hover": "ホバー時に最も近いデータを表示",
      "Compare data on hover": "ホバー時にデータを比較",
      "Toggle show closest data on hover": "ホバー時に最も近いデータを表示するか切り替え",
      "Produced with Plotly.js": "Plotly.js で作成",
      "Double-click to zoom back out": "ダブルクリックでズームを戻す",
      "Double-click on legend to isolate one trace": "凡例をダブルクリックすると1系列だけを表示",
      "trace": "系列",
      "max:": "最大:",
      "min:": "最小:",
      "mean:": "平均:",
      "median:": "中央値:"
    },
    format: {
      days: ["日曜日", "月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日"],
      shortDays: ["日", "月", "火", "水", "木", "金", "土"],
      months: months,
      shortMonths: months,
      date: "%Y/%m/%d"
    }
  });
  Plotly.setPlotConfig({ locale: "ja" });
})();
