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
