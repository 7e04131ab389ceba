// The responsible units' portal: a unit's user (users.toml, role unit) signs in and sees the
// cases dispatched to the unit, with their deadlines counting down (sign within 2 hours,
// return within 24 hours of signing, handling in 5 or 15 working days, extensions), and
// signs, returns with a reason, asks for an extension, starts handling and replies. The API
// decides (the workflow's rules); its refusals show next to their field.

import { $, api, chinese, cst, el, userSignIn, CASE_STATES, CATEGORIES, STEPS } from "/static/common.js";

let chosen = null; // the case shown
let rows = []; // the list's cases, for the countdown

const OPEN = ["dispatched", "signed", "handling", "extended"];

// The deadline that counts now for a case in the list, and what it is for.
function nextDeadline(c) {
  if (c.state === "dispatched") return c.sign_due && ["签收", c.sign_due];
  if (["signed", "handling", "extended"].includes(c.state)) return c.handle_due && ["办结", c.handle_due];
  return null;
}

function left(due) {
  const ms = Date.parse(due) - Date.now();
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86400000), h = Math.floor(abs % 86400000 / 3600000);
  const m = Math.floor(abs % 3600000 / 60000), s = Math.floor(abs % 60000 / 1000);
  const text = d > 0 ? `${d} 天 ${h} 小时` : h > 0 ? `${h} 小时 ${m} 分` : `${m} 分 ${s} 秒`;
  return ms >= 0 ? `剩 ${text}` : `已超期 ${text}`;
}

// Each second, the countdowns move on (in the page; nothing is asked of the server).
function tick() {
  for (const c of rows) {
    const cell = document.querySelector(`tr[data-case="${c.case_number}"] td.left`);
    const next = nextDeadline(c);
    if (!cell || !next) continue;
    cell.textContent = left(next[1]);
    cell.classList.toggle("late", Date.parse(next[1]) < Date.now());
  }
  if (chosen?.return_until && chosen.state !== "dispatched") {
    const r = $("return-left");
    if (r) r.textContent = left(chosen.return_until);
  }
}
setInterval(tick, 1000);

async function showCases() {
  const state = $("state-filter").value;
  const { status, data } = await api("GET", `/api/workflow/cases?per_page=200${state ? `&state=${state}` : ""}`);
  if (status === 401) return signedOut();
  if (status !== 200) return;
  rows = state ? data.items : data.items.filter((c) => OPEN.includes(c.state));
  $("case-count").textContent = `共 ${rows.length} 件`;
  $("case-rows").replaceChildren(...rows.map((c) => {
    const tr = el("tr", "entry");
    tr.dataset.case = c.case_number;
    tr.dataset.state = c.state;
    if (chosen?.case_number === c.case_number) tr.classList.add("chosen");
    const next = nextDeadline(c);
    tr.append(el("td", "", c.case_number), el("td", "", CATEGORIES[c.category] ?? c.category ?? ""),
      el("td", "", c.summary || c.topic), el("td", "state", CASE_STATES[c.state] ?? c.state),
      el("td", "", next ? `${next[0]} ${cst.format(new Date(next[1]))}` : ""), el("td", "left", ""));
    tr.addEventListener("click", () => open(c.case_number));
    return tr;
  }));
  tick();
}

function fact(dl, name, value) {
  if (value === null || value === undefined || value === "") return;
  dl.append(el("dt", "", name), el("dd", "", value));
}

async function open(number) {
  const { status, data } = await api("GET", `/api/cases/${encodeURIComponent(number)}/history`);
  if (status === 401) return signedOut();
  if (status !== 200) return;
  show(data);
}

function show(c) {
  chosen = c;
  $("detail").hidden = false;
  $("detail-title").textContent = `工单 ${c.case_number}`;
  const dl = $("detail-facts");
  dl.replaceChildren();
  fact(dl, "状态", CASE_STATES[c.state] ?? c.state);
  fact(dl, "类别", CATEGORIES[c.category] ?? c.category);
  fact(dl, "诉求", c.order.summary || c.topic);
  fact(dl, "来电人", c.order.confidential ? "（来电人要求保密）" : c.order.caller_name);
  fact(dl, "地址", c.order.address);
  fact(dl, "签收时限", c.sign_due && cst.format(new Date(c.sign_due)));
  if (c.return_until && c.state !== "dispatched") {
    fact(dl, "可退回至", cst.format(new Date(c.return_until)));
    const r = el("dd", "", "");
    r.id = "return-left";
    dl.append(el("dt", "", ""), r);
  }
  fact(dl, "办理时限", c.handle_due && cst.format(new Date(c.handle_due)));
  fact(dl, "已延期", c.extensions ? `${c.extensions} 次` : "");
  const can = (...states) => states.includes(c.state);
  $("do-sign").hidden = !can("dispatched");
  $("do-start").hidden = !can("signed");
  for (const id of ["do-return", "return-reason"]) $(id).disabled = !can("signed", "handling");
  for (const id of ["do-extend", "extend-reason", "do-reply", "reply-text"]) $(id).disabled = !can("signed", "handling", "extended");
  $("actions").hidden = !can(...OPEN);
  $("history").replaceChildren(...c.history.slice().reverse().map((h) => el("li", "",
    `${cst.format(new Date(h.at))} · ${STEPS[h.event] ?? h.event} · ${h.actor_unit ?? h.actor_id}` +
    (h.note ? ` · ${h.note}` : ""))));
  for (const tr of document.querySelectorAll("#case-rows tr")) {
    tr.classList.toggle("chosen", tr.dataset.case === c.case_number);
  }
  tick();
}

const MESSAGES = [
  [/the 24 hours to return the case ended/, "已超过签收后 24 小时，不能退回"],
  [/extended at most twice/, "最多延期两次"],
  [/cannot \S+ a case that is/, "当前状态不能办理此操作"],
  [/this case is with unit/, "不是本单位的工单"],
];

function message(error) {
  for (const [re, text] of MESSAGES) if (re.test(error)) return text;
  return chinese(error);
}

// Applies a workflow step; a refusal goes next to `field`'s box.
async function step(body, errId, done) {
  for (const e of document.querySelectorAll("#actions .error")) e.textContent = "";
  $("action-done").textContent = "";
  $("list-done").textContent = "";
  const { status, data } = await api("POST", `/api/cases/${encodeURIComponent(chosen.case_number)}/events`, body);
  if (status === 401) return signedOut();
  if (status !== 200) {
    $(errId ?? "action-error").textContent = message(data?.error ?? String(status));
    return;
  }
  $("action-done").textContent = done;
  for (const id of ["return-reason", "extend-reason", "reply-text"]) $(id).value = "";
  await showCases();
  // A returned case is no longer the unit's: it leaves the list and the detail.
  if (data.unit === null || data.state === "returned") {
    $("detail").hidden = true;
    chosen = null;
    $("list-done").textContent = `工单 ${data.case_number}：${done}`;
    return;
  }
  show(data);
  $("action-done").textContent = done;
}

$("do-sign").addEventListener("click", () => step({ action: "sign" }, null, "已签收"));
$("do-start").addEventListener("click", () => step({ action: "start-handling" }, null, "已开始办理"));
$("do-return").addEventListener("click", () =>
  step({ action: "return", reason: $("return-reason").value }, "err-return", "已退回平台"));
$("do-extend").addEventListener("click", () =>
  step({ action: "request-extension", reason: $("extend-reason").value }, "err-extend", "已提交延期申请，待平台批准"));
$("do-reply").addEventListener("click", () =>
  step({ action: "reply", reply: $("reply-text").value }, "err-reply", "已提交答复"));
$("state-filter").addEventListener("change", showCases);

const signedOut = userSignIn({
  accept: (s) => s.role === "unit" ? null : "此页面供承办单位使用",
  onIn() {
    $("cases").hidden = false;
    showCases();
  },
  onOut() {
    chosen = null;
    rows = [];
    $("cases").hidden = true;
    $("detail").hidden = true;
  },
});
