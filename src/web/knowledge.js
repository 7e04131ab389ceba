// The knowledge-base editor's page: sign in as a users.toml user with their token (editors
// have knowledge_editor = true), list the entries, add one or change it (each change a new
// version, refused when someone changed it meanwhile), see who changed what, export and
// import as CSV or JSON. The API's rules decide; its refusals show next to their field.

import { $, api, chinese, cst, userSignIn } from "/static/common.js";

let me = null; // the session
let editing = null; // the entry being changed, or null for a new one

const FIELDS = {
  title: "f-title", question: "f-question", answer: "f-answer", category: "f-category",
  platform: "f-platform", source_department: "f-source", valid_from: "f-from", valid_to: "f-to",
};
const NAMES = {
  title: "标题", question: "问法", answer: "答复", category: "类别", platform: "平台",
  source_department: "来源部门", valid_from: "生效日期", valid_to: "失效日期",
};

function platformName(p) {
  return p ? p : "全部平台";
}

async function showEntries() {
  const { status, data } = await api("GET", "/api/knowledge");
  if (status === 401) return signedOut();
  if (status !== 200) return;
  $("entry-count").textContent = `共 ${data.length} 条`;
  $("entry-rows").replaceChildren(...data.map((e) => {
    const tr = document.createElement("tr");
    tr.className = "entry";
    tr.dataset.id = e.id;
    if (editing?.id === e.id) tr.classList.add("chosen");
    const valid = [e.valid_from ?? "", e.valid_to ?? ""].join(" ~ ").trim();
    for (const text of [e.id, e.title, e.category, platformName(e.platform), `第 ${e.version} 版`,
      valid === "~" ? "长期" : valid, `${cst.format(new Date(e.updated_at))} ${e.updated_by}`]) {
      const td = document.createElement("td");
      td.textContent = String(text);
      tr.append(td);
    }
    tr.addEventListener("click", () => edit(e));
    return tr;
  }));
}

function clearErrors() {
  for (const el of document.querySelectorAll("#entry-form .error")) el.textContent = "";
}

function fill(e) {
  $("f-platform").replaceChildren(new Option(`本平台 ${me.platform}`, me.platform), new Option("全部平台", ""));
  for (const [field, id] of Object.entries(FIELDS)) {
    $(id).value = e?.[field] ?? (field === "platform" ? me.platform : "");
  }
}

async function edit(e) {
  editing = e;
  $("editor").hidden = false;
  $("editor-title").textContent = e ? `修改条目 #${e.id}（第 ${e.version} 版）` : "新建条目";
  $("entry-done").textContent = "";
  clearErrors();
  fill(e);
  for (const tr of document.querySelectorAll("#entry-rows tr")) {
    tr.classList.toggle("chosen", Boolean(e) && tr.dataset.id === String(e.id));
  }
  $("history").replaceChildren();
  if (!e) return;
  const { status, data } = await api("GET", `/api/knowledge/${e.id}/history`);
  if (status !== 200) return;
  $("history").replaceChildren(...data.slice().reverse().map((v) => {
    const li = document.createElement("li");
    li.textContent = `第 ${v.version} 版 · ${v.changed_by} · ${cst.format(new Date(v.changed_at))}（北京时间） · ` +
      `改动：${v.changed.map((f) => NAMES[f] ?? f).join("、")}`;
    return li;
  }));
}

$("new-entry").addEventListener("click", () => edit(null));

$("entry-form").addEventListener("input", (e) => {
  const field = e.target.dataset.field;
  if (field && $(`err-${field}`)) $(`err-${field}`).textContent = "";
});

$("entry-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors();
  const draft = {};
  for (const [field, id] of Object.entries(FIELDS)) {
    const v = $(id).value.trim();
    draft[field] = v === "" && field !== "title" && field !== "question" && field !== "answer" && field !== "category" ? null : v;
  }
  const { status, data } = editing
    ? await api("PUT", `/api/knowledge/${editing.id}`, { ...draft, version: editing.version })
    : await api("POST", "/api/knowledge", draft);
  if (status === 401) return signedOut();
  if (status !== 200 && status !== 201) {
    const message = status === 409 ? "条目已被他人修改，请重新打开后再改" : chinese(data?.error ?? `保存失败（${status}）`);
    const el = data?.field && $(`err-${data.field}`);
    (el || $("entry-error")).textContent = message;
    return;
  }
  await showEntries();
  await edit(data);
  $("entry-done").textContent = `已保存：条目 #${data.id} 第 ${data.version} 版`;
});

// Import: the file's rows as they are (CSV or JSON); all or none.
$("import-file").addEventListener("change", async () => {
  $("import-result").textContent = "";
  $("import-error").textContent = "";
  const file = $("import-file").files[0];
  if (!file) return;
  const text = await file.text();
  const type = file.name.endsWith(".csv") || file.type === "text/csv" ? "text/csv" : "application/json";
  const { status, data } = await api("POST", "/api/knowledge/import", undefined, { type, text });
  $("import-file").value = "";
  if (status === 401) return signedOut();
  if (status !== 200) {
    $("import-error").textContent = chinese(data?.error ?? `导入失败（${status}）`);
    return;
  }
  $("import-result").textContent = `已导入：新增 ${data.created} 条，更新 ${data.updated} 条，未变 ${data.unchanged} 条`;
  showEntries();
});

const signedOut = userSignIn({
  onIn(session) {
    me = session;
    $("who").textContent += session.knowledge_editor ? " · 知识库编辑" : " · 只读";
    $("entries").hidden = false;
    $("new-entry").hidden = !session.knowledge_editor;
    $("import-file").disabled = !session.knowledge_editor;
    showEntries();
  },
  onOut() {
    me = null;
    editing = null;
    $("entries").hidden = true;
    $("editor").hidden = true;
  },
});
