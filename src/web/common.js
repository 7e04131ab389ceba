// What every page shares: element lookup, the API call with the session cookie and its CSRF
// token, times in China Standard Time, and the API's messages in Chinese where their form is
// known.

export const $ = (id) => document.getElementById(id);

let csrf = "";

// The CSRF token the sign-in answered, sent with every change (X-CSRF-Token).
export function setCsrf(token) {
  csrf = token ?? "";
}

export const cst = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
});

// A JSON request (or `raw` text with its content type); { status, data } back.
export async function api(method, path, body, raw) {
  const headers = { "Accept": "application/json" };
  if (raw) headers["Content-Type"] = raw.type;
  else if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  const resp = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: raw ? raw.text : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  return { status: resp.status, data };
}

// The API's message, in Chinese where its form is known.
export function chinese(message) {
  const long = /is at most (\d+) characters/.exec(message);
  if (long) return `最多 ${long[1]} 个字`;
  if (/must not be empty/.test(message)) return "不能为空";
  if (/is not a district of platform/.test(message)) return "不是本平台的区县";
  return message;
}

// Names of the case states, workflow steps, categories and seat states, in Chinese.
export const CASE_STATES = {
  "accepted": "已受理", "answered-directly": "已直接答复", "not-accepted": "不予受理",
  "dispatched": "已派单", "signed": "已签收", "returned": "已退回", "handling": "办理中",
  "extended": "已延期", "replied": "已答复", "callback-done": "已回访", "closed": "已办结",
  "published": "已公开", "escalated": "已提交省级", "linked": "已并单",
};
export const STEPS = {
  "classify": "登记", "answer-directly": "直接答复", "dispatch": "派单", "escalate": "提交省级",
  "not-accepted": "不予受理", "link": "并单", "sign": "签收", "return": "退回",
  "start-handling": "开始办理", "request-extension": "申请延期", "extend": "批准延期",
  "reply": "答复", "callback": "回访", "close": "办结", "publish": "公开",
};
export const CATEGORIES = {
  "consultation": "咨询", "service-request": "求助", "suggestion": "建议",
  "complaint": "投诉", "report": "举报",
};
export const SEAT_STATES = {
  "available": "空闲", "ringing": "振铃", "on-call": "通话中", "wrap-up": "话后处理",
  "not-ready": "示忙", "logged-out": "未签入",
};

// An element with a class and text.
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// A share as a percentage, or "—" when nothing was measured.
export function percent(v) {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
}

// A page's sign-in: the form #sign-in-form (#user and #token for a users.toml user, or with
// `seat` #seat and #password for a seat; #sign-in-error), #who and #sign-out in the header.
// `onIn(session)` runs once signed in (also for a session already open), `onOut()` once
// signed out; `accept(session)` may refuse a session the page is not for, with the message
// shown; `who(session)` is what the header says of the signed-in.
export function signIn({ seat, onIn, onOut, accept, who }) {
  const [idField, secretField] = seat ? ["seat", "password"] : ["user", "token"];
  const enter = async (session) => {
    // A session of the other kind (a seat's on a user's page, or the other way round) is
    // left alone: it may be another page's, in another tab.
    if (seat ? !session.seat : !session.user) {
      leave();
      if (seat) $("sign-in-error").textContent = `已以用户 ${session.user} 登录；工作台请用座席号登录`;
      return;
    }
    const refusal = accept?.(session);
    if (refusal) {
      await api("DELETE", "/api/session");
      leave();
      $("sign-in-error").textContent = refusal;
      return;
    }
    setCsrf(session.csrf_token);
    $("who").textContent = who?.(session) ??
      `${session.user ?? session.seat} · ${session.unit_name ?? `${session.platform_name} ${session.platform}`}`;
    $("who").hidden = false;
    $("sign-out").hidden = false;
    $("sign-in").hidden = true;
    onIn(session);
  };
  const leave = () => {
    setCsrf("");
    $("who").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    onOut();
  };
  $("sign-in-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("sign-in-error").textContent = "";
    const { status, data } = await api("POST", "/api/session", {
      [idField]: $(idField).value.trim(), [secretField]: $(secretField).value,
    });
    $(secretField).value = "";
    if (status === 200) return enter(data);
    $("sign-in-error").textContent =
      status === 401 ? (seat ? "座席号或密码错误" : "用户名或令牌错误") :
      status === 429 ? (seat ? "密码错误次数过多，请稍后再试" : "错误次数过多，请稍后再试") :
      `登录失败（${data?.error ?? status}）`;
  });
  $("sign-out").addEventListener("click", async () => {
    await api("DELETE", "/api/session");
    leave();
  });
  api("GET", "/api/session").then(({ status, data }) => status === 200 ? enter(data) : leave());
  return leave;
}

// A users.toml user's sign-in (see `signIn`).
export function userSignIn({ onIn, onOut, accept }) {
  return signIn({ onIn, onOut, accept });
}
