// The operator console: sign in with the seat, search the knowledge base. Plain ES module,
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

function signedIn(session) {
  csrf = session.csrf_token;
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
