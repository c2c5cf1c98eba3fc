// 민원 분석 tab (issue 19): what citizens ask, on which channel and when, how much the bot settles itself,
// and 민원예보 — the next 14 days per category with 95 % intervals and today's spike alerts. Reads
// /api/trends and /api/trends/forecast; synthetic demo data (voicebot serve --demo-data) is labelled.
import { allows, api } from "./api.js";
import { forecastBand, horizontalBars, stackedColumns } from "./charts.js";
import { fill, h, label, percent } from "./format.js";
import { errorBox, showError, table } from "./ui.js";

const OUTCOMES = [
  { key: "answered", label: "답변", color: "#11723a" },
  { key: "clarified", label: "되묻기", color: "#4d9e6b" },
  { key: "escalated", label: "상담사 연결", color: "#b45309" },
  { key: "abandoned", label: "중도 종료", color: "#94a3b8" },
];
const PERIODS = [7, 30, 90, 365];

export function createInsightsView(panel, ctx) {
  let lastJson = "";
  const period = h("select", { id: "insights-period" }, PERIODS.map((d) => h("option", { value: d }, `최근 ${d}일`)));
  period.value = "30";
  const banner = h("p", { class: "banner", id: "insights-synthetic", hidden: true });
  const figures = h("div", { class: "figures", id: "insights-figures" });
  const spikes = h("div", { id: "insights-spikes" });
  const trends = h("div", { class: "charts", id: "insights-trends" });
  const outlook = h("div", { class: "charts", id: "insights-forecast" });
  const gaps = h("div", { id: "insights-gaps" });
  const error = errorBox("insights-error");
  fill(
    panel,
    h("div", { class: "toolbar" },
      h("h2", {}, "민원 분석"),
      h("div", { class: "field inline-field" }, h("label", { for: "insights-period" }, "기간"), period)),
    banner,
    spikes,
    figures,
    h("section", { "aria-labelledby": "insights-trends-title" }, h("h3", { id: "insights-trends-title" }, "문의 추이"), trends),
    h("section", { "aria-labelledby": "insights-forecast-title" },
      h("h3", { id: "insights-forecast-title" }, "민원예보 (앞으로 14일)"),
      h("p", { class: "muted" }, "분야별 지난 4주 실제 건수와 앞으로 14일 예측입니다. 공휴일은 따로 반영합니다."),
      outlook),
    allows("operator")
      ? h("section", { "aria-labelledby": "insights-gaps-title" },
          h("h3", { id: "insights-gaps-title" }, "상담봇이 답하지 못한 질문 (지식 보완 후보)"),
          h("p", { class: "muted" }, "채팅에서 되묻거나 상담사에게 넘긴 질문을 뜻이 비슷한 것끼리 묶었습니다. 숫자는 가려서 보여 드립니다."),
          gaps)
      : null,
    error,
  );
  period.addEventListener("change", () => load(true));

  async function load(force) {
    let data;
    let ahead;
    try {
      [data, ahead] = await Promise.all([api.trends(period.value), api.trendsForecast()]);
      if (allows("operator")) renderGaps(await api.trendsGaps(period.value));
    } catch (err) {
      showError(error, err);
      return;
    }
    showError(error, null);
    const json = JSON.stringify([data, ahead]);
    if (!force && json === lastJson) return;
    lastJson = json;
    banner.hidden = !data.synthetic;
    banner.textContent = data.synthetic ? `${data.label}: 화면 시연용으로 만든 자료입니다.` : "";
    renderSpikes(ahead.spikes || []);
    renderFigures(data);
    renderTrends(data);
    renderForecast(ahead);
  }

  function renderSpikes(list) {
    fill(
      spikes,
      list.length
        ? h("div", { class: "notice", "data-kind": "error", role: "alert", id: "spike-alert" },
            h("strong", {}, "급증 경보: "),
            list.map((s) => `${s.label} 분야 오늘 ${s.count}건 (예상 ${Math.round(s.expected)}건, 상한 ${Math.round(s.upper)}건)`).join(" · "))
        : null,
    );
  }

  function renderFigures(data) {
    const item = (name, value) => h("div", { class: "figure" }, h("span", { class: "muted" }, name), h("strong", {}, value));
    fill(
      figures,
      item("전체 문의", `${data.total}건`),
      item("상담봇 자체 해결률", data.containment == null ? "-" : percent(data.containment)),
      item("상담사 연결률", data.escalation == null ? "-" : percent(data.escalation)),
    );
  }

  function renderTrends(data) {
    const days = data.daily || [];
    const bars = (title, items, id, color) =>
      h("div", { class: "chart-card", id },
        horizontalBars({ title, items, color, valueText: (v) => `${v}건`, valueHead: "건수" }));
    fill(
      trends,
      h("div", { class: "chart-card wide", id: "chart-daily" },
        stackedColumns({ title: "일별 문의와 처리 결과", rows: days, series: OUTCOMES, xLabel: (r) => r.date.slice(5).replace("-", "/") })),
      h("div", { class: "chart-card wide", id: "chart-containment" },
        stackedColumns({
          title: "일별 상담봇 자체 해결률 (%)",
          rows: days.map((r) => ({ date: r.date, contained: r.containment == null ? 0 : Math.round(r.containment * 100) })),
          series: [{ key: "contained", label: "자체 해결률 (답변·되묻기로 끝난 문의)", color: "#11723a" }],
          xLabel: (r) => r.date.slice(5).replace("-", "/"),
          unit: "%",
          summary: `기간 전체 자체 해결률 ${data.containment == null ? "-" : percent(data.containment)}, 상담사 연결률 ${data.escalation == null ? "-" : percent(data.escalation)}`,
        })),
      bars("분야별 문의", (data.by_category || []).map((c) => ({ label: c.label, value: c.count })), "chart-categories", "#1d4ed8"),
      bars("채널별 문의", (data.by_channel || []).map((c) => ({ label: c.label, value: c.count })), "chart-channels", "#6d28d9"),
      h("div", { class: "chart-card", id: "channel-outcomes" },
        h("h3", {}, "채널별 처리 결과"),
        table(
          "채널별 처리 결과",
          ["채널", "문의", "자체 해결률", "상담사 연결", "중도 종료"],
          (data.by_channel || []).map((c) => [
            c.label,
            `${c.count}건`,
            c.containment == null ? "-" : percent(c.containment),
            `${c.escalated}건 (${c.escalation == null ? "-" : percent(c.escalation)})`,
            `${c.abandoned}건`,
          ]),
        )),
      bars("많이 묻는 문의", (data.by_intent || []).slice(0, 10).map((c) => ({ label: c.title || c.intent, value: c.count })), "chart-top-intents", "#0f766e"),
      bars("상담사 연결 사유", (data.escalation_reasons || []).map((r) => ({ label: label("reason", r.reason), value: r.count })), "chart-reasons", "#b45309"),
      h("div", { class: "chart-card", id: "chart-hours" },
        stackedColumns({ title: "시간대별 문의", rows: data.by_hour || [], series: [{ key: "count", label: "문의", color: "#1d4ed8" }], xLabel: (r) => `${r.hour}시` })),
      h("div", { class: "chart-card", id: "chart-weekdays" },
        stackedColumns({ title: "요일별 문의", rows: data.by_weekday || [], series: [{ key: "count", label: "문의", color: "#1d4ed8" }], xLabel: (r) => r.weekday })),
    );
  }

  function renderGaps(found) {
    const groups = found.groups || [];
    fill(
      gaps,
      groups.length
        ? h("ol", { class: "gap-list" },
            groups.map((g) =>
              h("li", { class: "gap" },
                h("strong", {}, `${g.count}건`), " ",
                h("span", {}, g.examples[0]),
                h("details", {},
                  h("summary", {}, "예시와 KB 항목 초안"),
                  h("ul", {}, g.examples.map((e) => h("li", {}, e))),
                  h("pre", { class: "gap-draft" },
                    `category: ${g.draft.category}\ntitle: ${g.draft.title}\nquestions:\n${g.draft.questions.map((q) => `  - ${q}`).join("\n")}\nanswer: (관리자가 작성해 주세요)`),
                  allows("operator") && ctx
                    ? h("button", { type: "button", class: "gap-create", onclick: () => ctx.goto("knowledge", { prefill: g.draft }) }, "상담 지식 항목 만들기")
                    : null))))
        : h("p", { class: "empty" }, found.note || "이 기간에는 답하지 못한 질문이 없습니다."),
    );
  }

  function renderForecast(ahead) {
    const cats = ahead.categories || [];
    const holidays = (ahead.holidays || []).map((d) => `${d.date.slice(5).replace("-", "/")} ${d.name}`).join(", ");
    fill(
      outlook,
      holidays ? h("p", { class: "muted wide", id: "forecast-holidays" }, `예측 기간의 공휴일: ${holidays}`) : null,
      cats.length
        ? cats.map((c) =>
            h("div", { class: "chart-card", id: `forecast-${c.category}` },
              forecastBand({ title: `${c.label} (오늘 지금까지 ${c.today}건)`, history: c.history, forecast: c.forecast })))
        : h("p", { class: "empty" }, "예측에 필요한 자료가 아직 모자랍니다 (분야별로 4주 이상 필요합니다)."),
    );
  }

  return {
    interval: 60000,
    onShow() {},
    async refresh(force) {
      await load(force);
    },
  };
}
