// 알림 tab: the queue for social workers, one card per person (most urgent first) with how many alerts they
// have, the latest ones and, for operators, a note and "확인 처리" that acknowledges the person's open alerts
// together; acknowledged alerts leave the open queue.
import { allows, api } from "./api.js";
import { alertMessage, fill, h, label, phone, when } from "./format.js";
import { openHistory } from "./history.js";
import { applyRole, badge, busy, campaignChooser, errorBox, notify, showError, simulatedTag } from "./ui.js";

const SEVERITY_TONE = { critical: "bad", warning: "warn", info: "neutral" };
const LATEST = 3; // alerts shown on a person's card; the older ones are folded

export function createAlertsView(panel, ctx) {
  let lastJson = "";
  const drafts = new Map(); // person key -> note being typed (survives a refresh)
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
    const json = JSON.stringify(alerts);
    if (!force && json === lastJson) return;
    lastJson = json;
    const groups = byPerson(alerts);
    const open = alerts.filter((a) => !a.acknowledged_at).length;
    count.textContent = alerts.length ? `${groups.length}명, 알림 ${alerts.length}건 (확인 안 한 알림 ${open}건)` : "";
    const active = document.activeElement?.dataset?.focusKey;
    fill(list, groups.length ? groups.map(card) : h("li", { class: "empty" }, openOnly.checked ? "확인할 알림이 없습니다." : "알림이 없습니다."));
    applyRole(list);
    if (active) list.querySelector(`[data-focus-key="${CSS.escape(active)}"]`)?.focus();
  }

  /** One card per person: how many alerts, the latest ones, the older ones folded, one acknowledgement. */
  function card(group) {
    const { key, person, alerts } = group;
    const top = alerts[0];
    const open = alerts.filter((a) => !a.acknowledged_at);
    const head = h(
      "div",
      { class: "alert-head" },
      badge(label("severity", top.severity), SEVERITY_TONE[top.severity]),
      h("strong", { class: "alert-kind" }, label("alertKind", top.kind)),
      h("span", { class: "alert-total" }, `알림 ${alerts.length}건`, open.length && open.length !== alerts.length ? ` (확인 안 함 ${open.length}건)` : ""),
    );
    const who = person
      ? h("p", { class: "alert-person" }, h("span", { class: "name" }, person.name), " ", h("span", { class: "phone" }, phone(person.phone)))
      : null;
    const latest = alerts.slice(0, LATEST);
    const older = alerts.slice(LATEST);
    const parts = [head, who, h("ul", { class: "alert-items", "aria-label": "최근 알림" }, latest.map(item))];
    if (older.length) {
      parts.push(
        h(
          "details",
          { class: "older" },
          h("summary", {}, `이전 알림 ${older.length}건 더 보기`),
          h("ul", { class: "alert-items" }, older.map(item)),
        ),
      );
    }
    if (person) {
      parts.push(
        h(
          "button",
          {
            type: "button",
            class: "link",
            "data-needs": "operator",
            "data-focus-key": `history-${key}`,
            "aria-label": `${person.name} 님 안부 확인 이력 보기`,
            onclick: () => openHistory(person),
          },
          "안부 확인 이력 보기",
        ),
      );
    }
    if (open.length) parts.push(ackForm(group, open));
    return h(
      "li",
      { class: `alert-card ${top.severity}`, dataset: { personKey: key, kind: top.kind, count: alerts.length, open: open.length } },
      parts,
    );
  }

  function item(alert) {
    return h(
      "li",
      { class: `alert-item ${alert.acknowledged_at ? "done" : "open"}`, dataset: { alertId: alert.id, alertKind: alert.kind } },
      h(
        "p",
        { class: "alert-line" },
        h("strong", {}, label("alertKind", alert.kind)),
        alert.simulated ? [" ", simulatedTag()] : null,
        " ",
        h("span", { class: "muted" }, [alert.campaign_id != null ? ctx.campaignName(alert.campaign_id) : "", when(alert.created_at)].filter(Boolean).join(" · ")),
      ),
      h("p", { class: "alert-message" }, alertMessage(alert)),
      alert.acknowledged_at
        ? h(
            "p",
            { class: "acked" },
            `확인함: ${alert.acknowledged_by || "-"} · ${when(alert.acknowledged_at)}`,
            alert.note ? h("span", { class: "note" }, ` — 메모: ${alert.note}`) : null,
          )
        : null,
    );
  }

  /** Acknowledge every open alert of the card's person with one note. */
  function ackForm(group, open) {
    const noteId = `ack-note-${group.key}`;
    const note = h("textarea", { id: noteId, rows: 2, maxlength: 2000, "data-focus-key": noteId });
    note.value = drafts.get(group.key) || "";
    note.addEventListener("input", () => drafts.set(group.key, note.value));
    const who = group.person ? `${group.person.name} 님 ` : "";
    const submit = h(
      "button",
      { type: "submit", class: "primary", "data-focus-key": `ack-${group.key}`, "aria-label": `${who}알림 ${open.length}건 확인 처리` },
      open.length === 1 ? "확인 처리" : `알림 ${open.length}건 모두 확인 처리`,
    );
    const box = errorBox(`ack-error-${group.key}`);
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
      const done = await busy(
        submit,
        async () => {
          for (const alert of open) await api.ack(alert.id, note.value);
          return true;
        },
        box,
      );
      if (done) {
        drafts.delete(group.key);
        notify(`${who}알림 ${open.length}건을 확인 처리했습니다.`);
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
const KIND_ORDER = { emergency: 0, welfare_concern: 1, no_response: 2, unreachable: 3 };

/** Open before acknowledged, then critical first, welfare concerns before unreachable, newest first. */
function byUrgency(a, b) {
  return (
    Number(Boolean(a.acknowledged_at)) - Number(Boolean(b.acknowledged_at)) ||
    (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) ||
    (KIND_ORDER[a.kind] ?? 3) - (KIND_ORDER[b.kind] ?? 3) ||
    b.id - a.id
  );
}

/** Alerts grouped by person (an alert without one stands alone), each group most urgent first, the groups
 * ordered by their most urgent alert. */
function byPerson(alerts) {
  const groups = new Map();
  for (const alert of [...alerts].sort(byUrgency)) {
    const key = alert.contact ? `person-${alert.contact.id}` : `alert-${alert.id}`;
    if (!groups.has(key)) groups.set(key, { key, person: alert.contact, alerts: [] });
    groups.get(key).alerts.push(alert);
  }
  return [...groups.values()];
}
