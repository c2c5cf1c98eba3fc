// 통계 tab: outcomes by hour, reached rate per campaign, top inbound intents, escalation reasons and the
// reply latency distribution, as inline SVG charts (charts.js) with their numbers as tables.
import { api } from "./api.js";
import { histogram, horizontalBars, stackedColumns } from "./charts.js";
import { dayLabel, fill, h, hourLabel, label, percent } from "./format.js";
import { campaignChooser, errorBox, showError } from "./ui.js";

const OUTCOME_COLORS = {
  human: "#11723a",
  answered: "#4d9e6b",
  voicemail: "#6d28d9",
  carrier_message: "#a78bfa",
  screened: "#c4b5fd",
  busy: "#b45309",
  no_answer: "#64748b",
  rejected: "#d97706",
  hung_up_early: "#94a3b8",
  failed: "#b42318",
};
const OUTCOME_SERIES = Object.entries(OUTCOME_COLORS).map(([key, color]) => ({ key, label: label("outcome", key), color }));
const TOP_INTENTS = 10;

export function createStatsView(panel, ctx) {
  let lastJson = "";
  const campaign = h("select", { id: "stats-campaign" });
  const error = errorBox("stats-error");
  const outbound = h("div", { class: "charts", id: "outbound-charts" });
  const inbound = h("div", { class: "charts", id: "inbound-charts" });
  const inboundCount = h("p", { class: "muted", id: "inbound-count" });
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "통계")),
    h("section", { "aria-labelledby": "outbound-stats-title" },
      h("div", { class: "toolbar" },
        h("h3", { id: "outbound-stats-title" }, "안내·안부 전화 (아웃바운드)"),
        h("div", { class: "field inline-field" }, h("label", { for: "stats-campaign" }, "캠페인"), campaign),
      ),
      outbound,
    ),
    h("section", { "aria-labelledby": "inbound-stats-title" },
      h("h3", { id: "inbound-stats-title" }, "시민 문의 전화 (인바운드)"),
      inboundCount,
      inbound,
    ),
    error,
  );
  campaign.addEventListener("change", () => load(true));

  const chooseCampaign = campaignChooser(campaign);
  function fillCampaigns() {
    chooseCampaign(ctx.campaigns);
  }

  async function load(force) {
    let out;
    let inb;
    try {
      [out, inb] = await Promise.all([api.outboundStats({ campaign_id: campaign.value }), api.inboundStats()]);
    } catch (err) {
      showError(error, err);
      return;
    }
    showError(error, null);
    const json = JSON.stringify([out, inb]);
    if (!force && json === lastJson) return;
    lastJson = json;
    renderOutbound(out);
    renderInbound(inb);
  }

  function renderOutbound(data) {
    const hours = continuousHours(data.outcomes_by_hour || []);
    const days = new Set(hours.map((row) => dayLabel(row.hour)));
    const xLabel = (row) => (days.size > 1 ? `${dayLabel(row.hour)} ${hourLabel(row.hour)}` : hourLabel(row.hour));
    const rates = data.reached_rate || [];
    fill(
      outbound,
      h("div", { class: "chart-card", id: "chart-outcomes" },
        stackedColumns({ title: "시간대별 통화 결과", rows: hours, series: OUTCOME_SERIES, xLabel })),
      h("div", { class: "chart-card", id: "chart-reached" },
        horizontalBars({
          title: "캠페인별 연결률",
          items: rates.map((r) => ({
            label: r.name || `캠페인 ${r.campaign_id}`,
            value: Number(r.reached_rate) || 0,
            text: `${percent(r.reached_rate)} (${r.reached}/${r.contacts}명)`,
          })),
          max: 1,
          color: "#11723a",
          valueText: (v) => percent(v),
          valueHead: "연결률 (연결/대상자)",
        })),
    );
  }

  function renderInbound(data) {
    inboundCount.textContent = `지금까지 집계된 문의 전화 ${data.calls ?? 0}건`;
    const intents = [...(data.intents || [])].sort((a, b) => b.count - a.count).slice(0, TOP_INTENTS);
    const reasons = [...(data.escalations || [])].sort((a, b) => b.count - a.count);
    const latency = data.latency_ms || {};
    fill(
      inbound,
      h("div", { class: "chart-card", id: "chart-intents" },
        horizontalBars({
          title: `많이 묻는 문의 (상위 ${TOP_INTENTS}개)`,
          items: intents.map((i) => ({ label: i.title || i.label || i.intent, value: i.count })),
          color: "#1d4ed8",
          valueText: (v) => `${v}건`,
          valueHead: "건수",
        })),
      h("div", { class: "chart-card", id: "chart-escalations" },
        horizontalBars({
          title: "상담원 연결 사유",
          items: reasons.map((r) => ({ label: label("reason", r.reason), value: r.count })),
          color: "#b45309",
          valueText: (v) => `${v}건`,
          valueHead: "건수",
        })),
      h("div", { class: "chart-card wide", id: "chart-latency" },
        histogram({
          title: "응답 시간 분포 (말을 마친 뒤 상담봇이 답하기까지)",
          buckets: perBucket(latency.histogram || [], latency.count),
          p50: latency.p50,
          p95: latency.p95,
          count: latency.count,
        })),
    );
  }

  return {
    interval: 15000,
    onShow() {
      fillCampaigns();
    },
    async refresh(force) {
      fillCampaigns();
      await load(force);
    },
  };
}

/** Buckets as counts per bucket; Prometheus-style cumulative counts ("le") are turned into differences. */
export function perBucket(buckets, total) {
  const counts = buckets.map((b) => Number(b.count) || 0);
  const sum = counts.reduce((a, b) => a + b, 0);
  const rising = counts.every((c, i) => i === 0 || c >= counts[i - 1]);
  const cumulative = rising && counts.length > 1 && counts[counts.length - 1] === total && sum > total;
  if (!cumulative) return buckets;
  return buckets.map((b, i) => ({ ...b, count: counts[i] - (i ? counts[i - 1] : 0) }));
}

/** Hours with no call are missing from the API's list: put them back (as zeros) so time reads evenly. */
export function continuousHours(rows, maxHours = 72) {
  if (rows.length < 2) return rows;
  const times = rows.map((r) => new Date(r.hour).getTime());
  if (times.some(Number.isNaN)) return rows;
  const first = Math.min(...times);
  const last = Math.max(...times);
  const span = Math.round((last - first) / 3_600_000);
  if (span > maxHours) return rows;
  const byTime = new Map(rows.map((r, i) => [times[i], r]));
  const out = [];
  for (let i = 0; i <= span; i++) {
    const t = first + i * 3_600_000;
    out.push(byTime.get(t) || { hour: new Date(t).toISOString() });
  }
  return out;
}
