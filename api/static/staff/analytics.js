/* Analytics dashboard: KPIs, time series (uPlot, vendored), handoff reasons, wait-time
 * percentiles and tables from /api/analytics, for a date range. Text only ever goes into
 * the page as text (Staff.el). */
(function () {
  "use strict";
  var S = window.Staff, el = S.el;
  var $ = function (id) { return document.getElementById(id); };
  var COLORS = { green: "#146c53", blue: "#1d4f91", amber: "#9a5b00", red: "#a3231b", purple: "#5b3a99", grey: "#56636d" };
  var plots = {};
  var current = null;

  // ---- range ------------------------------------------------------------------------------
  function isoDay(d) { return d.toISOString().slice(0, 10); }
  function daysAgo(n) { var d = new Date(); d.setUTCDate(d.getUTCDate() - n); return isoDay(d); }

  function fromUrl() {
    var q = new URLSearchParams(location.search);
    $("to").value = q.get("to") || isoDay(new Date());
    $("from").value = q.get("from") || daysAgo(29);
    $("granularity").value = ["day", "week", "month"].indexOf(q.get("granularity")) >= 0 ? q.get("granularity") : "day";
  }

  function params() {
    return new URLSearchParams({ from: $("from").value, to: $("to").value, granularity: $("granularity").value }).toString();
  }

  // ---- formatting -------------------------------------------------------------------------
  function pct(v) { return v == null ? "\u2014" : (v * 100).toFixed(1) + " %"; }
  function score(v) { return v == null ? "\u2014" : Number(v).toFixed(2); }
  function secs(v) {
    if (v == null) return "\u2014";
    return v < 10 ? (Math.round(v * 10) / 10) + " s" : S.duration(v);
  }
  function num(v) { return v == null ? "\u2014" : Number(v).toLocaleString(); }
  function text(v) { return v == null ? "\u2014" : String(v); }
  function unix(day) { return Date.UTC(+day.slice(0, 4), +day.slice(5, 7) - 1, +day.slice(8, 10)) / 1000; }

  // ---- headline -----------------------------------------------------------------------------
  var KPIS = [
    ["conversations", "Conversations", num],
    ["containment", "Containment", pct, "resolved by the bot, never handed to a person"],
    ["escalation_rate", "Escalation rate", pct, "handed to a person at least once"],
    ["fcr_rate", "First-contact resolution", pct, "not reopened within 7 days, not transferred"],
    ["csat_bot_avg", "CSAT, bot-resolved", score, "average of 1\u20135 ratings"],
    ["csat_person_avg", "CSAT, person-resolved", score, "average of 1\u20135 ratings"],
    ["queue_wait_p50_s", "Queue wait p50 / p90", secs, null, "queue_wait_p90_s"],
    ["first_reply_p50_s", "First reply p50 / p90", secs, null, "first_reply_p90_s"],
    ["resolution_p50_s", "Resolution p50 / p90", secs, null, "resolution_p90_s"],
  ];

  function renderKpis(summary) {
    var values = {};
    summary.rows.forEach(function (r) { values[r.metric] = r.value; });
    var list = S.clear($("kpis"));
    KPIS.forEach(function (k) {
      var shown = k[2](values[k[0]]) + (k[4] ? " / " + k[2](values[k[4]]) : "");
      list.append(el("li", { className: "kpi card", dataset: { metric: k[0] } }, [
        el("span", { className: "kpi-label" }, k[1]),
        el("strong", { className: "kpi-value" }, shown),
        k[3] ? el("span", { className: "kpi-note muted small" }, k[3]) : null,
      ]));
    });
  }

  // ---- charts -----------------------------------------------------------------------------
  function width(node) { return Math.max(280, Math.floor(node.clientWidth)); }

  function draw(id, opts, data) {
    var node = $(id);
    if (plots[id]) plots[id].destroy();
    S.clear(node);
    opts.width = width(node);
    opts.height = opts.height || 220;
    plots[id] = new uPlot(opts, data, node);
  }

  function utc(ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); }

  function line(label, color, extra) {
    return Object.assign({ label: label, stroke: color, width: 2, points: { show: true, size: 4 }, spanGaps: true }, extra || {});
  }

  function timeOpts(series, yLabel, yScale) {
    return {
      tzDate: utc,
      scales: { x: { time: true }, y: yScale || {} },
      series: [{ label: "Period" }].concat(series),
      axes: [{ stroke: COLORS.grey }, { label: yLabel, stroke: COLORS.grey, size: 56 }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
  }

  function renderSeries(series) {
    var rows = series.rows, xs = rows.map(function (r) { return unix(r.bucket); });
    var col = function (key, scale) { return rows.map(function (r) { return r[key] == null ? null : r[key] * (scale || 1); }); };
    draw("chart-volume", timeOpts([
      line("Conversations", COLORS.green, { fill: "rgba(20,108,83,.10)" }),
      line("Handed to a person", COLORS.amber),
    ], "conversations", { range: function (u, min, max) { return [0, Math.max(1, max)]; } }), [xs, col("conversations"), col("escalated")]);
    draw("chart-rates", timeOpts([
      line("Containment", COLORS.green),
      line("Escalation rate", COLORS.red),
    ], "%", { range: [0, 100] }), [xs, col("containment", 100), col("escalation_rate", 100)]);
    draw("chart-csat", timeOpts([
      line("Bot-resolved", COLORS.blue),
      line("Person-resolved", COLORS.purple),
    ], "CSAT", { range: [1, 5] }), [xs, col("csat_bot_avg"), col("csat_person_avg")]);
  }

  var SHORT = { requested: "asked", sensitive_topic: "sensitive", low_confidence: "unsure", no_kb_answer: "no answer",
    negative_feedback: "thumbs down", frustration: "frustrated", repeated: "repeated" };

  function renderReasons(reasons) {
    var rows = reasons.rows, names = rows.map(function (r) { return SHORT[r.reason] || r.reason; });
    var xs = rows.map(function (r, i) { return i; });
    draw("chart-reasons", {
      scales: { x: { time: false, range: [-0.6, Math.max(0.6, rows.length - 0.4)] }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      series: [{ label: "Reason", value: function (u, v) { return v == null ? "" : names[v] || ""; } },
        { label: "Handoffs", stroke: COLORS.blue, fill: "rgba(29,79,145,.75)", width: 1, paths: uPlot.paths.bars({ size: [0.7, 64] }), points: { show: false } }],
      axes: [
        { stroke: COLORS.grey, splits: function () { return xs; }, values: function (u, splits) { return splits.map(function (i) { return names[i] || ""; }); }, size: 40, font: "11px system-ui, sans-serif" },
        { label: "handoffs", stroke: COLORS.grey, size: 56 },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    }, [xs, rows.map(function (r) { return r.escalations; })]);
  }

  function renderWaits(waits) {
    var rows = waits.rows, xs = rows.map(function (r) { return unix(r.bucket); });
    var minutes = function (key) { return rows.map(function (r) { return r[key] == null ? null : r[key] / 60; }); };
    draw("chart-waits", timeOpts([
      line("Queue wait p50", COLORS.green),
      line("Queue wait p90", COLORS.green, { dash: [6, 4] }),
      line("First reply p50", COLORS.blue),
      line("First reply p90", COLORS.blue, { dash: [6, 4] }),
    ], "minutes", { range: function (u, min, max) { return [0, Math.max(1, max || 0)]; } }), [xs,
      minutes("queue_wait_p50_s"), minutes("queue_wait_p90_s"), minutes("first_reply_p50_s"), minutes("first_reply_p90_s")]);
  }

  // ---- tables -----------------------------------------------------------------------------
  var TABLES = {
    wait_times: [["what", "Time", text], ["n", "Handoffs", num], ["p50_s", "p50", secs], ["p90_s", "p90", secs]],
    reasons: [["reason", "Reason", text], ["escalations", "Handoffs", num], ["share", "Share", pct]],
    csat: [["resolved_by", "Resolved by", text], ["score", "Score", text], ["ratings", "Ratings", num], ["share", "Share", pct]],
    agents: [["name", "Agent", text], ["resolved", "Resolved", num], ["handoffs_replied", "Handoffs replied", num],
      ["median_reply_s", "Median reply", secs], ["csat_avg", "CSAT", score], ["csat_n", "Ratings", num]],
    articles: [["title", "Article", text], ["served", "Served", num], ["thumbs_up", "Thumbs up", num], ["thumbs_down", "Thumbs down", num],
      ["helpful_rate", "Helpful", pct], ["handoffs_after", "Handoffs after", num], ["handoff_rate", "Handoff rate", pct], ["last_updated", "Updated", day]],
  };
  TABLES.stale_articles = TABLES.articles;

  function day(v) { return v ? String(v).slice(0, 10) : "\u2014"; }

  function renderTable(name, data, limit) {
    var cols = TABLES[name], table = S.clear($("table-" + name));
    var rows = limit ? data.rows.slice(0, limit) : data.rows;
    table.append(el("thead", null, el("tr", null, cols.map(function (c) { return el("th", { scope: "col" }, c[1]); }))));
    var body = el("tbody");
    if (!rows.length) body.append(el("tr", null, el("td", { colspan: String(cols.length), className: "muted" }, "Nothing in this range.")));
    rows.forEach(function (r) {
      body.append(el("tr", null, cols.map(function (c) {
        var value = c[0] === "title" && r.title == null ? r.slug : r[c[0]];
        return el("td", null, c[2](value));
      })));
    });
    table.append(body);
  }

  // The wait-time table from the headline numbers (the same percentiles, not queried twice).
  var TIMES = [["queue_wait", "handoff to an agent claiming it"], ["first_reply", "handoff to the first agent reply"],
    ["resolution", "handoff to resolution by a person"]];
  function waitTimes(summary) {
    var values = {};
    summary.rows.forEach(function (r) { values[r.metric] = r.value; });
    return { rows: TIMES.map(function (t) {
      return { what: t[1], n: values[t[0] + "_n"], p50_s: values[t[0] + "_p50_s"], p90_s: values[t[0] + "_p90_s"] };
    }) };
  }

  function csvLinks() {
    var query = params();
    Array.prototype.forEach.call(document.querySelectorAll("a.csv"), function (a) {
      a.href = "/api/analytics/" + a.dataset.table + ".csv?" + query;
      a.setAttribute("download", "");
    });
  }

  // ---- loading ----------------------------------------------------------------------------
  function get(name) { return S.api("GET", "/api/analytics/" + name + "?" + params()); }

  function load() {
    var query = params();
    current = query;
    $("range-error").hidden = true;
    $("loading").textContent = "Loading\u2026";
    history.replaceState(null, "", "/analytics?" + query);
    csvLinks();
    var names = ["summary", "series", "reasons", "wait_series", "csat", "agents", "articles", "stale_articles"];
    return Promise.all(names.map(get)).then(function (all) {
      if (current !== query) return;
      var got = {};
      names.forEach(function (n, i) { got[n] = all[i]; });
      renderKpis(got.summary);
      renderSeries(got.series);
      renderReasons(got.reasons);
      renderWaits(got.wait_series);
      renderTable("wait_times", waitTimes(got.summary));
      ["reasons", "csat", "agents", "stale_articles"].forEach(function (n) { renderTable(n, got[n]); });
      renderTable("articles", got.articles, 10);
      $("loading").textContent = "Showing " + got.summary.from + " to " + got.summary.to + " (UTC), per " + got.summary.granularity + ".";
      document.body.dataset.loaded = "true";
    }).catch(function (err) {
      if (err && err.status === 401) return;
      $("loading").textContent = "";
      $("range-error").textContent = (err && err.detail) || "Could not load the numbers";
      $("range-error").hidden = false;
    });
  }

  $("range-form").addEventListener("submit", function (event) {
    event.preventDefault();
    load();
  });
  Array.prototype.forEach.call(document.querySelectorAll(".quick button"), function (b) {
    b.addEventListener("click", function () {
      $("to").value = isoDay(new Date());
      $("from").value = daysAgo(Number(b.dataset.days) - 1);
      $("granularity").value = b.dataset.granularity || "day";
      load();
    });
  });
  window.addEventListener("resize", S.debounce(function () {
    Object.keys(plots).forEach(function (id) { plots[id].setSize({ width: width($(id)), height: plots[id].height }); });
  }, 150));

  fromUrl();
  load();
})();
