// The supervisors' wallboard: sign in as a supervisor of users.toml; the board arrives over
// Server-Sent Events (/api/wallboard/events) each time it changes, with no polling: callers
// waiting, seats with their call (a supervisor sets a seat available, not ready or signed
// out), the standard's figures against their targets (red when missed), cases due soon and
// overdue, callers owed a callback, and the latest case steps.

import { $, api, chinese, cst, el, percent, userSignIn, CASE_STATES, SEAT_STATES, STEPS } from "/static/common.js";
import { Phone } from "/static/phone.js";

let source = null; // the EventSource
let me = null;

const KINDS = { "dispatch": "派单", "sign": "签收", "handle": "办理" };
const REASONS = { "voicemail": "留言", "abandoned": "排队放弃" };

function seconds(s) {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  return s < 60 ? `${s} 秒` : `${Math.floor(s / 60)} 分 ${s % 60} 秒`;
}

// One figure: its name, value, and whether it misses its target.
function tile(id, name, value, note, missed) {
  const t = el("div", missed ? "tile missed" : "tile");
  t.id = id;
  t.dataset.missed = missed ? "true" : "false";
  t.append(el("span", "name", name), el("strong", "value", value));
  if (note) t.append(el("span", "note", note));
  return t;
}

function showTiles(b) {
  const missed = new Set(b.missed);
  const t = b.targets;
  $("tiles").replaceChildren(
    tile("kpi-waiting", "排队人数", b.live.waiting, `最长等待 ${seconds(b.live.longest_wait_s)}`, false),
    tile("kpi-sl-today", "今日 15 秒接通率", percent(b.today.service_level),
      `目标 ≥ ${percent(t.service_level)} · 30 秒 ${percent(b.today.service_level_long)}`, missed.has("service_level_today")),
    tile("kpi-sl-hour", "近 1 小时 15 秒接通率", percent(b.last_hour.service_level),
      `呼入 ${b.last_hour.offered}`, missed.has("service_level_last_hour")),
    tile("kpi-connection", "24 小时接通率", percent(b.connection_rate_24h),
      `国标 ≥ ${percent(t.connection_rate)}`, missed.has("connection_rate_24h")),
    tile("kpi-offered", "今日呼入", b.today.offered,
      `接通 ${b.today.answered} · 放弃 ${b.today.abandoned}（其中 ${b.short_abandon_s} 秒内 ${b.today.short_abandoned}）· 转留言 ${b.today.overflowed}`, false),
    tile("kpi-asa", "平均应答时长", seconds(b.today.average_speed_of_answer),
      `平均通话 ${seconds(b.today.average_handling_time)}`, false),
    tile("kpi-occupancy", "坐席占用率", percent(b.live.occupancy_now), `今日 ${percent(b.occupancy_today)}`, false),
    tile("kpi-callbacks", "待回访", b.callbacks_total, "留言与排队放弃", false),
  );
}

async function setSeat(id, state) {
  $("seat-error").textContent = "";
  const body = state === "not-ready" ? { state, reason: "值班长置忙" } : { state };
  const { status, data } = await api("POST", `/api/agents/${encodeURIComponent(id)}/state`, body);
  if (status === 401) return signedOut();
  if (status !== 202) $("seat-error").textContent = `坐席 ${id}：${chinese(data?.error ?? String(status))}`;
}

// Listens in on a seat's call (the supervisor's own phone rings), switches mode, or stops.
async function monitor(call, mode) {
  $("seat-error").textContent = "";
  $("seat-note").textContent = "";
  if (!call) return;
  const path = `/api/calls/${encodeURIComponent(call)}/monitor`;
  // The page's phone may ring before the answer comes back: it is expected from now on.
  if (mode !== "stop") wanted = { call, mode, at: Date.now() };
  const { status, data } = mode === "stop"
    ? await api("DELETE", path)
    : await api("POST", path, { mode });
  if (status !== 200) {
    wanted = null;
    $("seat-error").textContent = `监听：${chinese(data?.error ?? String(status))}`;
    return;
  }
  if (mode !== "stop" && talking) $("monitor-status").textContent = `${MODES[mode]}中`;
  const inPage = $("phone-on").checked;
  $("seat-note").textContent = mode === "stop" ? "已结束监听" : inPage ? "正在接入本页面…" : "已呼叫您的话机，请接听";
}

// The supervisor's own phone in the page (users.toml `seat`): the calls the server makes to
// listen in ring here. One the supervisor just asked for is answered at once; any other
// waits for 接听.
const MODES = { listen: "监听", whisper: "耳语", barge: "强插" };
let wanted = null; // the call last asked to listen in on, and when
let ringing = null; // the offered leg and its call
let talking = null; // the leg up in the page

function phoneButtons() {
  $("monitor-answer").hidden = !ringing;
  $("monitor-hang-up").hidden = !talking;
  $("meter").hidden = !talking;
}

async function answer() {
  const { leg, call } = ringing;
  ringing = null;
  phoneButtons();
  try {
    await phone.answer(leg);
    $("monitor-status").textContent = `接通中：${call.case_number}`;
  } catch (e) {
    $("monitor-status").textContent = `无法接听：${e.message}`;
  }
}

const phone = new Phone({
  ready: () => {
    $("phone-state").textContent = $("phone-on").checked ? "电话：浏览器（本页面）" : "电话：SIP 话机";
  },
  offer: (leg, call, inPage) => {
    if (!inPage) return;
    ringing = { leg, call };
    $("monitor-status").textContent = `振铃：坐席通话 ${call.case_number}`;
    phoneButtons();
    if (wanted?.call === call.call_id && Date.now() - wanted.at < 30000) answer();
  },
  connected: (leg) => {
    talking = leg;
    $("monitor-status").dataset.leg = leg;
    $("monitor-status").textContent = `${MODES[wanted?.mode] ?? "监听"}中`;
    $("seat-note").textContent = "";
    phoneButtons();
  },
  ended: (leg) => {
    if (ringing?.leg === leg) ringing = null;
    if (talking === leg) talking = null;
    $("monitor-status").textContent = "监听已结束";
    delete $("monitor-status").dataset.leg;
    phoneButtons();
  },
  error: (message) => { $("seat-error").textContent = message; },
  closed: () => {
    $("phone-state").textContent = $("phone-on").checked ? "电话：未连接" : "电话：SIP 话机";
  },
});

$("phone-on").addEventListener("change", () => {
  if ($("phone-on").checked) phone.open(true);
  else phone.close();
});
$("monitor-answer").addEventListener("click", () => ringing && answer());
$("monitor-hang-up").addEventListener("click", () => talking && phone.hangUp(talking));

// Seats at work first, signed-out seats last.
const ORDER = ["on-call", "ringing", "wrap-up", "available", "not-ready", "logged-out"];

// Each seat's row, kept from board to board: its cells change in place, so that a button is
// never replaced under the supervisor's pointer.
const seatRows = new Map();

function seatRow(id) {
  let tr = seatRows.get(id);
  if (tr) return tr;
  tr = el("tr", "seat");
  tr.dataset.seat = id;
  tr.append(el("td", "", id), el("td", "state"), el("td"), el("td"), el("td"));
  const actions = el("td");
  for (const [to, label] of [["available", "置闲"], ["not-ready", "示忙"], ["logged-out", "签出"]]) {
    const button = el("button", "small quiet", label);
    button.dataset.to = to;
    button.addEventListener("click", () => setSeat(id, to));
    actions.append(button);
  }
  // On the seat's call: the supervisor's phone rings to listen, whisper or barge in.
  for (const [mode, label] of [["listen", "监听"], ["whisper", "耳语"], ["barge", "强插"], ["stop", "结束监听"]]) {
    const button = el("button", "small monitor", label);
    button.dataset.mode = mode;
    button.addEventListener("click", () => monitor(tr.dataset.call, mode));
    actions.append(button);
  }
  tr.append(actions);
  seatRows.set(id, tr);
  return tr;
}

function showSeats(b) {
  const seats = b.seats.slice().sort((x, y) => ORDER.indexOf(x.state) - ORDER.indexOf(y.state) || x.id.localeCompare(y.id));
  const rows = seats.map((s) => {
    const tr = seatRow(s.id);
    tr.className = `seat ${s.state}`;
    tr.dataset.state = s.state;
    const since = (Date.now() - Date.parse(s.since)) / 1000;
    const texts = [s.id, SEAT_STATES[s.state] + (s.reason ? `（${s.reason}）` : ""), seconds(since),
      s.call ? `通话 ${seconds(s.talking_s)}` : "", String(s.calls_taken)];
    texts.forEach((text, i) => {
      if (tr.cells[i].textContent !== text) tr.cells[i].textContent = text;
    });
    tr.dataset.call = s.call ?? "";
    for (const button of tr.cells[5].querySelectorAll("button[data-to]")) {
      const to = button.dataset.to;
      button.disabled = s.state === to || (to !== "logged-out" && s.state === "logged-out");
    }
    for (const button of tr.cells[5].querySelectorAll("button[data-mode]")) {
      button.hidden = !s.call;
    }
    return tr;
  });
  const body = $("seat-rows");
  // The rows move only when the order changed (a seat changed state).
  if (rows.length !== body.rows.length || rows.some((tr, i) => body.rows[i] !== tr)) {
    body.replaceChildren(...rows);
  }
}

function showWaiting(b) {
  $("waiting-count").textContent = `${b.waiting.length} 人`;
  $("waiting-rows").replaceChildren(...b.waiting.map((w) => {
    const tr = el("tr", w.wait_s > 15 ? "waiting late" : "waiting");
    tr.dataset.call = w.call;
    tr.append(el("td", "", w.call.slice(0, 12)), el("td", "", w.queue), el("td", "", w.position),
      el("td", "", seconds(w.wait_s)), el("td", "", w.ringing.join("、")));
    return tr;
  }));
}

function showCases(b) {
  const overdue = b.cases.filter((c) => c.level === "overdue").length;
  $("due-count").textContent = `超期 ${overdue} · 即将到期 ${b.cases.length - overdue}`;
  $("due-rows").replaceChildren(...b.cases.map((c) => {
    const tr = el("tr", c.level);
    tr.dataset.case = c.case_number;
    tr.append(el("td", "", c.case_number), el("td", "", CASE_STATES[c.state] ?? c.state),
      el("td", "", KINDS[c.kind] ?? c.kind), el("td", "", cst.format(new Date(c.due))),
      el("td", "mark", c.level === "overdue" ? "已超期" : "即将到期"));
    return tr;
  }));
  $("callback-count").textContent = `${b.callbacks_total} 个`;
  $("callback-rows").replaceChildren(...b.callbacks.map((c) => el("li", "",
    `${c.case_number} · ${REASONS[c.reason] ?? c.reason ?? ""} · ${c.caller} · ` +
    `${c.requested_at ? cst.format(new Date(c.requested_at)) : ""} · 已回拨 ${c.attempts} 次`)));
  $("recent-rows").replaceChildren(...b.recent.map((r) => {
    const li = el("li", "step", `${cst.format(new Date(r.at))} · ${r.case_number} · ` +
      `${STEPS[r.event] ?? r.event} · ${r.actor_unit ?? r.actor_id} → ${CASE_STATES[r.to_state] ?? r.to_state}` +
      (r.note ? ` · ${r.note}` : ""));
    li.dataset.case = r.case_number;
    li.dataset.event = r.event;
    return li;
  }));
}

function show(b) {
  $("board-name").textContent = `${b.name} 实时监控`;
  $("board-at").textContent = `更新于 ${cst.format(new Date())}（北京时间）`;
  if (me?.province_wide && $("platform").options.length === 0) {
    $("platform").append(new Option("全省", ""), ...b.platforms.map(([code, name]) => new Option(`${name} ${code}`, code)));
    $("platform-label").hidden = false;
  }
  showTiles(b);
  showWaiting(b);
  showSeats(b);
  showCases(b);
}

// The written channels' first answers today (GET /api/statistics/answers), every 15 s.
let answersTimer = null;
async function showAnswers(platform) {
  const query = platform ? `?platform=${encodeURIComponent(platform)}` : "";
  const { status, data } = await api("GET", `/api/statistics/answers${query}`);
  if (status !== 200) return;
  $("answer-rows").replaceChildren(...data.map((r) => {
    const tr = el("tr", r.late > 0 ? "overdue" : "");
    tr.dataset.channel = r.channel;
    tr.append(el("td", "", r.name_zh), el("td", "", r.requests), el("td", "", r.in_time),
      el("td", "", r.late), el("td", "", r.pending), el("td", "", percent(r.in_time_share)),
      el("td", "", r.mean_answer_secs === null ? "—" : seconds(Math.round(r.mean_answer_secs))));
    return tr;
  }));
}

function watch(platform) {
  clearInterval(answersTimer);
  showAnswers(platform);
  answersTimer = setInterval(() => showAnswers(platform), 15000);
  source?.close();
  const query = platform ? `?platform=${encodeURIComponent(platform)}` : "";
  source = new EventSource(`/api/wallboard/events${query}`);
  $("live").hidden = false;
  $("live").textContent = "连接中…";
  source.addEventListener("board", (e) => {
    $("live").textContent = "● 实时";
    $("live").className = "live on";
    show(JSON.parse(e.data));
  });
  source.addEventListener("error", () => {
    $("live").textContent = "连接中断，正在重连…";
    $("live").className = "live off";
  });
}

$("platform").addEventListener("change", () => watch($("platform").value));

const signedOut = userSignIn({
  accept: (s) => s.role === "supervisor" ? null : "监控大屏仅供值班长使用",
  onIn(session) {
    me = session;
    $("board").hidden = false;
    $("monitor-phone").hidden = !session.phone_seat;
    phoneButtons();
    watch(session.province_wide ? "" : session.platform);
  },
  onOut() {
    me = null;
    phone.close();
    $("phone-on").checked = false;
    source?.close();
    source = null;
    clearInterval(answersTimer);
    $("board").hidden = true;
    $("live").hidden = true;
  },
});
