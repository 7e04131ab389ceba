// The public page of published results (no sign-in): the cases a supervisor published, with
// category, place, the request and the reply; the caller's name, number and address are
// removed by the server. Searchable, twenty a page.

import { $, api, cst, el, CATEGORIES } from "/static/common.js";

let page = 1;
let pages = 1;

async function show() {
  $("search-error").textContent = "";
  const q = $("q").value.trim();
  const { status, data } = await api("GET", `/api/published?page=${page}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  if (status !== 200) {
    $("search-error").textContent = status === 422 ? "关键词最多 50 个字" : `查询失败（${status}）`;
    return;
  }
  pages = Math.max(1, Math.ceil(data.total / data.per_page));
  $("count").textContent = q ? `“${q}”共 ${data.total} 件` : `共公开 ${data.total} 件`;
  $("page").textContent = `第 ${page} / ${pages} 页`;
  $("prev").disabled = page <= 1;
  $("next").disabled = page >= pages;
  $("results").replaceChildren(...data.items.map((c) => {
    const li = el("li", "card published-case");
    li.dataset.case = c.case_number;
    const head = el("h2", "", `${CATEGORIES[c.category] ?? "诉求"} · ${c.platform_name}${c.district_name ? ` ${c.district_name}` : ""}`);
    const meta = el("p", "meta", `工单 ${c.case_number} · 受理 ${cst.format(new Date(c.created_at))} · 公开 ${cst.format(new Date(c.published_at))}`);
    const ask = el("p", "ask");
    ask.append(el("b", "", "诉求："), c.summary);
    const reply = el("p", "reply");
    reply.append(el("b", "", "答复："), c.reply || "—");
    li.append(head, meta, ask, reply);
    return li;
  }));
  if (data.items.length === 0) $("results").append(el("li", "card meta", "没有找到公开的办理结果"));
}

$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  page = 1;
  show();
});
$("prev").addEventListener("click", () => { page = Math.max(1, page - 1); show(); });
$("next").addEventListener("click", () => { page = Math.min(pages, page + 1); show(); });
show();
