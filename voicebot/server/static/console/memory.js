// What the check-ins remember about one person (issue 16), under their history: per topic the answers
// call by call and whether it got better, the concern the next call asks about first, and every remembered
// answer, which staff may correct, add to or delete (operator role, like the history itself).
import { request } from "./api.js";
import { fill, h, label, when } from "./format.js";
import { badge, confirmAction, notify } from "./ui.js";

const TOPICS = {
  meals: "식사",
  health: "건강",
  sleep: "수면",
  mood: "마음",
  needs: "필요한 도움",
  medication: "복약",
  going_out: "외출",
  general: "전반",
};
const VALUES = { fine: "괜찮음", not_fine: "좋지 않음", concern: "우려", unclear: "불분명" };
const TONE = { fine: "good", not_fine: "warn", concern: "bad", unclear: "neutral" };
const TREND_TONE = { worse: "bad", better: "good", steady: "neutral", new: "neutral" };

const memoryApi = {
  get: (contactId) => request(`/api/contacts/${contactId}/memory`),
  add: (contactId, body) => request(`/api/contacts/${contactId}/memory`, { method: "POST", json: body }),
  update: (id, body) => request(`/api/memory/${id}`, { method: "PATCH", json: body }),
  remove: (id) => request(`/api/memory/${id}`, { method: "DELETE" }),
};

function options(choices, selected) {
  return Object.entries(choices).map(([value, text]) => h("option", { value, selected: value === selected }, text));
}

/** A section that loads and shows what is remembered about contact `contactId`. */
export function memorySection(contactId) {
  const section = h("section", { class: "memory", "aria-labelledby": `memory-title-${contactId}` });
  load(section, contactId);
  return section;
}

async function load(section, contactId) {
  fill(section, h("p", { class: "muted" }, "기억하는 내용을 불러오는 중입니다…"));
  try {
    render(section, contactId, await memoryApi.get(contactId));
  } catch (error) {
    fill(section, h("p", { class: "error", role: "alert" }, error.detail || error.message));
  }
}

async function act(section, contactId, call, done) {
  try {
    await call();
    notify(done);
    await load(section, contactId);
  } catch (error) {
    notify(error.detail || error.message, "error");
  }
}

function render(section, contactId, view) {
  const reload = (call, done) => act(section, contactId, call, done);
  const trends = Object.entries(view.trends || {});
  const memories = view.memories || [];
  fill(
    section,
    h("h3", { id: `memory-title-${contactId}` }, `기억하는 내용 (최근 ${view.retention_days}일만 보관)`),
    view.follow_up
      ? h("p", { class: "follow-up" }, "다음 통화에서 본인 확인 뒤 먼저 여쭐 내용: ", h("q", {}, view.follow_up.question))
      : h("p", { class: "muted" }, "다음 통화에서 따로 여쭐 지난 우려는 없습니다."),
    view.silent_calls
      ? h("p", { class: "warn-text" }, `최근 ${view.silent_calls}번 연속으로 전화는 받으셨지만 아무 말씀이 없었습니다.`)
      : null,
    trends.length
      ? h(
          "table",
          { class: "memory-trends" },
          h("caption", {}, "주제별 변화 (통화마다)"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "주제"), h("th", { scope: "col" }, "변화"), h("th", { scope: "col" }, "답변"))),
          h(
            "tbody",
            {},
            trends.map(([topic, t]) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, TOPICS[topic] || topic),
                h("td", {}, badge(label("trend", t.trend), TREND_TONE[t.trend])),
                h("td", {}, t.values.map((v) => [badge(`${when(v.at)} ${VALUES[v.value] || v.value}`, TONE[v.value]), " "])),
              ),
            ),
          ),
        )
      : h("p", { class: "empty" }, "아직 기억한 내용이 없습니다."),
    memories.length ? memoryTable(memories, reload) : null,
    addForm(contactId, reload),
  );
}

function memoryTable(memories, reload) {
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "기억한 답변 표" },
    h(
      "table",
      { class: "memory-rows" },
      h("caption", { class: "visually-hidden" }, "기억한 답변, 최근 것부터"),
      h(
        "thead",
        {},
        h("tr", {}, ["날짜", "주제", "상태", "다음 통화에서 인용할 말", "하신 말씀", "먼저 여쭙기", "관리"].map((t) => h("th", { scope: "col" }, t))),
      ),
      h("tbody", {}, memories.map((m) => memoryRow(m, reload))),
    ),
  );
}

function memoryRow(m, reload) {
  const id = `memory-${m.id}`;
  const value = h("select", { id: `${id}-value`, "aria-label": "상태" }, options(VALUES, m.value));
  const summary = h("input", { id: `${id}-summary`, value: m.summary, maxlength: "200", "aria-label": "인용할 말", placeholder: "예: 허리가 아프다고" });
  const follow = h("input", { id: `${id}-follow`, type: "checkbox", checked: m.follow_up, "aria-label": "다음 통화에서 먼저 여쭙기" });
  const save = () =>
    reload(() => memoryApi.update(m.id, { value: value.value, summary: summary.value, follow_up: follow.checked }), "기억한 내용을 고쳤습니다.");
  const remove = async () => {
    if (await confirmAction("기억한 내용 삭제", "이 답변을 지울까요? 다음 통화에서 더 이상 참고하지 않습니다.", "삭제")) {
      reload(() => memoryApi.remove(m.id), "기억한 내용을 지웠습니다.");
    }
  };
  return h(
    "tr",
    { dataset: { memory: String(m.id) } },
    h("td", {}, when(m.at), m.source === "staff" ? [" ", badge("직원 입력", "neutral")] : null),
    h("td", {}, TOPICS[m.topic] || m.topic, m.follows ? [" ", badge("지난 우려 확인", "neutral")] : null),
    h("td", {}, value),
    h("td", {}, summary),
    h("td", {}, m.said || "-"),
    h("td", {}, follow),
    h(
      "td",
      {},
      h("button", { type: "button", onclick: save }, "저장"),
      " ",
      h("button", { type: "button", class: "quiet", onclick: remove }, "삭제"),
      m.edited_by ? h("small", { class: "muted" }, ` (${m.edited_by} 수정)`) : null,
    ),
  );
}

function addForm(contactId, reload) {
  const topic = h("select", { id: `memory-add-topic-${contactId}` }, options(TOPICS, "health"));
  const value = h("select", { id: `memory-add-value-${contactId}` }, options(VALUES, "not_fine"));
  const summary = h("input", { id: `memory-add-summary-${contactId}`, maxlength: "200", placeholder: "예: 무릎이 아프다고" });
  const follow = h("input", { id: `memory-add-follow-${contactId}`, type: "checkbox" });
  const submit = (event) => {
    event.preventDefault();
    const body = { topic: topic.value, value: value.value, summary: summary.value.trim(), follow_up: follow.checked };
    reload(() => memoryApi.add(contactId, body), "기억할 내용을 추가했습니다.");
  };
  return h(
    "form",
    { class: "memory-add", onsubmit: submit },
    h("h4", {}, "직접 추가 (방문·상담 뒤)"),
    h("label", { for: topic.id }, "주제 "),
    topic,
    " ",
    h("label", { for: value.id }, "상태 "),
    value,
    " ",
    h("label", { for: summary.id }, "인용할 말 "),
    summary,
    " ",
    h("label", { for: follow.id }, follow, " 다음 통화에서 먼저 여쭙기"),
    " ",
    h("button", { type: "submit" }, "추가"),
  );
}
