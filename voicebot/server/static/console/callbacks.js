// 콜백 예약 tab (issue 18): the agents' desk (agents on duty, callers waiting, the expected wait callers
// hear) and the call-back queue: each booking's slot, number (masked for viewers), reason, state and tries.
// Operators set the desk's figures and close call-backs (an agent called: 완료; dropped: 취소).
import { allows, request } from "./api.js";
import { fill, h, label, phone, when } from "./format.js";
import { badge, busy, confirmAction, errorBox, notify, showError, simulatedTag, table } from "./ui.js";

const FILTERS = [
  ["open", "예약됨"],
  ["missed", "시간 내 연결 못 함"],
  ["closed", "처리 완료·취소"],
  ["all", "전체"],
];

function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "상담 시간이 아님";
  return `약 ${Math.max(0, Math.round(seconds / 60))}분`;
}

function slotText(row) {
  const end = when(row.slot_end).split(" ").pop();
  return `${when(row.slot_start)} ~ ${end}`;
}

export function createCallbacksView(panel) {
  const error = errorBox("callbacks-error");
  const desk = h("div", { class: "card", id: "callback-desk", "aria-live": "polite" });
  const filter = h(
    "select",
    { id: "callback-filter", "aria-label": "보기" },
    FILTERS.map(([value, text]) => h("option", { value }, text)),
  );
  const list = h("div", { id: "callback-list" });
  let lastJson = "";
  let off = false;
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "콜백 예약"), filter),
    h(
      "p",
      { class: "lead" },
      "상담 대기 시간이 길 때 시민이 예약한 콜백입니다. 예약한 시간대가 되면 상담봇이 전화를 걸어 상담원에게 연결합니다 (상담 시간 안에만, 수신 거부 번호 제외). 직접 전화하신 뒤에는 '완료'를 눌러 주세요.",
    ),
    error,
    desk,
    list,
  );
  filter.addEventListener("change", () => refresh(true));

  function deskCard(status) {
    const agents = h("input", { id: "desk-agents", type: "number", min: "0", max: "10000", value: String(status.agents) });
    const waiting = h("input", { id: "desk-waiting", type: "number", min: "0", max: "100000", value: String(status.waiting) });
    const save = h("button", { type: "submit", class: "primary" }, "저장");
    const form = h(
      "form",
      { class: "inline-form", id: "desk-form", "data-needs": "operator", hidden: !allows("operator") },
      h("label", { for: "desk-agents" }, "근무 상담원"),
      agents,
      h("label", { for: "desk-waiting" }, "대기 통화"),
      waiting,
      save,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { agents: Number(agents.value), waiting: Number(waiting.value) };
      const done = await busy(save, () => request("/api/agents/capacity", { method: "PUT", json: body }), error);
      if (done) {
        notify("상담 인력 현황을 저장했습니다.");
        fill(desk, deskCard(done));
      }
    });
    return [
      h("h3", {}, "상담 인력 현황"),
      h(
        "p",
        { id: "desk-summary" },
        `근무 상담원 ${status.agents}명 · 대기 ${status.queue}건 · 예상 대기 시간 `,
        h("strong", { id: "desk-wait" }, minutes(status.expected_wait_s)),
        " ",
        status.congested ? badge("혼잡: 콜백 안내 중", "warn") : badge("원활", "neutral"),
      ),
      h(
        "p",
        { class: "muted" },
        `상담 시간 ${status.hours} · 안내 기준 ${Math.round(status.threshold_s / 60)}분 · 열린 콜백 ${status.open_callbacks}건 · 마지막 변경 ${status.updated_by} (${when(status.updated_at)})`,
      ),
      form,
    ];
  }

  function actions(row) {
    if (!allows("operator") || !["booked", "missed"].includes(row.state)) return "";
    const close = (verb, text) => {
      const button = h("button", { type: "button", class: verb === "done" ? "primary" : "quiet", dataset: { action: verb } }, text);
      button.addEventListener("click", async () => {
        const question = verb === "done" ? "상담원이 이 시민에게 전화했습니까?" : "이 콜백 예약을 취소할까요?";
        if (!(await confirmAction("콜백 예약", question, text))) return;
        const ok = await busy(button, () => request(`/api/callbacks/${row.id}/${verb}`, { method: "POST" }), error);
        if (ok) {
          notify(verb === "done" ? "콜백을 완료로 표시했습니다." : "콜백 예약을 취소했습니다.");
          refresh(true);
        }
      });
      return button;
    };
    return h("span", { class: "actions" }, close("done", "완료"), " ", close("cancel", "취소"));
  }

  function rowOf(row) {
    const about = [label("reason", row.reason), label("category", row.category)].filter((x) => x && x !== "-").join(" · ");
    const tries = row.attempts ? `${row.attempts}회 (${label("outcome", row.last_outcome)})` : "아직 없음";
    return h(
      "tr",
      { dataset: { callbackId: String(row.id), state: row.state } },
      h("td", {}, slotText(row)),
      h("td", { class: "phone" }, phone(row.phone)),
      h("td", {}, about || "-", row.handoff_id ? h("div", { class: "muted" }, `상담 기록 ${row.handoff_id}`) : null),
      h("td", {}, badge(label("callbackState", row.state), row.state === "missed" ? "warn" : ""), row.simulated ? simulatedTag() : null),
      h("td", {}, tries),
      h("td", {}, actions(row)),
    );
  }

  async function refresh(force) {
    let status;
    let rows;
    try {
      [status, rows] = await Promise.all([
        request("/api/agents/capacity"),
        request(`/api/callbacks?state=${filter.value}`),
      ]);
    } catch (err) {
      if (err.status === 404) {
        off = true;
        fill(desk, h("p", { class: "empty" }, "콜백 예약이 꺼져 있습니다 (serve 설정 callbacks.enabled)."));
        fill(list);
        return;
      }
      showError(error, err);
      return;
    }
    off = false;
    showError(error, null);
    const json = JSON.stringify([status, rows]);
    if (!force && json === lastJson) return;
    lastJson = json;
    if (!desk.contains(document.activeElement)) fill(desk, deskCard(status));
    fill(
      list,
      table(
        "콜백 예약 목록",
        ["예약 시간대", "전화번호", "상담 내용", "상태", "전화 시도", ""],
        rows.map(rowOf),
        { empty: "해당하는 콜백 예약이 없습니다.", className: "callbacks" },
      ),
    );
  }

  return {
    interval: 5000,
    onShow() {},
    refresh: (force) => (off && !force ? Promise.resolve() : refresh(force)),
  };
}
