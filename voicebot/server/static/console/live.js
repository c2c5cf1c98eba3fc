// 실시간 통화 tab: calls in progress (phone and browser), their state and transcript, every 2 seconds.
import { allows, api } from "./api.js";
import { elapsed, fill, h, label, when } from "./format.js";
import { errorBox, showError } from "./ui.js";

const MAX_LINES = 12;

export function createLiveView(panel) {
  let lastJson = "";
  const error = errorBox("live-error");
  const count = h("p", { id: "live-count", class: "muted", role: "status" });
  const list = h("ul", { class: "live-calls", id: "live-list", "aria-label": "진행 중인 통화" });
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "실시간 통화")),
    h("p", { class: "lead" }, "지금 상담봇과 통화 중인 전화를 보여 드립니다. 2초마다 새로 고쳐집니다."),
    allows("operator")
      ? [error, count, list]
      : h("p", { class: "empty" }, "실시간 통화 내용은 운영자 이상 권한으로 볼 수 있습니다."),
  );

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
        calls = await api.liveCalls();
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
