// 감사 기록 tab (admins): who changed what and who saw whose personal data (GET /api/audit, issue 17),
// newest first, filtered by action and staff name, older events a page at a time ("더 보기"). Events hold
// ids and codes only. Reading the log is itself recorded, so this tab does not poll: it loads when shown
// and when the filters change.
import { allows, query, request } from "./api.js";
import { LABELS, fill, h, label, when } from "./format.js";
import { errorBox, showError } from "./ui.js";

const PAGE = 100;
// Retention (GET /api/retention): the period of each kind of personal data and the latest daily run.
const RETENTION_KINDS = {
  inbound: "수신 통화 (녹음, 상담원 연결 기록, 콜백 예약)",
  outbound: "발신 통화 (답변 내용, 녹음)",
  chat: "채팅 상담 (끝난 대화)",
};
const RETENTION_COUNTS = {
  recordings: "녹음",
  handoffs: "연결 기록",
  callbacks: "콜백 예약",
  attempts: "통화 내용",
  recordings_kept: "폴더 밖 녹음(보존)",
  conversations: "대화",
  messages: "메시지",
};

function retentionRows(status) {
  return Object.entries(RETENTION_KINDS).map(([kind, name]) => {
    const deleted = status.last_deleted ? status.last_deleted[kind] || {} : null;
    const counts = deleted
      ? Object.entries(deleted)
          .filter(([key]) => key !== "recordings_kept")
          .map(([key, n]) => `${RETENTION_COUNTS[key] || key} ${n}건`)
          .join(", ")
      : "아직 실행되지 않음";
    return h(
      "tr",
      { dataset: { kind } },
      h("td", {}, name),
      h("td", { class: "num" }, `${status.days[kind]}일`),
      h("td", {}, counts),
    );
  });
}
const HEADERS = ["번호", "시각", "직원", "권한", "한 일", "대상", "내용"];

function target(event) {
  const kind = label("auditTarget", event.target_kind);
  return event.target_id ? `${kind} #${event.target_id}` : kind;
}

function row(event) {
  return h(
    "tr",
    { dataset: { eventId: String(event.id), action: event.action } },
    h("td", { class: "num" }, event.id),
    h("td", {}, when(event.at)),
    h("td", {}, event.actor),
    h("td", {}, label("role", event.actor_role)),
    h("td", {}, label("auditAction", event.action)),
    h("td", {}, target(event)),
    h("td", { class: "muted" }, event.detail || "-"),
  );
}

export function createAuditView(panel) {
  const action = h(
    "select",
    { id: "audit-action", name: "action" },
    h("option", { value: "" }, "전체"),
    Object.keys(LABELS.auditAction).map((code) => h("option", { value: code }, label("auditAction", code))),
  );
  const actor = h("input", { id: "audit-actor", name: "actor", type: "text", maxlength: "100", autocomplete: "off" });
  const error = errorBox("audit-error");
  const count = h("p", { id: "audit-count", class: "muted", "aria-live": "polite" });
  const body = h("tbody", {});
  // Built once: "더 보기" appends older rows to the same table.
  const grid = h(
    "div",
    { class: "table-wrap", id: "audit-list", tabindex: "0", role: "region", "aria-label": "감사 기록 목록", hidden: true },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, "감사 기록 목록"),
      h("thead", {}, h("tr", {}, HEADERS.map((head) => h("th", { scope: "col" }, head)))),
      body,
    ),
  );
  const empty = h("p", { class: "empty", id: "audit-empty", hidden: true }, "조건에 맞는 기록이 없습니다.");
  const retentionBody = h("tbody", {});
  const retentionNote = h("p", { class: "muted", id: "retention-last" });
  const retention = h(
    "section",
    { class: "card", id: "retention", "aria-label": "개인정보 보관 기간" },
    h("h3", {}, "개인정보 보관 기간"),
    h("p", { class: "muted" }, "기간이 지난 통화 녹음과 대화 내용은 매일 자동으로 삭제됩니다. 통계(건수, 분류)는 남습니다."),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, "보관 기간과 마지막 정리"),
        h("thead", {}, h("tr", {}, ["종류", "보관 기간", "마지막 정리에서 삭제"].map((head) => h("th", { scope: "col" }, head)))),
        retentionBody,
      ),
    ),
    retentionNote,
  );
  const more = h("button", { type: "button", id: "audit-more", hidden: true }, "더 보기");
  let next = null; // before_id of the next (older) page
  let shown = 0;
  const filters = h(
    "form",
    { class: "filters card", "aria-label": "감사 기록 찾기" },
    h("div", { class: "field" }, h("label", { for: "audit-action" }, "한 일"), action),
    h("div", { class: "field" }, h("label", { for: "audit-actor" }, "직원 (토큰 이름)"), actor),
    h("div", { class: "field buttons" }, h("button", { type: "submit", class: "primary" }, "조회"), h("button", { type: "reset", class: "quiet" }, "조건 지우기")),
  );
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "감사 기록")),
    h(
      "p",
      { class: "lead" },
      "누가 언제 무엇을 바꾸거나 개인정보를 열람했는지 남긴 기록입니다. 기록은 고치거나 지울 수 없으며, ",
      "이름이나 전화번호 없이 번호로만 남습니다. 이 기록을 보는 것도 기록됩니다.",
    ),
    allows("admin") ? [retention, filters, error, count, grid, empty, h("div", { class: "pager" }, more)] : h("p", { class: "empty" }, "감사 기록은 관리자만 볼 수 있습니다."),
  );

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  filters.addEventListener("reset", () => setTimeout(() => load(false)));
  more.addEventListener("click", () => load(true));

  async function loadRetention() {
    let status;
    try {
      status = await request("/api/retention");
    } catch (err) {
      showError(error, err);
      return;
    }
    retentionBody.replaceChildren(...retentionRows(status));
    retentionNote.textContent = status.last_run_at
      ? `마지막 정리: ${when(status.last_run_at)} (${status.every_hours}시간마다)`
      : `정리는 서버 시작 때와 ${status.every_hours}시간마다 실행됩니다.`;
  }

  async function load(older) {
    if (!allows("admin")) return;
    const params = { action: action.value, actor: actor.value.trim(), limit: PAGE, before_id: older ? next : "" };
    let page;
    more.disabled = true;
    try {
      page = await request(`/api/audit?${query(params)}`);
    } catch (err) {
      showError(error, err);
      return;
    } finally {
      more.disabled = false;
    }
    showError(error, null);
    if (!older) {
      body.replaceChildren();
      shown = 0;
    }
    body.append(...page.items.map(row));
    shown += page.items.length;
    grid.hidden = shown === 0;
    empty.hidden = shown !== 0;
    next = page.next_before_id;
    more.hidden = next === null;
    count.textContent = `기록 ${shown}건${next === null ? "" : " (더 있음)"}`;
  }

  return {
    interval: 60_000,
    onShow() {},
    async refresh(force) {
      if (force) await Promise.all([load(false), loadRetention()]); // no polling (each read is recorded)
    },
  };
}
