// 결과 tab: attempts filtered by campaign, outcome and dates (Seoul days), newest first, a page at a time;
// each person's check-in history; the campaign's CSV export (operator; with transcripts for admin).
import { allows, api, saveResponse } from "./api.js";
import { LABELS, fill, h, label, phone, seconds, seoulMidnight, when } from "./format.js";
import { openHistory } from "./history.js";
import { applyRole, badge, busy, campaignChooser, errorBox, notify, showError, simulatedTag, table } from "./ui.js";

const PAGE = 50;
const OVERALL_TONE = { fine: "good", not_fine: "warn", concern: "bad", unclear: "neutral", no_input: "neutral", emergency: "bad" };
const CALL_OUTCOME_TONE = { transfer: "warn", emergency: "bad", wrong_person: "warn", no_response: "neutral", hangup: "neutral", caller_hangup: "neutral" };
const OUTCOME_TONE = {
  human: "good",
  answered: "good",
  voicemail: "neutral",
  carrier_message: "warn",
  screened: "neutral",
  no_answer: "neutral",
  busy: "warn",
  rejected: "warn",
  hung_up_early: "neutral",
  failed: "bad",
};

/** How the answering-machine detector decided, in a line under the outcome: the reason and when. */
function amdNote(amd) {
  if (!amd || !amd.reason) return null;
  const parts = [`자동 판별: ${label("amdReason", amd.reason)}`];
  if (amd.decided_s != null) parts.push(`${amd.decided_s}초`);
  if (amd.message_left) parts.push("음성 메시지 남김");
  return h("div", { class: "hint amd-note" }, parts.join(" · "));
}

export function createResultsView(panel, ctx) {
  let offset = 0;
  let lastJson = "";
  const campaign = h("select", { id: "results-campaign", name: "campaign_id" });
  const outcome = h(
    "select",
    { id: "results-outcome", name: "outcome" },
    h("option", { value: "" }, "전체"),
    Object.keys(LABELS.outcome).map((value) => h("option", { value }, label("outcome", value))),
  );
  const since = h("input", { id: "results-since", type: "date", name: "since" });
  const until = h("input", { id: "results-until", type: "date", name: "until" });
  const error = errorBox("results-error");
  const count = h("p", { id: "results-count", class: "muted", "aria-live": "polite" });
  const tableBox = h("div", { id: "results-table" });
  const prev = h("button", { type: "button", class: "quiet" }, "이전");
  const next = h("button", { type: "button", class: "quiet" }, "다음");
  const transcripts = h("input", { id: "export-transcripts", type: "checkbox" });
  const exportButton = h("button", { type: "button", id: "export-csv" }, "CSV 내보내기");
  const exportHint = h("p", { class: "hint", id: "export-hint" }, "캠페인을 고르면 그 캠페인의 모든 통화를 엑셀에서 열 수 있는 CSV로 내려받습니다. 이름과 번호는 가려집니다.");
  exportButton.setAttribute("aria-describedby", "export-hint");
  const filters = h(
    "form",
    { class: "filters card", "aria-label": "결과 찾기" },
    h("div", { class: "field" }, h("label", { for: "results-campaign" }, "캠페인"), campaign),
    h("div", { class: "field" }, h("label", { for: "results-outcome" }, "통화 결과"), outcome),
    h("div", { class: "field" }, h("label", { for: "results-since" }, "시작 날짜"), since),
    h("div", { class: "field" }, h("label", { for: "results-until" }, "끝 날짜"), until),
    h("div", { class: "field buttons" }, h("button", { type: "submit", class: "primary" }, "조회"), h("button", { type: "reset", class: "quiet" }, "조건 지우기")),
  );
  const exporter = h(
    "div",
    { class: "export card", "data-needs": "operator" },
    h("h3", {}, "내려받기"),
    exportButton,
    h("label", { class: "check", "data-needs": "admin" }, transcripts, "실명, 전화번호, 녹취록 포함 (관리자 전용)"),
    exportHint,
  );
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "결과")),
    filters,
    exporter,
    error,
    count,
    tableBox,
    h("div", { class: "pager" }, prev, next),
  );
  applyRole(panel);

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    offset = 0;
    load(true);
  });
  filters.addEventListener("reset", () => {
    setTimeout(() => {
      offset = 0;
      load(true);
    });
  });
  prev.addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE);
    load(true);
  });
  next.addEventListener("click", () => {
    offset += PAGE;
    load(true);
  });
  campaign.addEventListener("change", updateExport);
  exportButton.addEventListener("click", async () => {
    const id = campaign.value;
    if (!id) return;
    const saved = await busy(exportButton, async () => saveResponse(await api.exportCsv(id, transcripts.checked), `campaign-${id}.csv`), error);
    if (saved) notify(`${saved} 파일을 내려받았습니다.`);
  });

  function updateExport() {
    exportButton.disabled = !campaign.value;
  }

  const chooseCampaign = campaignChooser(campaign, (c) => `${c.name} (#${c.id})`);
  function fillCampaigns() {
    if (chooseCampaign(ctx.campaigns)) updateExport();
  }

  function params() {
    return {
      campaign_id: campaign.value,
      outcome: outcome.value,
      since: seoulMidnight(since.value),
      until: seoulMidnight(until.value, 1),
      limit: PAGE,
      offset,
    };
  }

  async function load(force) {
    showError(error, null);
    let data;
    try {
      data = await api.attempts(params());
    } catch (err) {
      showError(error, err);
      return;
    }
    const json = JSON.stringify(data);
    if (!force && json === lastJson) return;
    lastJson = json;
    const from = data.total ? offset + 1 : 0;
    const to = Math.min(offset + PAGE, data.total);
    count.textContent = data.total ? `총 ${data.total}건 중 ${from}–${to}번째` : "조건에 맞는 통화가 없습니다.";
    prev.disabled = offset === 0;
    next.disabled = to >= data.total;
    fill(tableBox, renderTable(data.items));
  }

  function renderTable(items) {
    const operator = allows("operator");
    const head = ["예정 시각", "캠페인", "대상자", "전화번호", "차수", "결과", "안부", "답변", "통화 시간"];
    if (operator) head.push("이력");
    const rows = items.map((a) => {
      const cells = [
        when(a.due_at),
        ctx.campaignName(a.campaign_id),
        a.contact.name,
        h("td", { class: "phone" }, phone(a.contact.phone)),
        `${a.attempt_number}차`,
        h(
          "td",
          {},
          a.outcome ? badge(label("outcome", a.outcome), OUTCOME_TONE[a.outcome]) : label("state", a.state),
          a.call_outcome && a.call_outcome !== "completed" ? badge(label("callOutcome", a.call_outcome), CALL_OUTCOME_TONE[a.call_outcome]) : null,
          a.simulated ? simulatedTag() : null,
          amdNote(a.amd),
        ),
        h("td", {}, a.overall ? badge(label("overall", a.overall), OVERALL_TONE[a.overall]) : "-", a.emergency ? badge(label("emergency", a.emergency), "bad") : null),
        answers(a.answers),
        seconds(a.duration_s),
      ];
      if (operator) {
        cells.push(
          h("button", { type: "button", class: "link", onclick: () => openHistory(a.contact), "aria-label": `${a.contact.name} 님 이력 보기` }, "이력 보기"),
        );
      }
      return h("tr", { dataset: { attemptId: a.id, outcome: a.outcome || a.state } }, cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : h("td", {}, c))));
    });
    return table("통화 결과", head, rows, { empty: "조건에 맞는 통화가 없습니다.", className: "results" });
  }

  return {
    interval: 5000,
    onShow(options = {}) {
      fillCampaigns();
      if (options.campaignId !== undefined) {
        campaign.value = String(options.campaignId);
        updateExport();
        offset = 0;
      }
    },
    async refresh(force) {
      fillCampaigns();
      await load(force);
    },
  };
}

function answers(map) {
  const entries = Object.entries(map || {}).filter(([, v]) => v);
  if (!entries.length) return "-";
  return entries.map(([k, v]) => `${label("step", k)} ${label("answer", v)}`).join(", ");
}
