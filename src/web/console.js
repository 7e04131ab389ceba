// The operator console: sign in with the seat, see and set its state, take the call that pops
// up (in the page's phone or on the SIP phone), see the caller's earlier cases, fill the work
// order and search the knowledge base. Plain ES modules, no build step. Every change sent
// with the session cookie carries the CSRF token the sign-in answered (X-CSRF-Token). Times
// are shown in China Standard Time.

import { $, api, chinese, cst, signIn, CASE_STATES, STEPS } from "/static/common.js";
import { Phone } from "/static/phone.js";

let seat = "";

const STATES = {
  "available": "空闲", "ringing": "振铃", "on-call": "通话中", "wrap-up": "话后处理",
  "not-ready": "未就绪", "logged-out": "签出",
};

// The seat's live state, as the ACD has it (GET /api/queues); returns the state's name.
async function showState() {
  const { status, data } = await api("GET", "/api/queues");
  if (status !== 200) return null;
  const me = data.agents.find((a) => a.id === seat);
  if (!me) return null;
  const name = me.state.state;
  $("state-now").textContent =
    STATES[name] + (me.state.reason ? `（${me.state.reason}）` : "");
  $("state-since").textContent = `自 ${cst.format(new Date(me.since))}（北京时间）`;
  $("state-calls").textContent = `已接来电 ${me.calls_taken} 个 · 正在通话 ${me.on_calls} 个`;
  return me.state;
}

// Asks for a state; the ACD applies it in order with the calls, so the page shows it once
// the ACD has it (a few tries).
async function setState(state, reason) {
  $("state-error").textContent = "";
  const { status, data } = await api("POST", `/api/agents/${encodeURIComponent(seat)}/state`,
    reason === undefined ? { state } : { state, reason });
  if (status === 401) return signedOut();
  if (status !== 202) {
    $("state-error").textContent = data?.error ?? `操作失败（${status}）`;
    return;
  }
  for (let i = 0; i < 20; i++) {
    const now = await showState();
    if (now && now.state === state && (reason === undefined || now.reason === reason)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  // The ACD keeps a seat signed out until a phone is there: its SIP phone or the page's.
  $("state-error").textContent = "状态未改变：请先开启浏览器电话，或在 SIP 话机上登录（注册）座席";
}

$("go-available").addEventListener("click", () => setState("available"));
$("go-logged-out").addEventListener("click", () => setState("logged-out"));
$("go-not-ready").addEventListener("click", () => {
  const reason = $("not-ready-reason").value.trim();
  if (!reason) {
    $("state-error").textContent = "示忙请填写原因";
    return;
  }
  setState("not-ready", reason);
});

// ---- The call: pop-up, controls, earlier cases ----

const REASONS = {
  "called-area-code": "拨打的区号", "caller-area-code": "来电区号",
  "caller-mobile-prefix": "手机号段", "provincial": "省级平台兜底",
};
let current = null; // { leg, call, inPage, answered }
let usedEntry = null; // the knowledge-base entry chosen for the answer

function reasonText(reason) {
  const [kind, value] = reason.split(":");
  return (REASONS[kind] ?? kind) + (value ? ` ${value}` : "");
}

function callButtons() {
  const talking = current?.answered && !current?.ended;
  $("transfer").hidden = !talking;
  $("handover").hidden = !talking;
  $("consult").hidden = !talking;
  if (!talking) {
    clearInterval(partiesTimer);
    partiesTimer = null;
    $("call-parties").textContent = "";
  } else if (!partiesTimer) {
    partiesTimer = setInterval(showParties, 1000);
  }
  const inPage = current?.inPage;
  $("answer").hidden = !(inPage && !current.answered);
  $("decline").hidden = !(inPage && !current.answered);
  $("hang-up").hidden = !(inPage && current.answered);
  $("pad").hidden = !(inPage && current.answered);
}

// Who else is in the call (another hotline, a colleague consulted, a supervisor), as the
// server has it; the buttons that fit follow.
let partiesTimer = null;
const ROLES = { "operator": "座席", "hotline": "转出热线", "colleague": "征询同事", "supervisor": "班长" };
const MODES = { "listen": "监听", "whisper": "耳语", "barge": "强插" };
async function showParties() {
  if (!current?.call) return;
  const { status, data } = await api("GET", `/api/calls/${encodeURIComponent(current.call.call_id)}`);
  if (status !== 200) return;
  const others = data.parties.filter((p) => p.role !== "operator");
  $("call-parties").textContent = others.map((p) =>
    `${ROLES[p.role] ?? p.role} ${p.who} ${p.state === "up" ? "通话中" : "振铃中"}` +
    (p.mode ? `（${MODES[p.mode]}）` : "")).join(" · ");
  const hotline = others.find((p) => p.role === "hotline");
  const colleague = others.find((p) => p.role === "colleague");
  $("handover-leave").hidden = !(hotline && hotline.state === "up");
  $("consult-complete").hidden = !(colleague && colleague.state === "up");
  $("consult-cancel").hidden = !colleague;
}

// Asks something of the call; the answer's word, or the error next to the call.
async function callAction(path, body) {
  $("call-error").textContent = "";
  const { status, data } = await api("POST",
    `/api/calls/${encodeURIComponent(current.call.call_id)}/${path}`, body ?? {});
  if (status === 401) return signedOut();
  if (status !== 200) {
    $("call-error").textContent = chinese(data?.error ?? `操作失败（${status}）`);
    return;
  }
  showParties();
}

async function popUp(leg, call, inPage) {
  current = { leg, call, inPage, answered: false, held: false };
  $("hold-call").textContent = "保持";
  $("call").hidden = false;
  $("call-status").textContent = "振铃中";
  $("call-caller").textContent = call.caller || "（未显示号码）";
  $("call-platform").textContent = `${call.platform_name} ${call.platform}`.trim();
  $("call-queue").textContent = `${call.queue} · 已等待 ${call.waited_seconds} 秒`;
  $("call-case").textContent = call.case_number;
  $("call-phone").textContent = inPage ? "浏览器电话" : "SIP 话机（请在话机上接听）";
  $("call-reason").textContent = "—";
  $("call-error").textContent = "";
  callButtons();
  openOrder(call.case_number);
  const { status, data } = await api("GET", `/api/cases/${encodeURIComponent(call.case_number)}`);
  if (status === 200) {
    const first = data.calls?.[0];
    if (first) $("call-reason").textContent = reasonText(first.route_reason);
  }
  showEarlier(call.case_number);
}

// The caller's open cases, most alike first; the first is proposed for linking (并单).
async function showEarlier(number) {
  const { status, data } = await api("GET", `/api/cases/${encodeURIComponent(number)}/related`);
  $("earlier").replaceChildren();
  if (status !== 200) return;
  $("earlier-summary").textContent = data.length
    ? `该号码有 ${data.length} 件未办结工单；重复诉求请并单`
    : "该号码没有未办结的工单";
  $("earlier").replaceChildren(...data.map((c, i) => {
    const li = document.createElement("li");
    if (i === 0) li.className = "proposed";
    li.textContent = `${c.case_number} · ${CASE_STATES[c.state] ?? c.state} · ${c.topic || "（无关键词）"} · ` +
      `${cst.format(new Date(c.created_at))}`;
    const link = document.createElement("button");
    link.type = "button";
    link.className = "small";
    link.textContent = i === 0 ? "系统建议：并入此单" : "并入此单";
    link.addEventListener("click", () => linkInto(number, c.case_number));
    li.append(link);
    return li;
  }));
}

async function linkInto(number, into) {
  const { status, data } = await api("POST", `/api/cases/${encodeURIComponent(number)}/link`, { into });
  if (status === 401) return signedOut();
  if (status !== 200) {
    $("call-error").textContent = data?.error ?? `并单失败（${status}）`;
    return;
  }
  $("order-done").textContent = `已并入工单 ${into}`;
  showEarlier(number);
}

const phone = new Phone({
  ready: () => {
    $("phone-state").textContent = $("phone-on").checked ? "电话：浏览器（本页面）" : "电话：SIP 话机";
    showState();
  },
  offer: popUp,
  connected: (leg) => {
    if (current?.leg !== leg) return;
    current.answered = true;
    showLists();
    $("call-status").textContent = "通话中";
    callButtons();
    showState();
  },
  ended: (leg, why) => {
    if (current?.leg !== leg) return;
    current.ended = true;
    showLists();
    $("call-status").textContent = why === "cancel" && !current.answered ? "来电已取消" : "通话已结束";
    current.inPage = false;
    callButtons();
    showState();
  },
  error: (message) => { $("call-error").textContent = message; },
  closed: () => {
    $("phone-state").textContent = "电话：未连接";
  },
});

$("phone-on").addEventListener("change", () => phone.open($("phone-on").checked));
$("answer").addEventListener("click", async () => {
  $("call-error").textContent = "";
  try {
    await phone.answer(current.leg);
    $("call-status").textContent = "接通中";
  } catch (e) {
    $("call-error").textContent = `无法接听：${e.message}`;
  }
});
$("decline").addEventListener("click", () => phone.decline(current.leg));

// Transfers by the province's rule (a prefecture hands a call up to the province; only the
// province passes it on): the server refuses any other, and says why.
async function transfer(to) {
  $("call-error").textContent = "";
  const { status, data } = await api("POST",
    `/api/calls/${encodeURIComponent(current.call.call_id)}/transfer`, { to });
  if (status === 401) return signedOut();
  if (status !== 202) {
    $("call-error").textContent = data?.error ?? `转接失败（${status}）`;
    return;
  }
  $("call-status").textContent = `已转接至 ${data.queue ?? to}`;
}
$("escalate-call").addEventListener("click", () => transfer("530000"));
// Hold: the caller hears music and neither side hears the other, until taken back.
$("hold-call").addEventListener("click", async () => {
  $("call-error").textContent = "";
  const on = !current.held;
  const { status, data } = await api("POST",
    `/api/calls/${encodeURIComponent(current.call.call_id)}/hold`, { on });
  if (status === 401) return signedOut();
  if (status !== 200) {
    $("call-error").textContent = data?.error ?? `操作失败（${status}）`;
    return;
  }
  current.held = data.held;
  $("hold-call").textContent = current.held ? "恢复通话" : "保持";
  $("call-status").textContent = current.held ? "保持中" : "通话中";
});
$("transfer-call").addEventListener("click", () => {
  const to = $("transfer-to").value.trim();
  if (to) transfer(to);
});
$("hang-up").addEventListener("click", () => phone.hangUp(current.leg));
// Another hotline (110, 119, 120, 122, the departmental hotlines): three-party, or blind.
const handOver = (three_party) => callAction("handover",
  { to: $("handover-to").value, three_party, also_ours: $("handover-ours").checked });
$("handover-three").addEventListener("click", () => handOver(true));
$("handover-blind").addEventListener("click", async () => {
  await handOver(false);
  $("call-status").textContent = `已转出至 ${$("handover-to").value}`;
});
$("handover-leave").addEventListener("click", async () => {
  await callAction("leave");
  $("call-status").textContent = `已退出三方，来电人与 ${$("handover-to").value} 继续通话`;
});
// A colleague consulted while the caller holds; then transfer, or back to the caller.
$("consult-start").addEventListener("click", () => {
  const to = $("consult-to").value.trim();
  if (to) callAction("consult", { to });
});
$("consult-complete").addEventListener("click", async () => {
  await callAction("consult/complete");
  $("call-status").textContent = `已转接至 ${$("consult-to").value.trim()}`;
});
$("consult-cancel").addEventListener("click", () => callAction("consult/cancel"));
for (const key of $("pad").querySelectorAll("button")) {
  key.addEventListener("click", () => phone.dtmf(key.textContent));
}

// ---- The work order ----

const OUTCOMES = ["answer", "dispatch", "escalate", "not-accepted"];

function showOutcome() {
  const chosen = $("order-outcome").value;
  for (const o of OUTCOMES) {
    $(`outcome-${o}`).hidden = !chosen.startsWith(o);
  }
}
$("order-outcome").addEventListener("change", showOutcome);
// A field's message goes once the operator changes the field.
$("order-form").addEventListener("input", (e) => {
  const field = e.target.dataset.field;
  if (field && $(`err-${field}`)) $(`err-${field}`).textContent = "";
});

async function openOrder(number, platformOf) {
  $("work-order").hidden = false;
  $("order-messages").hidden = true;
  $("order-case").textContent = number;
  $("order-form").dataset.case = number;
  $("order-done").textContent = "";
  usedEntry = null;
  $("order-entry").textContent = "";
  showOutcome();
  for (const id of ["order-name", "order-address", "order-summary", "order-topic", "order-answer"]) $(id).value = "";
  $("order-confidential").checked = false;
  const platform = encodeURIComponent(platformOf ?? current?.call.platform ?? "");
  const units = await api("GET", `/api/units?platform=${platform}`);
  if (units.status === 200) {
    $("order-unit").replaceChildren(...units.data.map((u) => new Option(u.name, u.id)));
  }
  const places = await api("GET", `/api/districts?platform=${platform}`);
  if (places.status === 200) {
    $("order-district").replaceChildren(new Option("未说明", ""),
      ...places.data.map((d) => new Option(d.name, d.code)));
  }
}

function fieldError(field, message) {
  message = chinese(message);
  const el = $(`err-${field}`);
  if (el) el.textContent = message;
  else $("order-error").textContent = message;
}

// Sends one workflow event; false (with the message next to its field) when refused.
async function step(number, event) {
  const { status, data } = await api("POST", `/api/cases/${encodeURIComponent(number)}/events`, event);
  if (status === 401) { signedOut(); return false; }
  if (status === 200) return true;
  fieldError(data?.field ?? "", data?.error ?? `保存失败（${status}）`);
  return false;
}

$("order-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  for (const el of document.querySelectorAll("#order-form .error")) el.textContent = "";
  const number = $("order-form").dataset.case;
  const category = $("order-category").value;
  if (!category) return fieldError("category", "请选择诉求类别");
  const order = {
    caller_name: $("order-name").value, address: $("order-address").value,
    district: $("order-district").value || null, summary: $("order-summary").value,
    confidential: $("order-confidential").checked, knowledge_entry: usedEntry,
  };
  if (!await step(number, { action: "classify", category, topic: $("order-topic").value.trim(), order })) return;
  const outcome = $("order-outcome").value;
  const event =
    outcome === "answer-directly" ? { action: "answer-directly", answer: $("order-answer").value.trim() } :
    outcome === "dispatch" ? { action: "dispatch", unit: $("order-unit").value, legal_days: null } :
    outcome === "escalate" ? { action: "escalate", reason: $("order-escalate").value.trim() } :
    { action: "not-accepted", reason: $("order-channel").value };
  if (!await step(number, event)) return;
  const { data } = await api("GET", `/api/cases/${encodeURIComponent(number)}/history`);
  $("order-done").textContent =
    `工单已保存：${(data?.history ?? []).map((h) => STEPS[h.event] ?? h.event).join(" → ")}`;
  showWritten();
});

// ---- Written requests: mail, SMS, web, app and official account ----

const CHANNELS = { email: "邮件", sms: "短信", web: "网站", app: "APP", wechat: "微信", phone: "电话" };

// How long until the first answer is due (GB/T 33358: 3 minutes, mail 24 hours), or how late.
function dueText(due) {
  if (!due) return "";
  const left = Math.round((new Date(due) - Date.now()) / 1000);
  const abs = Math.abs(left);
  const text = abs >= 3600 ? `${Math.floor(abs / 3600)} 小时 ${Math.floor((abs % 3600) / 60)} 分`
    : `${Math.floor(abs / 60)} 分 ${abs % 60} 秒`;
  return left >= 0 ? `剩余 ${text}` : `已超时 ${text}`;
}

let written = [];
async function showWritten() {
  const { status, data } = await api("GET", "/api/requests/awaiting");
  if (status !== 200) return;
  written = data;
  renderWritten();
}

function renderWritten() {
  $("written-summary").textContent = written.length ? `共 ${written.length} 件待处理` : "没有待处理的网络渠道诉求";
  $("written-list").replaceChildren(...written.map((c) => {
    const li = document.createElement("li");
    li.dataset.case = c.case_number;
    const head = document.createElement("div");
    const who = c.contact ?? c.caller ?? "";
    head.textContent = `${CHANNELS[c.channel] ?? c.channel} · ${who} · ${c.topic || "（无标题）"} · ${cst.format(new Date(c.created_at))}`;
    const due = document.createElement("span");
    due.className = "meta due";
    if (c.first_answer_at) due.textContent = "已首次答复";
    else if (c.answer_due) due.dataset.due = c.answer_due;
    const take = document.createElement("button");
    take.type = "button";
    take.className = "small take-request";
    take.textContent = "处理";
    take.addEventListener("click", () => openRequest(c));
    li.append(head, due, take);
    return li;
  }));
  tickWritten();
}

// The time left to each first answer, every second; only the texts change (the list's
// elements stay, so a click is never lost to a redraw).
function tickWritten() {
  for (const due of document.querySelectorAll("#written-list .due[data-due]")) {
    due.textContent = dueText(due.dataset.due);
    due.closest("li").classList.toggle("late", new Date(due.dataset.due) < Date.now());
  }
}
setInterval(tickWritten, 1000);

// Opens a written request in the work order, with what was written each way.
async function openRequest(c) {
  await openOrder(c.case_number, c.platform);
  const data = await showMessages(c);
  if (!data) return;
  $("message-text").value = "";
  $("message-error").textContent = "";
  $("message-done").textContent = "";
  const first = data.messages.find((m) => m.direction === "in");
  if (first) $("order-summary").value = [first.subject, first.body].filter(Boolean).join("：").slice(0, 2000);
  $("order-summary").focus();
}

// What was written each way on the request `c`; the case as the API gave it.
async function showMessages(c) {
  const { status, data } = await api("GET", `/api/cases/${encodeURIComponent(c.case_number)}`);
  if (status !== 200) return null;
  $("order-messages").hidden = false;
  $("message-channel").textContent = c.channel === "email" ? `邮件至 ${c.contact}` : c.channel === "wechat" ? "微信无法主动回复" : `短信至 ${c.caller}`;
  $("message-send").disabled = c.channel === "wechat";
  $("message-list").replaceChildren(...data.messages.map((m) => {
    const li = document.createElement("li");
    li.className = m.direction === "in" ? "from-requester" : "to-requester";
    const head = document.createElement("div");
    head.className = "meta";
    head.textContent = `${m.direction === "in" ? "来信" : "回复"} · ${CHANNELS[m.channel] ?? m.channel} · ${cst.format(new Date(m.at))}${m.subject ? ` · ${m.subject}` : ""}`;
    const body = document.createElement("p");
    body.textContent = m.body;
    li.append(head, body);
    for (const a of m.attachments) {
      const link = document.createElement("a");
      link.href = `/api/cases/${encodeURIComponent(c.case_number)}/attachments/${a.sha256}`;
      link.textContent = `附件：${a.file_name}（${Math.ceil(a.size / 1024)} KB）`;
      link.className = "attachment";
      li.append(link);
    }
    return li;
  }));
  return data;
}

$("message-send").addEventListener("click", async () => {
  const number = $("order-form").dataset.case;
  $("message-error").textContent = "";
  $("message-done").textContent = "";
  const text = $("message-text").value.trim();
  if (!text) { $("message-error").textContent = "请填写回复内容"; return; }
  const { status, data } = await api("POST", `/api/cases/${encodeURIComponent(number)}/messages`, { text });
  if (status === 401) return signedOut();
  if (status !== 200) { $("message-error").textContent = chinese(data?.error ?? `发送失败（${status}）`); return; }
  const item = written.find((w) => w.case_number === number);
  if (item) await showMessages(item);
  $("message-text").value = "";
  $("message-done").textContent = `已发送（${CHANNELS[data.channel] ?? data.channel}）`;
  showWritten();
});

// ---- Lists: my cases today, callers owed a callback ----

async function showLists() {
  if (!seat) return;
  const mine = await api("GET", `/api/agents/${encodeURIComponent(seat)}/cases`);
  if (mine.status === 200) {
    const cases = mine.data.cases;
    $("state-today").textContent = `今日已接来电 ${cases.length} 个（北京时间零点起）`;
    $("my-case-list").replaceChildren(...cases.map((c) => {
      const li = document.createElement("li");
      li.textContent = `${c.case_number} · ${CASE_STATES[c.state] ?? c.state} · ${c.topic || "（无关键词）"}` +
        ` · ${cst.format(new Date(c.answered_at))}`;
      return li;
    }));
  }
  showWritten();
  const [owed, messages] = await Promise.all([
    api("GET", "/api/callbacks"),
    api("GET", "/api/voicemails?status=awaiting-callback"),
  ]);
  if (owed.status !== 200) return;
  const byCase = new Map((messages.data ?? []).map((m) => [m.case_number, m]));
  $("callback-summary").textContent = owed.data.length ? `共 ${owed.data.length} 位来电人待回拨` : "没有待回拨的来电";
  $("callback-list").replaceChildren(...owed.data.map((c) => callbackItem(c, byCase.get(c.case_number))));
  showReturnVisits();
}

// Cases the unit replied to, awaiting the return visit (回访): the server calls the caller
// with this seat, and the caller rates the handling once the operator hangs up.
async function showReturnVisits() {
  const { status, data } = await api("GET", "/api/workflow/cases?state=replied&per_page=20");
  if (status !== 200) return;
  $("return-visit-summary").textContent = data.total ? `共 ${data.total} 件工单待回访` : "没有待回访的工单";
  $("return-visit-list").replaceChildren(...data.items.map((c) => {
    const li = document.createElement("li");
    li.dataset.case = c.case_number;
    const head = document.createElement("div");
    head.textContent = `${c.case_number} · ${c.caller || "（未显示号码）"} · ${c.topic || c.summary || "（无关键词）"}`;
    const dial = document.createElement("button");
    dial.type = "button";
    dial.className = "small return-visit";
    dial.textContent = "电话回访";
    dial.disabled = !c.caller;
    dial.addEventListener("click", () => returnVisit(c));
    li.append(head, dial);
    return li;
  }));
}

async function returnVisit(c) {
  $("return-visit-error").textContent = "";
  const { status, data } = await api("POST", `/api/cases/${encodeURIComponent(c.case_number)}/return-visit`, {});
  if (status === 401) return signedOut();
  if (status !== 202) {
    $("return-visit-error").textContent = chinese(data?.error ?? `回访失败（${status}）`);
    return;
  }
  $("return-visit-summary").textContent = `正在回访 ${c.caller}（${c.case_number}）：请先接听本座席的话机，挂机后来电人对办理结果评价`;
}

function callbackItem(c, message) {
  const li = document.createElement("li");
  const what = c.reason === "voicemail" ? "留言" : "放弃来电";
  const head = document.createElement("div");
  head.textContent = `${c.caller || "（未显示号码）"} · ${what} · ${c.case_number} · ` +
    `${c.requested_at ? cst.format(new Date(c.requested_at)) : ""} · 已回拨 ${c.attempts} 次`;
  li.append(head);
  if (message) {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = `/api/voicemails/${message.id}/audio`;
    li.append(audio);
  }
  const row = document.createElement("div");
  row.className = "row";
  const note = document.createElement("input");
  note.type = "text";
  note.placeholder = "回拨情况";
  const reached = document.createElement("button");
  reached.type = "button";
  reached.className = "small";
  reached.textContent = "已联系上";
  const missed = document.createElement("button");
  missed.type = "button";
  missed.className = "small quiet";
  missed.textContent = "未接通";
  reached.addEventListener("click", () => attempt(c, message, true, note.value));
  missed.addEventListener("click", () => attempt(c, message, false, note.value));
  // Through the server: this seat rings first, then the caller, with the platform's number.
  const dial = document.createElement("button");
  dial.type = "button";
  dial.className = "small call-back";
  dial.textContent = "外呼回拨";
  dial.addEventListener("click", () => callBack(c));
  row.append(dial, note, reached, missed);
  li.append(row);
  return li;
}

// A callback attempt, recorded on the voice message or on the case.
async function attempt(c, message, reached, note) {
  $("callback-error").textContent = "";
  const { status, data } = message
    ? await api("POST", `/api/voicemails/${message.id}/callbacks`, { reached, note, operator: seat })
    : await api("POST", `/api/callbacks/${encodeURIComponent(c.case_number)}/attempts`, { reached, note, operator: seat });
  if (status === 401) return signedOut();
  if (status >= 300) {
    $("callback-error").textContent = data?.error ?? `记录失败（${status}）`;
    return;
  }
  showLists();
}

// A callback placed by the server: the outcome lands on the case by itself.
async function callBack(c) {
  $("callback-error").textContent = "";
  const { status, data } = await api("POST", `/api/callbacks/${encodeURIComponent(c.case_number)}/call`, {});
  if (status === 401) return signedOut();
  if (status !== 202) {
    $("callback-error").textContent = chinese(data?.error ?? `回拨失败（${status}）`);
    return;
  }
  $("callback-summary").textContent = `正在回拨 ${c.caller}：请先接听本座席的话机`;
}

// The other hotlines a caller may be handed to.
async function showHotlines() {
  const { status, data } = await api("GET", "/api/hotlines");
  if (status !== 200) return;
  $("handover-to").replaceChildren(...data.map((h) =>
    new Option(`${h.number} ${h.name}`, h.number)));
}

$("refresh-lists").addEventListener("click", showLists);

$("search-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("search-error").textContent = "";
  const q = $("q").value.trim();
  const { status, data } = await api("GET", `/api/knowledge/search?q=${encodeURIComponent(q)}`);
  if (status === 401) return signedOut();
  if (status !== 200) {
    $("search-error").textContent = data?.error ?? `搜索失败（${status}）`;
    return;
  }
  $("search-summary").textContent = data.hits.length
    ? `找到 ${data.hits.length} 条（${data.on} 有效）`
    : "没有找到相关的知识条目";
  // Highlights come from the server HTML-escaped, with only <b> added.
  $("hits").replaceChildren(...data.hits.map((hit) => {
    const li = document.createElement("li");
    li.className = "hit";
    const h3 = document.createElement("h3");
    h3.innerHTML = hit.title_html;
    const p = document.createElement("p");
    p.innerHTML = hit.answer_html;
    const meta = document.createElement("p");
    meta.className = "meta";
    const e = hit.entry;
    meta.textContent = [
      e.category, e.source_department, `第 ${e.version} 版`,
      `更新于 ${cst.format(new Date(e.updated_at))}（北京时间）`,
    ].filter(Boolean).join(" · ");
    const use = document.createElement("button");
    use.type = "button";
    use.className = "small use-entry";
    use.textContent = "引用此条目";
    use.addEventListener("click", () => {
      usedEntry = e.id;
      if (!$("order-answer").value) $("order-answer").value = e.answer;
      $("order-entry").textContent = `答复来自知识库条目 #${e.id}（第 ${e.version} 版）：${e.title}`;
    });
    meta.append(use);
    li.append(h3, p, meta);
    return li;
  }));
});

// Signing in and out (a session already open survives a reload of the page).
const signedOut = signIn({
  seat: true,
  who: (session) => `座席 ${session.seat} · 平台 ${session.platform}`,
  onIn(session) {
    seat = session.seat;
    $("seat-state").hidden = false;
    showState();
    $("knowledge").hidden = false;
    $("my-cases").hidden = false;
    $("written").hidden = false;
    $("callbacks").hidden = false;
    $("return-visits").hidden = false;
    // The pop-ups come over the phone's socket, for a SIP phone too (the page's phone is
    // turned on with its checkbox).
    phone.open($("phone-on").checked);
    showLists();
    showHotlines();
    $("q").focus();
  },
  onOut() {
    phone.close();
    $("phone-on").checked = false;
    $("call").hidden = true;
    $("work-order").hidden = true;
    $("my-cases").hidden = true;
    $("written").hidden = true;
    $("callbacks").hidden = true;
    $("return-visits").hidden = true;
    $("knowledge").hidden = true;
    $("seat-state").hidden = true;
    $("hits").replaceChildren();
  },
});
