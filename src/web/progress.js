// The public progress lookup: a case number and the phone number that made the request show
// the case's state, deadlines and the reply, in China Standard Time.

import { $, api, cst, el } from "/static/common.js";

const CHANNELS = { phone: "电话", email: "电子邮件", sms: "短信", web: "网站", app: "手机APP", wechat: "微信" };

function fact(name, value) {
  return [el("dt", "", name), el("dd", "", value)];
}

async function look() {
  $("progress-error").textContent = "";
  const q = `case=${encodeURIComponent($("case").value.trim())}&phone=${encodeURIComponent($("phone").value.trim())}`;
  const { status, data } = await api("GET", `/api/public/progress?${q}`);
  if (status !== 200) {
    $("result").hidden = true;
    $("progress-error").textContent = status === 429 ? "查询过于频繁，请稍后再试" : "未查询到该诉求，请核对编号和手机号";
    return;
  }
  $("result").hidden = false;
  $("result-title").textContent = `诉求 ${data.case_number}：${data.state_zh}`;
  const facts = [
    ...fact("受理平台", data.platform_name),
    ...fact("渠道", CHANNELS[data.channel] ?? data.channel),
    ...fact("受理时间", cst.format(new Date(data.created_at))),
  ];
  if (data.unit_name) facts.push(...fact("承办单位", data.unit_name));
  if (data.dispatch_due) facts.push(...fact("派单时限", cst.format(new Date(data.dispatch_due))));
  if (data.sign_due) facts.push(...fact("签收时限", cst.format(new Date(data.sign_due))));
  if (data.handle_due) facts.push(...fact("办理时限", cst.format(new Date(data.handle_due))));
  $("facts").replaceChildren(...facts);
  $("reply").hidden = !data.reply;
  if (data.reply) {
    $("reply").replaceChildren(el("b", "", "答复："), `${data.reply}（${cst.format(new Date(data.replied_at))}）`);
  }
}

$("progress-form").addEventListener("submit", (e) => { e.preventDefault(); look(); });
const asked = new URLSearchParams(location.search).get("case");
if (asked) $("case").value = asked;
