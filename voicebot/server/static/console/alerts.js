// 알림 tab: the queue for social workers (critical first), each alert with the person, what happened and,
// for operators, a note and "확인 처리" (acknowledge); acknowledged alerts leave the open queue.
import { allows, api } from "./api.js";
import { alertMessage, fill, h, label, phone, when } from "./format.js";
import { openHistory } from "./history.js";
import { applyRole, badge, busy, campaignChooser, errorBox, notify, showError } from "./ui.js";

const SEVERITY_TONE = { critical: "bad", warning: "warn", info: "neutral" };

export function createAlertsView(panel, ctx) {
  let lastJson = "";
  const drafts = new Map(); // alert id -> note being typed (survives a refresh)
  const openOnly = h("input", { type: "radio", name: "alert-scope", value: "open", checked: true, id: "alerts-open" });
  const all = h("input", { type: "radio", name: "alert-scope", value: "all", id: "alerts-all" });
  const campaign = h("select", { id: "alerts-campaign" });
  const error = errorBox("alerts-error");
  const count = h("p", { class: "muted", id: "alerts-count", "aria-live": "polite" });
  const list = h("ul", { class: "alerts", id: "alert-list", "aria-label": "알림 목록" });
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", { id: "alerts-title", tabindex: "-1" }, "알림")),
    h(
      "p",
      { class: "lead" },
      "안부가 걱정되는 분, 긴급 상황, 여러 번 걸어도 연락이 닿지 않은 분을 알려 드립니다. ",
      allows("operator") ? "살펴보신 뒤 메모를 남기고 '확인 처리'를 눌러 주세요." : "",
    ),
    h(
      "div",
      { class: "filters card" },
      h("fieldset", { class: "inline" }, h("legend", {}, "보기"), h("label", { class: "check" }, openOnly, "확인 안 한 알림"), h("label", { class: "check" }, all, "모든 알림")),
      h("div", { class: "field" }, h("label", { for: "alerts-campaign" }, "캠페인"), campaign),
    ),
    error,
    count,
    list,
  );
  for (const el of [openOnly, all, campaign]) el.addEventListener("change", () => load(true));

  const chooseCampaign = campaignChooser(campaign);
  function fillCampaigns() {
    chooseCampaign(ctx.campaigns);
  }

  async function load(force) {
    // Never redraw under someone typing a note.
    if (!force && list.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA") return;
    let alerts;
    try {
      alerts = await api.alerts({ open: openOnly.checked ? "true" : "", campaign_id: campaign.value });
    } catch (err) {
      showError(error, err);
      return;
    }
    showError(error, null);
    if (openOnly.checked && !campaign.value) ctx.setAlertCount(alerts.length);
    alerts.sort(byUrgency);
    const json = JSON.stringify(alerts);
    if (!force && json === lastJson) return;
    lastJson = json;
    const open = alerts.filter((a) => !a.acknowledged_at).length;
    count.textContent = alerts.length ? `알림 ${alerts.length}건 (확인 안 한 알림 ${open}건)` : "";
    const active = document.activeElement?.dataset?.focusKey;
    fill(list, alerts.length ? alerts.map(card) : h("li", { class: "empty" }, openOnly.checked ? "확인할 알림이 없습니다." : "알림이 없습니다."));
    applyRole(list);
    if (active) list.querySelector(`[data-focus-key="${CSS.escape(active)}"]`)?.focus();
  }

  function card(alert) {
    const person = alert.contact;
    const id = alert.id;
    const head = h(
      "div",
      { class: "alert-head" },
      badge(label("severity", alert.severity), SEVERITY_TONE[alert.severity]),
      h("strong", { class: "alert-kind" }, label("alertKind", alert.kind)),
      h("span", { class: "muted" }, `${ctx.campaignName(alert.campaign_id)} · ${when(alert.created_at)}`),
    );
    const who = person
      ? h("p", { class: "alert-person" }, h("span", { class: "name" }, person.name), " ", h("span", { class: "phone" }, phone(person.phone)))
      : null;
    const parts = [head, who, h("p", {}, alertMessage(alert))];
    if (person) {
      parts.push(
        h(
          "button",
          {
            type: "button",
            class: "link",
            "data-needs": "operator",
            "data-focus-key": `history-${id}`,
            "aria-label": `${person.name} 님 안부 확인 이력 보기`,
            onclick: () => openHistory(person),
          },
          "안부 확인 이력 보기",
        ),
      );
    }
    if (alert.acknowledged_at) {
      parts.push(
        h(
          "p",
          { class: "acked" },
          `확인함: ${alert.acknowledged_by || "-"} · ${when(alert.acknowledged_at)}`,
          alert.note ? h("span", { class: "note" }, ` — 메모: ${alert.note}`) : null,
        ),
      );
    } else {
      parts.push(ackForm(alert));
    }
    return h("li", { class: `alert-card ${alert.severity}`, dataset: { alertId: id, kind: alert.kind } }, parts);
  }

  function ackForm(alert) {
    const noteId = `ack-note-${alert.id}`;
    const note = h("textarea", { id: noteId, rows: 2, maxlength: 2000, "data-focus-key": noteId });
    note.value = drafts.get(alert.id) || "";
    note.addEventListener("input", () => drafts.set(alert.id, note.value));
    const who = alert.contact ? `${alert.contact.name} 님 ` : "";
    const submit = h(
      "button",
      { type: "submit", class: "primary", "data-focus-key": `ack-${alert.id}`, "aria-label": `${who}${label("alertKind", alert.kind)} 알림 확인 처리` },
      "확인 처리",
    );
    const box = errorBox(`ack-error-${alert.id}`);
    const form = h(
      "form",
      { class: "ack", "data-needs": "operator" },
      h("label", { for: noteId }, "메모 (무엇을 했는지, 예: 방문 상담 예정)"),
      note,
      submit,
      box,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const done = await busy(submit, () => api.ack(alert.id, note.value), box);
      if (done) {
        drafts.delete(alert.id);
        notify(`${label("alertKind", alert.kind)} 알림을 확인 처리했습니다.`);
        await load(true);
        document.getElementById("alerts-title").focus();
      }
    });
    return form;
  }

  return {
    interval: 5000,
    onShow(options = {}) {
      fillCampaigns();
      if (options.campaignId !== undefined) campaign.value = String(options.campaignId);
    },
    async refresh(force) {
      fillCampaigns();
      await load(force);
    },
  };
}

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 };
const KIND_ORDER = { emergency: 0, welfare_concern: 1, unreachable: 2 };

/** Open before acknowledged, then critical first, welfare concerns before unreachable, newest first. */
function byUrgency(a, b) {
  return (
    Number(Boolean(a.acknowledged_at)) - Number(Boolean(b.acknowledged_at)) ||
    (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) ||
    (KIND_ORDER[a.kind] ?? 3) - (KIND_ORDER[b.kind] ?? 3) ||
    b.id - a.id
  );
}
