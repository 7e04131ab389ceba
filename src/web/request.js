// The public request form (no sign-in): category, description, place, photos and a mobile
// number confirmed by an SMS code; answers with the case number. Works on a phone's browser.

import { $, api, el } from "/static/common.js";

const MESSAGES = {
  "code": "验证码不正确或已过期",
  "phone": "请填写有效的手机号码",
  "description": "诉求内容需 5 到 2000 字",
  "category": "请选择诉求类别",
  "place": "地点最多 200 字",
};

function say(status, data) {
  if (status === 429) return "提交过于频繁，请稍后再试";
  if (status === 503) return "短信服务暂不可用，请改拨 12345";
  if (data && data.field && MESSAGES[data.field]) return MESSAGES[data.field];
  if (data && data.field && data.field.startsWith("photos")) return data.error;
  return `提交失败（${status}）`;
}

async function platforms() {
  const { status, data } = await api("GET", "/api/public/platforms");
  if (status !== 200) return;
  for (const p of data) $("platform").append(new Option(p.name_zh, p.code));
}

function base64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1] ?? "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

let wait = 0;
$("send-code").addEventListener("click", async () => {
  $("request-error").textContent = "";
  const { status, data } = await api("POST", "/api/public/codes", { phone: $("phone").value.trim() });
  if (status !== 202) {
    $("request-error").textContent = say(status, data);
    return;
  }
  wait = 60;
  $("send-code").disabled = true;
  const tick = setInterval(() => {
    wait -= 1;
    $("send-code").textContent = wait > 0 ? `${wait} 秒后重发` : "获取验证码";
    if (wait <= 0) { clearInterval(tick); $("send-code").disabled = false; }
  }, 1000);
  $("send-code").textContent = "已发送";
});

$("request-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("request-error").textContent = "";
  const files = [...$("photos").files];
  if (files.length > 3) { $("request-error").textContent = "最多 3 张照片"; return; }
  const photos = [];
  for (const f of files) photos.push({ name: f.name, data: await base64(f) });
  $("submit").disabled = true;
  const { status, data } = await api("POST", "/api/public/requests", {
    platform: $("platform").value || null,
    category: $("category").value,
    description: $("description").value,
    place: $("place").value,
    phone: $("phone").value.trim(),
    code: $("code").value.trim(),
    photos,
    notify: $("notify").checked,
    website: $("website").value,
  });
  $("submit").disabled = false;
  if (status !== 201) {
    $("request-error").textContent = say(status, data);
    return;
  }
  $("request-card").hidden = true;
  $("done").hidden = false;
  $("case-number").textContent = data.case_number;
  $("progress-link").href = `/progress?case=${encodeURIComponent(data.case_number)}`;
});

platforms();
