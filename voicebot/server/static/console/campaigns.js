// 캠페인 tab: the list with live progress, a campaign's details and actions (start, pause, resume, cancel),
// contact CSV upload with the rows that could not be read, the people of the campaign with their own values
// for it (date, place, …; operators edit them), and the create form (campaign-form.js).
import { allows, api } from "./api.js";
import { createCampaignForm } from "./campaign-form.js";
import { fill, h, label, percent, phone, when } from "./format.js";
import { applyRole, badge, busy, confirmAction, errorBox, field, notify, showError, table } from "./ui.js";

const STATUS_TONE = { draft: "neutral", running: "good", paused: "warn", cancelled: "bad", completed: "done" };
const OPEN_STATES = ["scheduled", "dialing", "ringing", "answered"];

/** Call progress of a campaign: finished calls against finished + booked + in progress. */
export function callProgress(campaign) {
  const states = campaign.progress?.attempts || {};
  const done = states.completed || 0;
  const open = OPEN_STATES.reduce((sum, state) => sum + (states[state] || 0), 0);
  return { done, total: done + open, open };
}

export function statusBadge(status) {
  return badge(label("status", status), STATUS_TONE[status]);
}

function progressCell(campaign) {
  const { done, total } = callProgress(campaign);
  const ratio = total ? done / total : 0;
  return h(
    "div",
    { class: "progress-cell" },
    h("progress", { max: total || 1, value: done, "aria-label": `${campaign.name} 통화 진행률 ${percent(ratio)}` }),
    h("span", {}, total ? `${done} / ${total}건 (${percent(ratio)})` : campaign.status === "draft" ? "시작 전" : "예약된 통화 없음"),
  );
}

export function createCampaignsView(panel, ctx) {
  let selectedId = null;
  let lastListJson = "";
  let lastStatus = null;
  const reports = new Map(); // campaign id -> last import result (kept while the page is open)
  let reloadMembers = async () => {}; // the open campaign's people list

  const newButton = h("button", { type: "button", class: "primary", "data-needs": "operator" }, "새 캠페인 만들기");
  const listBox = h("div", { id: "campaign-list", "aria-live": "off" });
  const detail = h("section", { id: "campaign-detail", class: "card detail", hidden: true, "aria-labelledby": "detail-title" });
  const form = createCampaignForm({
    onCreated: async (campaign, importResult, importError) => {
      if (importResult) reports.set(campaign.id, importResult);
      notify(`'${campaign.name}' 캠페인을 만들었습니다. 연락처를 확인하고 시작 버튼을 눌러 주세요.`);
      await refresh();
      await open(campaign.id);
      if (importError) showError(detail.querySelector("#upload-error"), importError);
    },
    onCancel: () => newButton.focus(),
  });

  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "캠페인"), newButton),
    h("p", { class: "lead" }, "코로나19 안내와 어르신 안부 확인(안심콜) 전화를 만들고 진행 상황을 봅니다. 진행률은 몇 초마다 새로 고쳐집니다."),
    form.element,
    listBox,
    detail,
  );
  applyRole(panel);
  newButton.addEventListener("click", () => form.show());

  function renderList(campaigns) {
    const rows = campaigns.map((c) =>
      h(
        "tr",
        { dataset: { campaignId: c.id }, class: c.id === selectedId ? "selected" : "" },
        h(
          "td",
          {},
          h(
            "button",
            { type: "button", class: "link", dataset: { focusKey: `open-${c.id}` }, onclick: () => open(c.id) },
            c.name,
          ),
        ),
        h("td", {}, label("kind", c.kind)),
        h("td", {}, statusBadge(c.status)),
        h("td", {}, `${c.start_date} ~ ${c.end_date}`),
        h("td", { class: "num" }, `${c.progress?.contacts_total ?? 0}명`),
        h("td", {}, progressCell(c)),
      ),
    );
    keepFocus(listBox, () =>
      fill(
        listBox,
        table("캠페인 목록", ["이름", "종류", "상태", "기간", "대상자", "통화 진행"], rows, {
          empty: allows("operator")
            ? "아직 캠페인이 없습니다. '새 캠페인 만들기'를 눌러 시작해 주세요."
            : "아직 캠페인이 없습니다.",
          className: "campaigns",
        }),
      ),
    );
  }

  async function refresh() {
    const campaigns = await api.campaigns();
    ctx.setCampaigns(campaigns);
    const json = JSON.stringify(campaigns) + selectedId;
    if (json !== lastListJson) {
      lastListJson = json;
      renderList(campaigns);
    }
    if (selectedId !== null) await renderDetail(false);
  }

  async function open(id) {
    selectedId = id;
    lastStatus = null;
    lastListJson = "";
    renderList(ctx.campaigns);
    await renderDetail(true);
  }

  async function renderDetail(focus) {
    const id = selectedId;
    let campaign;
    let summary;
    try {
      [campaign, summary] = await Promise.all([api.campaign(id), api.summary(id)]);
    } catch (error) {
      if (error.status === 404) {
        selectedId = null;
        detail.hidden = true;
        return;
      }
      throw error;
    }
    if (id !== selectedId) return;
    if (lastStatus !== campaign.status || detail.hidden) {
      buildDetail(campaign);
      lastStatus = campaign.status;
    }
    fill(detail.querySelector("#detail-status"), statusBadge(campaign.status));
    fill(detail.querySelector("#detail-numbers"), numbers(campaign, summary));
    detail.hidden = false;
    if (focus) detail.querySelector("#detail-title").focus();
  }

  function buildDetail(campaign) {
    const uploadError = errorBox("upload-error");
    const actionError = errorBox("action-error");
    const report = h("div", { id: "import-report", "aria-live": "polite" });
    if (reports.has(campaign.id)) renderReport(report, reports.get(campaign.id));
    const canUpload = !["cancelled", "completed"].includes(campaign.status);
    fill(
      detail,
      h(
        "div",
        { class: "detail-head" },
        h("h3", { id: "detail-title", tabindex: "-1" }, campaign.name),
        h("span", { id: "detail-status" }),
        h("button", { type: "button", class: "quiet", onclick: close }, "닫기"),
      ),
      settings(campaign),
      h("div", { id: "detail-numbers" }),
      h("div", { class: "actions", "data-needs": "operator" }, actionButtons(campaign, actionError)),
      actionError,
      h(
        "div",
        { class: "links" },
        h("button", { type: "button", class: "quiet", onclick: () => ctx.goto("results", { campaignId: campaign.id }) }, "이 캠페인 결과 보기"),
        h("button", { type: "button", class: "quiet", onclick: () => ctx.goto("alerts", { campaignId: campaign.id }) }, "이 캠페인 알림 보기"),
      ),
      canUpload ? uploadForm(campaign, uploadError, report) : null,
      canUpload ? null : report,
      membersSection(campaign),
    );
    applyRole(detail);
  }

  /** The campaign's people with their own values for it; operators fix a missing or wrong one here. */
  function membersSection(campaign) {
    const editable = !["cancelled", "completed"].includes(campaign.status);
    const onlyMissing = h("input", { type: "checkbox", id: "members-missing" });
    const listError = errorBox("members-error");
    const list = h("div", { id: "member-list" });
    const editor = h("div", { id: "member-editor" });
    let shown = null; // the last page, for the editor's field names
    const load = async () => {
      const page = await busy(null, () => api.members(campaign.id, { missing: onlyMissing.checked || "", limit: 200 }), listError);
      if (!page || selectedId !== campaign.id) return;
      shown = page;
      const names = [...page.script_slots.required, ...page.script_slots.optional];
      const rows = page.items.map((m) =>
        h(
          "tr",
          { dataset: { contactId: m.contact_id } },
          h("td", {}, m.contact.name),
          h("td", { class: "phone" }, phone(m.contact.phone)),
          h("td", {}, MEMBER_STATUS[m.status] || m.status),
          h("td", {}, m.slots === null ? h("span", { class: "muted" }, "운영자만 볼 수 있습니다") : valuesText(m.slots, names)),
          h("td", {}, m.missing.length ? m.missing.map((s) => badge(`${slotLabel(s)} 없음`, "bad")) : "-"),
          h(
            "td",
            {},
            editable
              ? h(
                  "button",
                  { type: "button", class: "link", "data-needs": "operator", "aria-label": `${m.contact.name} 님의 값 고치기`, onclick: () => edit(m) },
                  "값 고치기",
                )
              : null,
          ),
        ),
      );
      fill(
        list,
        h("p", { class: "muted" }, page.total > page.items.length ? `${page.total}명 중 처음 ${page.items.length}명입니다.` : `${page.total}명`),
        table("대상자 목록", ["이름", "전화번호", "상태", "이 캠페인의 값", "빠진 값", ""], rows, {
          empty: onlyMissing.checked ? "값이 빠진 분이 없습니다." : "아직 대상자가 없습니다. 연락처 CSV를 올려 주세요.",
          className: "members",
        }),
      );
      applyRole(list);
    };
    const edit = (member) => {
      const names = shown.script_slots;
      const error = errorBox("member-edit-error");
      const inputs = [...names.required, ...names.optional].map((name) =>
        h("input", {
          type: "text",
          id: `member-slot-${name}`,
          name,
          value: member.slots?.[name] ?? "",
          maxlength: 300,
          placeholder: campaign.slots?.[name] ? `공통 값: ${campaign.slots[name]}` : undefined,
        }),
      );
      const save = h("button", { type: "submit", class: "primary" }, "저장");
      const form = h(
        "form",
        { class: "member-edit card", "aria-labelledby": "member-edit-title" },
        h("h5", { id: "member-edit-title", tabindex: "-1" }, `${member.contact.name} 님의 이 캠페인 값`),
        h("p", { class: "hint" }, "이 캠페인의 안내에만 쓰입니다. 같은 분이 다른 캠페인에 있어도 그쪽 값은 바뀌지 않습니다. 비워 두면 캠페인 공통 값을 씁니다."),
        h(
          "div",
          { class: "row" },
          inputs.map((input) => field(`${slotLabel(input.name)}${names.required.includes(input.name) ? " (필수)" : ""}`, input)),
        ),
        h("div", { class: "actions" }, save, h("button", { type: "button", class: "quiet", onclick: () => fill(editor) }, "취소")),
        error,
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const slots = Object.fromEntries(inputs.map((input) => [input.name, input.value]));
        const saved = await busy(save, () => api.updateMember(campaign.id, member.contact_id, { slots }), error);
        if (saved) {
          fill(editor);
          notify(`${member.contact.name} 님의 값을 저장했습니다.`);
          await load();
        }
      });
      fill(editor, form);
      form.querySelector("#member-edit-title").focus();
    };
    onlyMissing.addEventListener("change", load);
    reloadMembers = load;
    load();
    return h(
      "section",
      { class: "members", "aria-labelledby": "members-title" },
      h("h4", { id: "members-title" }, "대상자 목록"),
      h("p", { class: "hint" }, "날짜·장소처럼 사람마다 다른 안내 값은 이 캠페인에만 쓰입니다. 연락처 CSV의 메모 열(예: date=11월 25일; place=중구 보건소)로 올리거나 여기서 고칠 수 있습니다."),
      h("label", { class: "check" }, onlyMissing, "값이 빠진 분만 보기"),
      listError,
      list,
      editor,
    );
  }

  function close() {
    selectedId = null;
    detail.hidden = true;
    lastListJson = "";
    renderList(ctx.campaigns);
  }

  function actionButtons(campaign, box) {
    const act = (verb, done, ask) => async (event) => {
      if (ask && !(await confirmAction(ask.title, ask.text, ask.yes))) return;
      const result = await busy(event.currentTarget, () => api.action(campaign.id, verb), box);
      if (result) {
        notify(done(result));
        lastStatus = null;
        await refresh();
      }
    };
    const buttons = [];
    if (campaign.status === "draft") {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "primary",
            onclick: act("start", (r) => `캠페인을 시작했습니다. 통화 ${r.booked}건을 예약했습니다.`),
          },
          "시작",
        ),
      );
    }
    if (campaign.status === "running") {
      buttons.push(
        h("button", { type: "button", onclick: act("pause", () => "캠페인을 일시정지했습니다. 진행 중인 통화는 끝까지 이어집니다.") }, "일시정지"),
      );
    }
    if (campaign.status === "paused") {
      buttons.push(h("button", { type: "button", class: "primary", onclick: act("resume", () => "캠페인을 다시 시작했습니다.") }, "재개"));
    }
    if (["draft", "running", "paused"].includes(campaign.status)) {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: act("cancel", (r) => `캠페인을 취소했습니다. 예약된 통화 ${r.cancelled_attempts ?? 0}건을 취소했습니다.`, {
              title: "캠페인 취소",
              text: `'${campaign.name}' 캠페인을 취소할까요? 예약된 통화가 모두 취소되며 되돌릴 수 없습니다.`,
              yes: "캠페인 취소",
            }),
          },
          "캠페인 취소",
        ),
      );
    }
    return buttons;
  }

  function uploadForm(campaign, box, report) {
    const input = h("input", { id: "upload-file", type: "file", accept: ".csv,text/csv", "aria-describedby": "upload-hint" });
    const submit = h("button", { type: "submit" }, "연락처 올리기");
    const uploader = h(
      "form",
      { class: "upload", "data-needs": "operator", "aria-labelledby": "upload-title" },
      h("h4", { id: "upload-title" }, "연락처 추가"),
      h("label", { for: "upload-file" }, "연락처 CSV 파일"),
      input,
      h(
        "p",
        { class: "hint", id: "upload-hint" },
        "이름과 전화번호 열이 있어야 합니다. 메모, 태그, 선호 시간, 수신 거부 열은 넣지 않아도 됩니다. 엑셀에서 저장한 CSV(UTF-8, CP949)를 그대로 올릴 수 있습니다.",
      ),
      submit,
      box,
    );
    uploader.addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = input.files[0];
      if (!file) {
        showError(box, new Error("올릴 CSV 파일을 골라 주세요."));
        input.focus();
        return;
      }
      const result = await busy(submit, async () => api.importContacts(campaign.id, await file.arrayBuffer()), box);
      if (result) {
        reports.set(campaign.id, result);
        renderReport(report, result);
        input.value = "";
        notify(`연락처 ${result.added}명을 추가했습니다.`);
        await refresh();
        await reloadMembers();
      }
    });
    return h("div", {}, uploader, report);
  }

  return {
    refresh,
    interval: 3000,
    onShow() {},
  };
}

/** The outcome of a contact import: counts, then every row that was not imported with its reason. */
export function renderReport(box, result) {
  const rejected = result.rejected || [];
  const warnings = result.warnings || [];
  const parts = [`${result.imported ?? result.added}명을 읽어 ${result.added}명을 추가했습니다.`];
  if (result.already_members) parts.push(`이미 들어 있던 분 ${result.already_members}명은 다시 추가하지 않았습니다.`);
  const updated = result.updated_rows || [];
  if (updated.length) {
    const rows = updated.map((u) => `${u.row}행: ${u.changed.map(slotLabel).join(", ")}`).join("; ");
    parts.push(`그중 ${updated.length}명은 이 캠페인의 값을 파일 내용으로 바꾸었습니다 (${rows}).`);
  }
  if (result.skipped_do_not_call) parts.push(`수신 거부 번호 ${result.skipped_do_not_call}개는 건너뛰었습니다.`);
  if (result.booked) parts.push(`새로 예약된 통화는 ${result.booked}건입니다.`);
  const issueRows = (items) =>
    items.map((r) => [h("td", { class: "num" }, `${r.row}행`), label("rowCode", r.code), h("td", { class: "muted" }, r.reason)]);
  fill(
    box,
    h("div", { class: rejected.length ? "report has-errors" : "report" },
      h("h4", {}, "연락처 가져오기 결과"),
      h("p", {}, parts.join(" ")),
      rejected.length
        ? [
            h("p", { class: "error-text" }, `다음 ${rejected.length}개 행은 올리지 못했습니다. 파일을 고쳐 다시 올려 주세요 (고친 행만 올려도 됩니다).`),
            table("올리지 못한 행", ["행 번호", "사유", "자세한 내용"], issueRows(rejected), { className: "rejected" }),
          ]
        : h("p", {}, "모든 행을 읽었습니다."),
      warnings.length
        ? [h("p", {}, `확인이 필요한 행 ${warnings.length}개 (추가는 되었습니다):`), table("확인이 필요한 행", ["행 번호", "내용", "자세한 내용"], issueRows(warnings), { className: "warnings" })]
        : null,
    ),
  );
}

function settings(c) {
  const slots = c.slots ? Object.entries(c.slots).map(([k, v]) => `${SLOT_LABEL[k] || k}: ${v}`).join(", ") : "";
  const items = [
    ["종류", label("kind", c.kind)],
    ["기간", `${c.start_date} ~ ${c.end_date}`],
    ["통화 요일", weekdayText(c.weekdays)],
    ["통화 시간대", c.windows.replaceAll(";", ", ")],
    ["반복", c.recurrence ? `매주 ${weekdayText(c.recurrence)}` : "한 번"],
    ["최대 시도", `${c.max_attempts}번 (다시 걸기 간격 ${c.retry_delay_min}분)`],
    ["동시 통화 / 분당", `${c.channel_limit}회선 / 분당 ${c.pace_per_min}건`],
    ["공휴일", c.skip_holidays ? "공휴일에는 걸지 않음" : "공휴일에도 걸기"],
  ];
  if (slots) items.push(["안내 내용", slots]);
  return h("dl", { class: "settings" }, items.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

const SLOT_LABEL = { date: "날짜", place: "장소", result: "검사 결과", appointment: "예약 내용" };
const MEMBER_STATUS = { pending: "통화 예정", done: "완료", unreachable: "연락 안 됨", do_not_call: "수신 거부", cancelled: "취소됨" };

function slotLabel(name) {
  return name === "notes" ? "메모" : SLOT_LABEL[name] || name;
}

/** A member's values in the script's order, then any others: "날짜: 11월 25일, 장소: 중구 보건소". */
function valuesText(slots, names) {
  const keys = [...names.filter((k) => k in slots), ...Object.keys(slots).filter((k) => !names.includes(k))];
  return keys.length ? keys.map((k) => `${slotLabel(k)}: ${slots[k]}`).join(", ") : "-";
}
const DAY_KO = ["월", "화", "수", "목", "금", "토", "일"];

function weekdayText(value) {
  if (!value) return "-";
  return String(value)
    .split(",")
    .map((d) => DAY_KO[Number(d)] ?? d)
    .join(", ");
}

function numbers(campaign, summary) {
  const { done, total, open } = callProgress(campaign);
  const stat = (name, value, extra) =>
    h("div", { class: "stat" }, h("dt", {}, name), h("dd", {}, value, extra ? h("small", {}, extra) : null));
  return [
    h(
      "div",
      { class: "progress-row" },
      h("label", { for: "detail-progress" }, "통화 진행"),
      h("progress", { id: "detail-progress", max: total || 1, value: done }),
      h(
        "span",
        {},
        total
          ? `${done} / ${total}건 끝남, ${open}건 남음`
          : campaign.status === "draft"
            ? "시작하면 통화가 예약됩니다"
            : "예약된 통화가 없습니다",
      ),
    ),
    h(
      "dl",
      { class: "stats" },
      stat("대상자", `${summary.contacts}명`),
      stat("연결된 분", `${summary.reached}명`, ` (${percent(summary.reached_rate)})`),
      stat("통화 시도", `${summary.attempts}건`),
      stat("연락 안 됨", `${summary.unreachable}명`),
      stat("안부 우려", `${summary.concerns}건`),
      stat("미확인 알림", `${summary.alerts_open}건`),
    ),
    h("p", { class: "muted" }, `마지막 변경 ${when(campaign.updated_at)}`),
  ];
}

/** Re-render a container without losing the keyboard focus on an element with data-focus-key. */
export function keepFocus(container, render) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focusKey : undefined;
  render();
  if (key) container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
}
