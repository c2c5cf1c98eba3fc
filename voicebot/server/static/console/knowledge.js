// 상담 지식 tab (issue 19): the knowledge base's versions (GET /api/kb/versions), a version's entries with
// the editor (drafts only: questions, spoken and chat answers, category, escalation, seasonal dates), the
// import of the centre's consultation DB (CSV/XLSX, bad rows listed), the difference between two versions,
// submit for review, and publish / rollback (admins) with the evaluation gate's result: a blocked publish
// lists the eval questions the version would get wrong. A question box tries the knowledge in service.
import { allows, request } from "./api.js";
import { fill, h, label, percent, when } from "./format.js";
import { badge, busy, confirmAction, errorBox, notify, showError, table } from "./ui.js";

const CATEGORIES = ["covid", "transport", "water", "general", "directory", "foreign"];
const STATE_TONE = { draft: "warn", review: "done", published: "good", archived: "" };
const FIELD_KO = {
  id: "항목 ID",
  category: "분야",
  title: "제목",
  questions: "질문",
  answer: "음성 답변",
  chat_answer: "채팅 답변",
  source: "출처",
  updated: "수정일",
  keywords: "키워드",
  requires_staff: "상담사 연결",
  valid_from: "시작일",
  valid_until: "종료일",
  lang: "언어",
  programme: "사업명",
  slots: "슬롯",
};

function period(entry) {
  if (!entry.valid_from && !entry.valid_until) return "상시";
  return `${entry.valid_from || "…"} ~ ${entry.valid_until || "…"}`;
}

function show(value) {
  if (value === undefined || value === null) return "(없음)";
  if (Array.isArray(value)) return value.join(" / ");
  if (typeof value === "boolean") return value ? "예" : "아니오";
  return String(value);
}

export function createKnowledgeView(panel) {
  const error = errorBox("kb-error");
  const versionsBox = h("div", { id: "kb-versions" });
  const detail = h("section", { id: "kb-detail", "aria-live": "polite" });
  const result = h("section", { id: "kb-result", "aria-live": "polite" });
  const editorBox = h("section", { id: "kb-editor", hidden: true });
  const fileInput = h("input", {
    type: "file",
    id: "kb-import-file",
    accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    onchange: onImport,
  });
  const replaceBox = h("input", { type: "checkbox", id: "kb-import-replace" });
  const askInput = h("input", { type: "text", id: "kb-ask-text", placeholder: "예: 버스에 지갑을 두고 내렸어요", maxlength: "500" });
  const askOut = h("p", { id: "kb-ask-reply", class: "muted" });
  let versions = [];
  let active = null;
  let opened = null; // {version, items}
  let lastJson = "";
  let filter = "";

  fill(
    panel,
    h(
      "div",
      { class: "toolbar" },
      h("h2", {}, "상담 지식"),
      allows("operator")
        ? h("div", { class: "field buttons" },
            h("button", { type: "button", id: "kb-new-draft", onclick: (e) => newDraft(e.currentTarget) }, "게시본으로 초안 만들기"))
        : null,
    ),
    h("p", { class: "lead" },
      "상담봇이 답하는 지식입니다. 초안에서 고치고 검토를 요청하면 관리자가 게시합니다. 게시 전에 평가 질문으로 검사하며, ",
      "지금 맞게 답하는 질문을 틀리게 되거나 정확도가 떨어지면 게시되지 않습니다. 게시하면 서버를 다시 시작하지 않아도 새 통화와 채팅부터 적용됩니다."),
    error,
    allows("operator")
      ? h("div", { class: "card", id: "kb-import" },
          h("h3", {}, "상담DB 파일 가져오기 (CSV·XLSX)"),
          h("p", { class: "muted" },
            "열: 분야, 제목, 질문(줄바꿈이나 ;로 둘 이상), 음성답변, 출처는 꼭 필요합니다. 관리번호, 채팅답변, 키워드, 사업명, 상담사연결(Y/N), 시작일, 종료일은 선택입니다. ",
            "잘못된 행은 가져오지 않고 행 번호와 이유를 보여 드립니다. 가져온 내용은 새 초안이 됩니다."),
          h("div", { class: "row" },
            h("label", { class: "field", for: "kb-import-file" }, "파일 선택", fileInput),
            h("label", { class: "field buttons", for: "kb-import-replace" }, replaceBox, "파일의 항목만 남기기 (기존 항목 지움)")))
      : null,
    h("div", { class: "card", id: "kb-ask" },
      h("h3", {}, "지금 상담봇에게 물어보기"),
      h("form", { class: "row", onsubmit: onAsk },
        h("label", { class: "field", for: "kb-ask-text" }, "질문", askInput),
        h("div", { class: "field buttons" }, h("button", { type: "submit" }, "물어보기"))),
      askOut),
    h("h3", {}, "버전"),
    versionsBox,
    result,
    editorBox,
    detail,
  );

  async function reload(force = true) {
    const data = await request("/api/kb/versions");
    const json = JSON.stringify(data);
    if (!force && json === lastJson) return;
    lastJson = json;
    versions = data.items;
    active = data.active;
    renderVersions();
  }

  function versionActions(v) {
    const buttons = [h("button", { type: "button", class: "quiet", onclick: () => open(v.id) }, "열기")];
    const published = versions.find((x) => x.state === "published");
    if (published && published.id !== v.id) {
      buttons.push(h("button", { type: "button", class: "quiet", onclick: () => diff(published.id, v.id) }, "게시본과 비교"));
    }
    if (v.state === "review" && allows("admin")) {
      buttons.push(h("button", { type: "button", class: "primary", dataset: { action: "publish" }, onclick: (e) => publish(v.id, false, e.currentTarget) }, "게시"));
    }
    if (v.state === "archived" && allows("admin")) {
      buttons.push(h("button", { type: "button", dataset: { action: "rollback" }, onclick: (e) => publish(v.id, true, e.currentTarget) }, "이 버전으로 되돌리기"));
    }
    return buttons;
  }

  function renderVersions() {
    fill(
      versionsBox,
      table(
        "지식 버전 목록",
        ["번호", "상태", "항목 수", "만든 사람", "메모", "만든 때", "게시", "의도 정확도", ""],
        versions.map((v) =>
          h(
            "tr",
            { dataset: { versionId: String(v.id), state: v.state } },
            h("td", { class: "num" }, v.id),
            h("td", {}, badge(label("kbState", v.state), STATE_TONE[v.state]), v.id === active ? badge("사용 중", "good") : null),
            h("td", { class: "num" }, v.entries),
            h("td", {}, v.author),
            h("td", {}, v.note || "-"),
            h("td", {}, when(v.created_at)),
            h("td", {}, v.published_at ? `${when(v.published_at)} (${v.published_by})` : "-"),
            h("td", { class: "num" }, v.evaluation && v.evaluation.intent_accuracy != null ? percent(v.evaluation.intent_accuracy, 1) : "-"),
            h("td", {}, versionActions(v)),
          ),
        ),
        { empty: "지식 버전이 없습니다." },
      ),
    );
  }

  async function open(id) {
    const data = await request(`/api/kb/versions/${id}`);
    opened = data;
    editorBox.hidden = true;
    renderDetail();
    detail.scrollIntoView?.({ block: "start" });
  }

  function renderDetail() {
    if (!opened) return fill(detail);
    const v = opened;
    const editable = v.state === "draft" && allows("operator");
    const search = h("input", { type: "search", id: "kb-search", placeholder: "ID, 제목, 질문 검색", "aria-label": "항목 검색", value: filter });
    const rows = () =>
      v.items
        .filter((e) => !filter || [e.id, e.title, ...(e.questions || [])].some((t) => t.includes(filter)))
        .map((e) =>
          h(
            "tr",
            { dataset: { entryId: e.id } },
            h("td", {}, e.id),
            h("td", {}, label("category", e.category)),
            h("td", {}, e.title),
            h("td", { class: "num" }, e.questions.length),
            h("td", {}, period(e), e.active ? null : badge("기간 밖", "warn")),
            h("td", {}, e.requires_staff ? "예" : "-"),
            h("td", {}, e.chat_answer ? "있음" : "-"),
            h("td", {},
              editable ? h("button", { type: "button", class: "quiet", onclick: () => edit(e) }, "고치기") : h("button", { type: "button", class: "quiet", onclick: () => edit(e, true) }, "보기"),
              editable ? h("button", { type: "button", class: "quiet danger", onclick: (ev) => remove(e, ev.currentTarget) }, "지우기") : null),
          ),
        );
    const list = h("div", { id: "kb-entries" });
    const redraw = () =>
      fill(list, table(`버전 ${v.id} 항목`, ["ID", "분야", "제목", "질문 수", "기간", "상담사 연결", "채팅 답변", ""], rows(), { empty: "맞는 항목이 없습니다." }));
    search.addEventListener("input", () => {
      filter = search.value.trim();
      redraw();
    });
    redraw();
    const actions = [];
    if (editable) {
      actions.push(h("button", { type: "button", id: "kb-add-entry", onclick: () => edit(null) }, "항목 추가"));
      actions.push(h("button", { type: "button", id: "kb-check", onclick: (e) => check(v.id, e.currentTarget) }, "게시 전 검사"));
      actions.push(h("button", { type: "button", class: "primary", id: "kb-submit", onclick: (e) => move(v.id, "submit", e.currentTarget, "검토를 요청했습니다.") }, "검토 요청"));
    }
    if (v.state === "review" && allows("operator")) {
      actions.push(h("button", { type: "button", id: "kb-check", onclick: (e) => check(v.id, e.currentTarget) }, "게시 전 검사"));
      actions.push(h("button", { type: "button", id: "kb-reopen", onclick: (e) => move(v.id, "reopen", e.currentTarget, "초안으로 되돌렸습니다.") }, "초안으로 되돌리기"));
      if (allows("admin")) actions.push(h("button", { type: "button", class: "primary", id: "kb-publish", onclick: (e) => publish(v.id, false, e.currentTarget) }, "게시"));
    }
    fill(
      detail,
      h("h3", {}, `버전 ${v.id} · ${label("kbState", v.state)} · 항목 ${v.items.length}개`),
      v.note ? h("p", { class: "muted" }, v.note) : null,
      h("div", { class: "toolbar" }, h("label", { class: "field", for: "kb-search" }, "항목 검색", search), h("div", { class: "field buttons" }, actions)),
      list,
    );
  }

  function edit(entry, readOnly = false) {
    const e = entry || { id: "general.", category: "general", title: "", questions: [], answer: "", source: "", requires_staff: false };
    const input = (name, value, attrs = {}) => h("input", { id: `kb-f-${name}`, name, value: value || "", disabled: readOnly, ...attrs });
    const area = (name, value, rows = 3) => h("textarea", { id: `kb-f-${name}`, name, rows: String(rows), disabled: readOnly }, value || "");
    const field = (name, control, hint) => h("label", { class: "field", for: `kb-f-${name}` }, FIELD_KO[name], control, hint ? h("span", { class: "hint" }, hint) : null);
    const category = h("select", { id: "kb-f-category", name: "category", disabled: readOnly },
      CATEGORIES.map((c) => h("option", { value: c, selected: c === e.category }, label("category", c))));
    const staff = h("input", { type: "checkbox", id: "kb-f-requires_staff", checked: Boolean(e.requires_staff), disabled: readOnly });
    const formError = errorBox("kb-editor-error");
    const form = h(
      "form",
      { class: "card", id: "kb-entry-form", onsubmit: (ev) => save(ev, entry ? entry.id : null) },
      h("h3", {}, readOnly ? `항목 ${e.id}` : entry ? `항목 고치기: ${e.id}` : "새 항목"),
      formError,
      h("div", { class: "row" },
        field("id", input("id", e.id, { required: true, pattern: "[a-z][a-z0-9_]*\\.[a-z0-9_]+" }), "분야.이름 (영문 소문자, 숫자, _)"),
        field("category", category),
        field("title", input("title", e.title, { required: true, maxlength: "100" }))),
      field("questions", area("questions", (e.questions || []).join("\n"), 5), "한 줄에 하나씩, 둘 이상"),
      field("answer", area("answer", e.answer, 4), "전화로 읽어 주는 답입니다. 짧은 문장으로 써 주세요."),
      field("chat_answer", area("chat_answer", e.chat_answer, 4), "채팅·카카오톡에서 보여 줄 답 (비우면 음성 답변)"),
      h("div", { class: "row" },
        field("source", input("source", e.source, { required: true, maxlength: "200" })),
        field("keywords", input("keywords", (e.keywords || []).join(", ")), "쉼표로 구분"),
        field("programme", input("programme", (e.programme || []).join(", ")), "특정 사업의 답이면 그 이름 (질문에 이름이 있을 때만 답함)"),
        field("valid_from", input("valid_from", e.valid_from, { type: "date" }), "계절 안내: 이 날부터"),
        field("valid_until", input("valid_until", e.valid_until, { type: "date" }), "이 날까지")),
      h("label", { class: "field buttons", for: "kb-f-requires_staff" }, staff, "상담사 연결이 필요한 문의 (답을 말한 뒤 상담사에게 연결)"),
      h("div", { class: "field buttons" },
        readOnly ? null : h("button", { type: "submit", class: "primary", id: "kb-save" }, "저장"),
        h("button", { type: "button", class: "quiet", onclick: () => (editorBox.hidden = true) }, "닫기")),
    );
    fill(editorBox, form);
    editorBox.hidden = false;
    editorBox.scrollIntoView?.({ block: "start" });
    (form.querySelector("input:not([disabled]), textarea:not([disabled])") || form).focus();
  }

  async function save(event, entryId) {
    event.preventDefault();
    const form = event.currentTarget;
    const value = (name) => form.elements[name].value.trim();
    const body = {
      id: value("id"),
      category: form.elements.category.value,
      title: value("title"),
      questions: value("questions").split("\n").map((q) => q.trim()).filter(Boolean),
      answer: value("answer"),
      chat_answer: value("chat_answer") || null,
      source: value("source"),
      keywords: value("keywords").split(/[,;]/).map((k) => k.trim()).filter(Boolean),
      programme: value("programme").split(/[,;]/).map((k) => k.trim()).filter(Boolean),
      requires_staff: form.querySelector("#kb-f-requires_staff").checked,
      valid_from: value("valid_from") || null,
      valid_until: value("valid_until") || null,
    };
    const box = form.querySelector("#kb-editor-error");
    const path = entryId ? `/api/kb/versions/${opened.id}/entries/${encodeURIComponent(entryId)}` : `/api/kb/versions/${opened.id}/entries`;
    const saved = await busy(form.querySelector("#kb-save"), () => request(path, { method: entryId ? "PUT" : "POST", json: body }), box);
    if (!saved) return;
    notify(`항목 ${saved.id}을(를) 저장했습니다.`);
    editorBox.hidden = true;
    await open(opened.id);
    await reload();
  }

  async function remove(entry, button) {
    if (!(await confirmAction("항목 지우기", `이 초안에서 '${entry.title}' (${entry.id}) 항목을 지울까요?`, "지우기"))) return;
    const done = await busy(button, () => request(`/api/kb/versions/${opened.id}/entries/${encodeURIComponent(entry.id)}`, { method: "DELETE" }).then(() => true));
    if (!done) return;
    notify("항목을 지웠습니다.");
    await open(opened.id);
    await reload();
  }

  async function newDraft(button) {
    const made = await busy(button, () => request("/api/kb/versions", { method: "POST", json: {} }), error);
    if (!made) return;
    notify(`초안 ${made.id}을(를) 만들었습니다.`);
    await reload();
    await open(made.id);
  }

  async function move(id, action, button, message) {
    const done = await busy(button, () => request(`/api/kb/versions/${id}/${action}`, { method: "POST" }), error);
    if (!done) return;
    notify(message);
    await reload();
    await open(id);
  }

  function renderGate(gate, { blocked = false, versionId = null, rollback = false } = {}) {
    const fig = (g) => `의도 정확도 ${percent(g.intent_accuracy, 1)}, 바로 답한 비율 ${percent(g.containment_rate, 1)}, 오답률 ${percent(g.wrong_answer_rate, 1)}`;
    const failing = gate.newly_failing || [];
    // Staff read entries by title; the id stays beside it (an entry the version no longer has shows its id).
    const titles = new Map(((opened && opened.items) || []).map((e) => [e.id, e.title]));
    const named = (id) => (titles.has(id) ? `${titles.get(id)} (${id})` : id);
    return h(
      "div",
      { class: `card gate ${gate.passed ? "passed" : "failed"}`, id: "kb-gate", dataset: { passed: String(gate.passed) } },
      h("h3", {}, gate.passed ? "게시 전 검사 통과" : "게시 전 검사 실패"),
      h("p", {}, `평가 질문 ${gate.items}개. 지금: ${fig(gate.current)}. 이 버전: ${fig(gate.candidate)}.`),
      gate.accuracy_dropped ? h("p", { class: "error" }, "의도 정확도가 지금보다 낮습니다.") : null,
      failing.length
        ? table(
            "새로 틀리는 평가 질문",
            ["질문", "기대한 답", "이 버전의 답", "의도"],
            failing.map((f) => [f.text, named(f.expect), label("action", f.action), f.intent ? named(f.intent) : "-"]),
            { className: "gate-failing" },
          )
        : null,
      blocked && allows("admin")
        ? h("button", { type: "button", class: "danger", id: "kb-force", onclick: (e) => publish(versionId, rollback, e.currentTarget, true) }, "검사 결과를 알고도 게시 (기록됨)")
        : null,
    );
  }

  async function check(id, button) {
    const gate = await busy(button, () => request(`/api/kb/versions/${id}/check`, { method: "POST" }), error);
    if (gate) fill(result, renderGate(gate));
  }

  async function publish(id, rollback, button, force = false) {
    const what = rollback ? `버전 ${id}(으)로 되돌릴까요?` : `버전 ${id}을(를) 게시할까요?`;
    const text = force ? `${what} 게시 전 검사를 통과하지 못했지만 그대로 게시하며, 감사 기록에 남습니다.` : `${what} 평가 질문으로 먼저 검사합니다.`;
    if (!(await confirmAction(rollback ? "이전 버전으로 되돌리기" : "지식 게시", text, rollback ? "되돌리기" : "게시"))) return;
    if (button) button.disabled = true;
    showError(error, null);
    try {
      const done = await request(`/api/kb/versions/${id}/${rollback ? "rollback" : "publish"}`, { method: "POST", json: { force } });
      notify(rollback ? `버전 ${id}(으)로 되돌렸습니다. 새 통화와 채팅부터 적용됩니다.` : `버전 ${id}을(를) 게시했습니다. 새 통화와 채팅부터 적용됩니다.`);
      fill(result, done.gate ? renderGate(done.gate) : null);
      await reload();
      await open(id);
    } catch (err) {
      if (err.status === 409 && err.body && err.body.gate) {
        fill(result, h("p", { class: "error", role: "alert" }, err.detail), renderGate(err.body.gate, { blocked: true, versionId: id, rollback }));
      } else {
        showError(error, err);
      }
    } finally {
      if (button) button.disabled = false;
    }
  }

  async function diff(base, other) {
    const d = await busy(null, () => request(`/api/kb/diff?base=${base}&other=${other}`), error);
    if (!d) return;
    const changed = d.changed.map((c) =>
      h("li", { dataset: { entryId: c.id } },
        h("strong", {}, `${c.title} (${c.id})`),
        h("ul", {}, Object.entries(c.fields).map(([name, f]) =>
          h("li", {}, `${FIELD_KO[name] || name}: `, h("del", {}, show(f.before)), " → ", h("ins", {}, show(f.after)))))),
    );
    fill(
      result,
      h("div", { class: "card", id: "kb-diff" },
        h("h3", {}, `버전 ${base} → ${other} 바뀐 점`),
        h("p", {}, `추가 ${d.added.length}개, 삭제 ${d.removed.length}개, 변경 ${d.changed.length}개`),
        d.added.length ? [h("h4", {}, "추가된 항목"), h("ul", {}, d.added.map((a) => h("li", {}, `${a.title} (${a.id})`)))] : null,
        d.removed.length ? [h("h4", {}, "삭제된 항목"), h("ul", {}, d.removed.map((a) => h("li", {}, `${a.title} (${a.id})`)))] : null,
        changed.length ? [h("h4", {}, "변경된 항목"), h("ul", {}, changed)] : null,
        d.synonyms_changed || d.lexicon_changed || d.slot_values_changed ? h("p", { class: "muted" }, "동의어·사전·슬롯 값도 바뀌었습니다.") : null),
    );
  }

  async function onImport() {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    const mode = replaceBox.checked ? "replace" : "merge";
    showError(error, null);
    let body;
    try {
      body = await request(`/api/kb/import?mode=${mode}&note=${encodeURIComponent(`가져오기: ${file.name}`)}`, { method: "POST", body: form });
    } catch (err) {
      body = err.body && err.body.errors ? err.body : null;
      if (!body) {
        showError(error, err);
        return;
      }
    } finally {
      fileInput.value = "";
    }
    const errors = body.errors || [];
    fill(
      result,
      h("div", { class: "card", id: "kb-import-result" },
        h("h3", {}, body.version ? `가져오기 완료: 초안 ${body.version.id}` : "가져오지 못했습니다"),
        h("p", {}, `${body.rows}행 중 ${body.imported}행을 가져왔습니다 (추가 ${body.added ?? 0}, 바꿈 ${body.replaced ?? 0}). 잘못된 행 ${body.rejected_rows}개는 가져오지 않았습니다.`),
        errors.length ? table("잘못된 행", ["행", "열", "내용"], errors.map((e) => [String(e.row), e.column, e.message]), { className: "row-errors" }) : null),
    );
    if (body.version) {
      await reload();
      await open(body.version.id);
    }
  }

  async function onAsk(event) {
    event.preventDefault();
    const text = askInput.value.trim();
    if (!text) return;
    const got = await busy(event.submitter, () => request(`/api/kb/ask?text=${encodeURIComponent(text)}`), error);
    if (!got) return;
    fill(askOut, `${label("action", got.action)} · ${got.intent || "-"} · 버전 ${got.version ?? "-"}: ${got.text_reply || got.reply}`);
  }

  return {
    interval: 30_000,
    onShow(options = {}) {
      if (options.prefill) prefill(options.prefill);
    },
    async refresh(force) {
      await reload(force);
    },
  };

  async function prefill(draft) {
    await reload();
    const open_ = versions.find((v) => v.state === "draft");
    if (!open_) {
      notify("먼저 '게시본으로 초안 만들기'로 초안을 만든 뒤 항목을 추가해 주세요.", "error");
      return;
    }
    await open(open_.id);
    edit(null);
    const form = editorBox.querySelector("form");
    form.elements.category.value = draft.category;
    form.elements.title.value = draft.title;
    form.elements.questions.value = draft.questions.join("\n");
    form.elements.id.value = `${draft.category}.`;
  }
}
