// One person's check-in history in a dialog: every check-in as a column, every question as a row, each
// cell a word on a colour (the word carries the meaning, the colour helps spotting change).
import { api } from "./api.js";
import { fill, h, label, when } from "./format.js";
import { memorySection } from "./memory.js";
import { badge, simulatedTag } from "./ui.js";

const TONE = { fine: "good", yes: "good", not_fine: "warn", unclear: "neutral", no_input: "neutral", concern: "bad", no: "warn", emergency: "bad" };
const TREND_TONE = { worse: "bad", better: "good", steady: "neutral", new: "neutral" };

export function setupHistoryDialog() {
  const dialog = document.getElementById("history-dialog");
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });
}

/** Open the dialog for `contact` ({id, name}). */
export async function openHistory(contact) {
  const dialog = document.getElementById("history-dialog");
  const body = document.getElementById("history-body");
  document.getElementById("history-title").textContent = `${contact.name || "대상자"} 님 안부 확인 이력`;
  fill(body, h("p", { class: "muted" }, "불러오는 중입니다…"));
  if (!dialog.open) dialog.showModal();
  try {
    render(body, await api.history(contact.id));
    body.append(memorySection(contact.id)); // what the check-ins remember, editable (issue 16)
  } catch (error) {
    fill(body, h("p", { class: "error", role: "alert" }, error.detail || error.message));
  }
}

function render(body, history) {
  const checkins = history.checkins || [];
  if (!checkins.length) {
    fill(body, h("p", { class: "empty" }, "아직 끝난 통화가 없습니다."));
    return;
  }
  const steps = Object.keys(history.series || {});
  const head = ["질문", ...checkins.map((c) => when(c.at))];
  const valueCell = (value) =>
    h("td", { class: `cell ${TONE[value] || ""}` }, value ? label("answer", value) : "-");
  const rows = [
    h(
      "tr",
      {},
      h("th", { scope: "row" }, "통화 결과"),
      checkins.map((c) => h("td", {}, label("outcome", c.outcome), c.simulated ? [" ", simulatedTag()] : null)),
    ),
    h(
      "tr",
      {},
      h("th", { scope: "row" }, "종합"),
      checkins.map((c) => h("td", { class: `cell ${TONE[c.overall] || ""}` }, c.overall ? label("overall", c.overall) : "-", c.emergency ? ` (${label("emergency", c.emergency)})` : "")),
    ),
    ...steps.map((step) =>
      h("tr", {}, h("th", { scope: "row" }, label("step", step)), checkins.map((c) => valueCell(c.answers?.[step]))),
    ),
  ];
  fill(
    body,
    h(
      "p",
      { class: "trend" },
      "최근 변화: ",
      badge(label("trend", history.trend), TREND_TONE[history.trend]),
      ` · 연결 ${history.reached ?? 0}회, 연결 안 됨 ${history.not_reached ?? 0}회`
        + (history.machines ? ` (그중 음성사서함·자동 응대 ${history.machines}회)` : ""),
    ),
    h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "안부 확인 이력 표" },
      h(
        "table",
        { class: "history" },
        h("caption", { class: "visually-hidden" }, "통화마다 질문별 답변"),
        h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows),
      ),
    ),
  );
}
