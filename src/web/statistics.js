// The statistics page: sign in as a supervisor; pick a period (and a platform, for the
// province); the server draws the charts as SVG (the page works offline, no chart library)
// and gives every table as JSON for the page and as CSV or XLSX to download. Hot topics come
// from the work orders' summaries, segmented with jieba on the server.

import { $, api, el, percent, userSignIn, CASE_STATES, CATEGORIES } from "/static/common.js";

const CHARTS = [
  ["calls-by-hour", "left"], ["service-by-day", "left"], ["cases-by-category", "right"],
  ["on-time-by-unit", "right"], ["hot-terms", "right"],
];

const TABLES = {
  "calls-by-hour": "每小时来电", "service-by-day": "每日服务水平", "cases-by-category": "按类别",
  "cases-by-platform": "按平台", "cases-by-unit": "按承办单位", "cases-by-state": "按状态", "cases-by-channel": "按受理渠道",
  "on-time-by-unit": "承办单位按时办结率", "satisfaction": "回访满意度", "call-ratings": "来电服务评价", "hot-terms": "热点词",
  "rising-terms": "上升最快的词", "terms-by-district": "各区县热点词",
};
const CHANNELS = { phone: "电话", email: "电子邮件", sms: "短信", web: "网站", app: "手机APP", wechat: "微信" };
const RATINGS = { "satisfied": "满意", "basicallysatisfied": "基本满意", "dissatisfied": "不满意", "none": "未评价" };

let me = null;

function localDay(d) {
  return new Intl.DateTimeFormat("sv-SE", { timeZone: "Asia/Shanghai" }).format(d);
}

function query() {
  const p = new URLSearchParams({ from: $("from").value, to: $("to").value });
  if ($("platform").value) p.set("platform", $("platform").value);
  return p.toString();
}

// The report's rows of each table, as the downloads have them.
function rowsOf(r, name) {
  const n = (id) => r.names[id] ?? id;
  const counts = (m, label) => Object.entries(m).map(([k, v]) => [label(k), v]);
  switch (name) {
    case "calls-by-hour": return r.calls_by_hour.map((h) => [h.hour, h.offered, h.answered, h.abandoned]);
    case "service-by-day": return r.service_by_day.map((d) => [d.day, d.offered, d.answered, percent(d.service_level), percent(d.connection_rate)]);
    case "cases-by-category": return counts(r.cases.by_category, (k) => CATEGORIES[k] ?? k);
    case "cases-by-platform": return counts(r.cases.by_platform, n);
    case "cases-by-unit": return counts(r.cases.by_unit, n);
    case "cases-by-state": return counts(r.cases.by_state, (k) => CASE_STATES[k] ?? k);
    case "cases-by-channel": return counts(r.cases.by_channel, (k) => CHANNELS[k] ?? k);
    case "on-time-by-unit": return Object.entries(r.cases.on_time_by_unit).map(([u, t]) => [n(u), t.replied, t.on_time, percent(t.rate)]);
    case "satisfaction": return counts(r.cases.by_satisfaction, (k) => RATINGS[k] ?? k);
    case "call-ratings": return counts(r.call_ratings, (k) => RATINGS[k] ?? k);
    case "hot-terms": return r.hot_terms.map((t) => [t.term, t.cases]);
    case "rising-terms": return r.rising_terms.map((t) => [t.term, t.now, t.before, `+${t.change}`]);
    case "terms-by-district": return Object.entries(r.terms_by_district).flatMap(([d, ts]) => ts.map((t) => [d, t.term, t.cases]));
  }
  return [];
}

const HEADS = {
  "calls-by-hour": ["时段", "呼入", "接通", "放弃"], "service-by-day": ["日期", "呼入", "接通", "15 秒接通率", "接通率"],
  "on-time-by-unit": ["承办单位", "已答复", "按时", "按时率"], "rising-terms": ["词", "本期", "上期", "增加"],
  "terms-by-district": ["区县", "词", "件数"], "hot-terms": ["词", "件数"], "call-ratings": ["评价", "通数"],
};

function showTables(r) {
  const q = query();
  $("tables").replaceChildren(...Object.entries(TABLES).map(([name, title]) => {
    const box = el("div", "table-box");
    box.id = `table-${name}`;
    const head = el("h3", "", title);
    for (const format of ["csv", "xlsx"]) {
      const a = el("a", "button quiet small", format.toUpperCase());
      a.href = `/api/statistics/tables/${name}?${q}&format=${format}`;
      a.download = `${name}.${format}`;
      a.dataset.format = format;
      head.append(" ", a);
    }
    const table = el("table", "entries");
    const tr = el("tr");
    for (const h of HEADS[name] ?? ["项目", "件数"]) tr.append(el("th", "", h));
    const thead = el("thead");
    thead.append(tr);
    const tbody = el("tbody");
    const rows = rowsOf(r, name);
    for (const row of rows) {
      const line = el("tr");
      for (const cell of row) line.append(el("td", "", cell));
      tbody.append(line);
    }
    if (rows.length === 0) {
      const line = el("tr");
      const td = el("td", "meta", "本期无数据");
      td.colSpan = 5;
      line.append(td);
      tbody.append(line);
    }
    table.append(thead, tbody);
    box.append(head, table);
    return box;
  }));
}

async function run() {
  $("period-error").textContent = "";
  const q = query();
  const { status, data } = await api("GET", `/api/statistics/report?${q}`);
  if (status === 401) return signedOut();
  if (status !== 200) {
    $("period-error").textContent = data?.error ?? `统计失败（${status}）`;
    return;
  }
  // The province's supervisors choose a platform among those the report names.
  if (me?.province_wide && $("platform").options.length === 1) {
    const platforms = Object.entries(data.names).filter(([code]) => /^\d{6}$/.test(code));
    $("platform").append(...platforms.map(([code, name]) => new Option(`${name} ${code}`, code)));
  }
  const c = data.cases;
  $("summary").textContent = `${data.from} 至 ${data.to}：工单 ${c.total} 件；坐席占用率 ${percent(data.occupancy)}；` +
    `热点词对比上一周期 ${data.previous_from} 至 ${data.previous_to}。`;
  const boxes = { left: [], right: [] };
  for (const [name, side] of CHARTS) {
    const card = el("section", "card chart");
    const img = el("img");
    img.id = `chart-${name}`;
    img.alt = TABLES[name] ?? name;
    img.src = `/api/statistics/charts/${name}?${q}`;
    card.append(img);
    boxes[side].push(card);
  }
  $("charts-left").replaceChildren(...boxes.left);
  $("charts-right").replaceChildren(...boxes.right);
  showTables(data);
}

$("period-form").addEventListener("submit", (e) => {
  e.preventDefault();
  run();
});

const signedOut = userSignIn({
  accept: (s) => s.role === "supervisor" ? null : "统计分析仅供值班长使用",
  onIn(session) {
    me = session;
    $("report").hidden = false;
    const today = new Date();
    $("to").value = localDay(today);
    $("from").value = localDay(new Date(today.getTime() - 6 * 86400000));
    $("platform").replaceChildren(new Option(session.province_wide ? "全省" : session.platform_name,
      session.province_wide ? "" : session.platform));
    $("platform-box").hidden = !session.province_wide;
    run();
  },
  onOut() {
    me = null;
    $("report").hidden = true;
  },
});
