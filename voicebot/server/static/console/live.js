// 실시간 통화 tab: calls in progress (phone and browser), their state and transcript, every 2 seconds; below
// them the latest calls handed to an agent (phone and browser alike): reason, question, what the caller said.
import { allows, api } from "./api.js";
import { elapsed, fill, h, label, when } from "./format.js";
import { errorBox, showError } from "./ui.js";

const MAX_LINES = 12;

export function createLiveView(panel) {
  let lastJson = "";
  const error = errorBox("live-error");
  const count = h("p", { id: "live-count", class: "muted", role: "status" });
  const list = h("ul", { class: "live-calls", id: "live-list", "aria-label": "진행 중인 통화" });
  const handoffList = h("ul", { class: "handoffs", id: "handoff-list", "aria-label": "상담원 연결 기록" });
  let lastHandoffs = "";
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "실시간 통화")),
    h("p", { class: "lead" }, "지금 상담봇과 통화 중인 전화를 보여 드립니다. 2초마다 새로 고쳐집니다."),
    allows("operator")
      ? [
          error,
          count,
          list,
          h("h3", { id: "handoffs-title" }, "최근 상담원 연결 기록"),
          h("p", { class: "lead" }, "상담봇이 상담원에게 넘긴 통화입니다 (전화와 인터넷 전화 모두). 시민의 말씀이 담겨 있으니 필요한 만큼만 보세요."),
          handoffList,
        ]
      : h("p", { class: "empty" }, "실시간 통화 내용은 운영자 이상 권한으로 볼 수 있습니다."),
  );

  function handoffCard(record) {
    const about = [record.category, record.intent].filter(Boolean).join(" · ");
    return h(
      "li",
      { class: "handoff", dataset: { handoffId: record.handoff_id, reason: record.reason || "", transport: record.transport || "" } },
      h(
        "div",
        { class: "live-head" },
        h("strong", { class: "handoff-reason" }, label("reason", record.reason)),
        h("span", { class: "badge neutral" }, label("transport", record.transport)),
        record.direction === "outbound" ? h("span", { class: "badge neutral" }, "발신 캠페인") : null,
        h("span", { class: "muted" }, when(record.timestamp)),
      ),
      h("p", { class: "handoff-intent" }, "문의: ", about || "-"),
      h("p", { class: "handoff-summary" }, record.summary || "-"),
      record.transfer ? h("p", { class: "muted" }, "연결: ", label("transfer", record.transfer)) : null,
      record.callback_requested ? h("p", { class: "muted" }, "콜백 요청 있음") : null,
      h("p", { class: "muted call-id" }, `기록 번호 ${record.handoff_id} · 통화 번호 ${record.call_id || "-"}`),
    );
  }

  async function refreshHandoffs(force) {
    const records = await api.handoffs();
    const json = JSON.stringify(records);
    if (!force && json === lastHandoffs) return;
    lastHandoffs = json;
    fill(handoffList, records.length ? records.map(handoffCard) : h("li", { class: "empty" }, "아직 상담원에게 넘긴 통화가 없습니다."));
  }

  function card(call) {
    const lines = (call.transcript || []).slice(-MAX_LINES);
    return h(
      "li",
      { class: "live-call", dataset: { callId: call.call_id, state: call.state } },
      h(
        "div",
        { class: "live-head" },
        h("strong", {}, label("transport", call.transport)),
        h("span", { class: "badge neutral call-state" }, label("callState", call.state)),
        call.handoff ? h("span", { class: "badge warn" }, `상담원 연결: ${label("reason", call.handoff)}`) : null,
        h("span", { class: "muted since" }, `${when(call.started_at)} 시작 · ${elapsed(call.started_at)} 경과`),
        h("span", { class: "muted call-id" }, `통화 번호 ${call.call_id}`),
      ),
      lines.length
        ? h(
            "ol",
            { class: "transcript", "aria-label": "대화 내용" },
            lines.map((line) =>
              h(
                "li",
                { class: line.who === "bot" ? "bot" : "caller" },
                h("span", { class: "who" }, line.who === "bot" ? "상담봇" : "시민"),
                h("span", { class: "text" }, line.text),
              ),
            ),
          )
        : h("p", { class: "muted" }, "아직 대화 내용이 없습니다."),
    );
  }

  return {
    interval: 2000,
    onShow() {},
    async refresh(force) {
      if (!allows("operator")) return;
      let calls;
      try {
        [calls] = await Promise.all([api.liveCalls(), refreshHandoffs(force)]);
      } catch (err) {
        showError(error, err);
        return;
      }
      showError(error, null);
      const json = JSON.stringify(calls);
      count.textContent = calls.length ? `진행 중인 통화 ${calls.length}건` : "지금 진행 중인 통화가 없습니다.";
      if (!force && json === lastJson) {
        // elapsed time still moves
        for (const item of list.querySelectorAll(".live-call")) {
          const call = calls.find((c) => c.call_id === item.dataset.callId);
          const span = item.querySelector(".live-head .since");
          if (call && span) span.textContent = `${when(call.started_at)} 시작 · ${elapsed(call.started_at)} 경과`;
        }
        return;
      }
      lastJson = json;
      fill(list, calls.map(card));
    },
  };
}
