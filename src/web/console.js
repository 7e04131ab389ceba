// The operator console: sign in with the seat, see and set its state, search the knowledge
// base. Plain ES module,
// no build step. Every change sent with the session cookie carries the CSRF token the
// sign-in answered (X-CSRF-Token). Times are shown in China Standard Time.

const $ = (id) => document.getElementById(id);
let csrf = "";

const cst = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
});

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  const resp = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  return { status: resp.status, data };
}

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
  // The ACD keeps a seat signed out until its phone registers.
  $("state-error").textContent = "状态未改变：请先在话机上登录（注册）座席";
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

function signedIn(session) {
  csrf = session.csrf_token;
  seat = session.seat;
  $("seat-state").hidden = false;
  showState();
  $("who").textContent = `座席 ${session.seat} · 平台 ${session.platform}`;
  $("who").hidden = false;
  $("sign-out").hidden = false;
  $("sign-in").hidden = true;
  $("knowledge").hidden = false;
  $("q").focus();
}

function signedOut() {
  csrf = "";
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("knowledge").hidden = true;
  $("seat-state").hidden = true;
  $("sign-in").hidden = false;
  $("hits").replaceChildren();
}

$("sign-in-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("sign-in-error").textContent = "";
  const { status, data } = await api("POST", "/api/session", {
    seat: $("seat").value.trim(), password: $("password").value,
  });
  $("password").value = "";
  if (status === 200) return signedIn(data);
  $("sign-in-error").textContent =
    status === 401 ? "座席号或密码错误" :
    status === 429 ? "密码错误次数过多，请稍后再试" : `登录失败（${data?.error ?? status}）`;
});

$("sign-out").addEventListener("click", async () => {
  await api("DELETE", "/api/session");
  signedOut();
});

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
    li.append(h3, p, meta);
    return li;
  }));
});

// Already signed in (the cookie survives a reload of the page).
api("GET", "/api/session").then(({ status, data }) => status === 200 ? signedIn(data) : signedOut());
