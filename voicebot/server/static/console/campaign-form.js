// The create form: pick a template (코로나19 안내 or 안심콜), fill in the schedule and, for COVID-19
// notices, what every call says (날짜, 장소, 검사 결과 or 예약 내용); an optional contact CSV is imported
// straight after the campaign is created (as a draft: it starts only when staff press 시작).
import { api } from "./api.js";
import { h, seoulDate } from "./format.js";
import { busy, errorBox, field, weekdayGroup } from "./ui.js";

const TEMPLATES = {
  covid_notice: {
    label: "코로나19 안내",
    hint: "검사 결과나 예방접종 예약을 알려 드립니다.",
    name: "코로나19 검사 결과 안내",
    recurrence: [],
    weekdays: ["월", "화", "수", "목", "금"],
  },
  welfare_check: {
    label: "안심콜 (어르신 안부 확인)",
    hint: "홀로 사시는 어르신께 식사, 건강, 수면, 마음, 필요한 도움을 여쭙니다.",
    name: "독거어르신 안심콜",
    recurrence: ["월", "목"],
    weekdays: ["월", "화", "수", "목", "금"],
  },
};

function input(id, attrs = {}) {
  return h("input", { id, name: id.replace(/^cf-/, ""), ...attrs });
}

export function createCampaignForm({ onCreated, onCancel }) {
  const error = errorBox("create-error");
  const templateGroup = h(
    "fieldset",
    { class: "templates" },
    h("legend", {}, "템플릿"),
    Object.entries(TEMPLATES).map(([kind, t], i) =>
      h(
        "label",
        { class: "template" },
        h("input", { type: "radio", name: "kind", value: kind, checked: i === 1 }),
        h("span", { class: "template-name" }, t.label),
        h("span", { class: "hint" }, t.hint),
      ),
    ),
  );
  const name = input("cf-name", { type: "text", required: true, maxlength: 200 });
  const start = input("cf-start", { type: "date", required: true });
  const end = input("cf-end", { type: "date", required: true });
  const windows = input("cf-windows", { type: "text", required: true, value: "10:00-12:00;14:00-17:00" });
  const weekdays = weekdayGroup("weekdays", "통화 요일", TEMPLATES.welfare_check.weekdays);
  const recurrence = weekdayGroup(
    "recurrence",
    "반복 (매주 이 요일마다 한 번씩 전화)",
    TEMPLATES.welfare_check.recurrence,
    "아무 요일도 고르지 않으면 기간 안에 한 번만 겁니다.",
  );
  const maxAttempts = input("cf-max-attempts", { type: "number", min: 1, max: 10, value: 3, required: true });
  const retryDelay = input("cf-retry-delay", { type: "number", min: 0, max: 10080, value: 30, required: true });
  const channels = input("cf-channels", { type: "number", min: 1, max: 500, value: 4, required: true });
  const pace = input("cf-pace", { type: "number", min: 1, max: 10000, value: 30, required: true });
  const holidays = h("input", { id: "cf-holidays", type: "checkbox", checked: true });
  const slotDate = input("cf-slot-date", { type: "text", placeholder: "예: 11월 25일" });
  const slotPlace = input("cf-slot-place", { type: "text", placeholder: "예: 중구 보건소" });
  const noticeKind = h(
    "fieldset",
    { class: "inline" },
    h("legend", {}, "안내 종류"),
    h("label", { class: "check" }, h("input", { type: "radio", name: "notice", value: "result", checked: true }), "검사 결과"),
    h("label", { class: "check" }, h("input", { type: "radio", name: "notice", value: "appointment" }), "접종 예약"),
  );
  const slotValue = input("cf-slot-value", { type: "text", placeholder: "예: 음성" });
  const slotValueLabel = h("label", { for: "cf-slot-value" }, "안내할 검사 결과");
  const covid = h(
    "fieldset",
    { class: "slots", hidden: true },
    h("legend", {}, "안내할 내용 (모든 분께 똑같이 말합니다)"),
    field("날짜", slotDate),
    field("장소", slotPlace),
    noticeKind,
    h("div", { class: "field" }, slotValueLabel, slotValue),
    h(
      "p",
      { class: "hint" },
      "사람마다 다르면 비워 두고 연락처 파일의 메모 열에 적어 주세요. 예: date=11월 25일; place=중구 보건소; result=음성",
    ),
  );
  const file = input("cf-file", { type: "file", accept: ".csv,text/csv" });
  const submit = h("button", { type: "submit", class: "primary" }, "캠페인 만들기");
  const cancel = h("button", { type: "button", class: "quiet" }, "닫기");

  const form = h(
    "form",
    { id: "campaign-form", class: "card create", hidden: true, novalidate: true, "aria-labelledby": "create-title" },
    h("h3", { id: "create-title", tabindex: "-1" }, "새 캠페인 만들기"),
    templateGroup,
    field("캠페인 이름", name),
    h("div", { class: "row" }, field("시작일", start), field("종료일", end)),
    field("통화 시간대", windows, "예: 10:00-12:00;14:00-17:00 (서울 시간, 여러 개는 ;로 구분)"),
    weekdays,
    recurrence,
    covid,
    h(
      "div",
      { class: "row" },
      field("최대 시도 횟수", maxAttempts),
      field("다시 걸기 간격 (분)", retryDelay),
      field("동시 통화 수", channels),
      field("분당 통화 수", pace),
    ),
    h("label", { class: "check" }, holidays, "공휴일에는 걸지 않기"),
    field(
      "연락처 CSV 파일 (선택)",
      file,
      "이름과 전화번호 열이 있어야 합니다. 지금 올리지 않고 캠페인을 만든 뒤에 올려도 됩니다.",
    ),
    error,
    h("div", { class: "actions" }, submit, cancel),
  );

  const kind = () => form.querySelector("input[name=kind]:checked").value;
  const checkedDays = (group) => [...group.querySelectorAll("input:checked")].map((i) => i.value);

  function applyTemplate(previousKind) {
    const t = TEMPLATES[kind()];
    if (!name.value || (previousKind && name.value === TEMPLATES[previousKind].name)) name.value = t.name;
    for (const box of recurrence.querySelectorAll("input")) box.checked = t.recurrence.includes(box.value);
    recurrence.hidden = kind() !== "welfare_check";
    covid.hidden = kind() !== "covid_notice";
  }
  let currentKind = kind();
  templateGroup.addEventListener("change", () => {
    applyTemplate(currentKind);
    currentKind = kind();
  });
  noticeKind.addEventListener("change", () => {
    const which = noticeKind.querySelector("input:checked").value;
    slotValueLabel.textContent = which === "result" ? "안내할 검사 결과" : "안내할 예약 내용";
    slotValue.placeholder = which === "result" ? "예: 음성" : "예: 오후 2시에 1차 접종이 예약되어 있습니다";
  });

  function body() {
    const out = {
      name: name.value.trim(),
      kind: kind(),
      start_date: start.value,
      end_date: end.value,
      windows: windows.value.trim(),
      weekdays: checkedDays(weekdays).join(","),
      recurrence: kind() === "welfare_check" && checkedDays(recurrence).length ? checkedDays(recurrence).join(",") : null,
      max_attempts: Number(maxAttempts.value),
      retry_delay_min: Number(retryDelay.value),
      channel_limit: Number(channels.value),
      pace_per_min: Number(pace.value),
      skip_holidays: holidays.checked,
    };
    if (kind() === "covid_notice") {
      const which = noticeKind.querySelector("input:checked").value;
      const slots = { date: slotDate.value.trim(), place: slotPlace.value.trim(), [which]: slotValue.value.trim() };
      const given = Object.fromEntries(Object.entries(slots).filter(([, v]) => v));
      if (Object.keys(given).length) out.slots = given;
    }
    return out;
  }

  function check(b) {
    if (!b.name) return [name, "캠페인 이름을 적어 주세요."];
    if (!b.start_date || !b.end_date) return [b.start_date ? end : start, "시작일과 종료일을 골라 주세요."];
    if (!b.weekdays) return [weekdays.querySelector("input"), "통화할 요일을 하나 이상 골라 주세요."];
    for (const el of [maxAttempts, retryDelay, channels, pace]) {
      if (!el.checkValidity()) return [el, "숫자 칸에 올바른 값을 적어 주세요."];
    }
    return null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const b = body();
    const problem = check(b);
    if (problem) {
      error.textContent = problem[1];
      error.hidden = false;
      problem[0].focus();
      return;
    }
    const chosen = file.files[0];
    let importResult = null;
    let importError = null;
    const campaign = await busy(
      submit,
      async () => {
        const created = await api.createCampaign(b);
        if (chosen) {
          try {
            importResult = await api.importContacts(created.id, await chosen.arrayBuffer());
          } catch (err) {
            importError = err;
          }
        }
        return created;
      },
      error,
    );
    if (!campaign) return;
    hide();
    await onCreated(campaign, importResult, importError);
  });

  function show() {
    form.reset();
    start.value = seoulDate();
    end.value = seoulDate(30);
    currentKind = kind();
    applyTemplate(null);
    name.value = TEMPLATES[kind()].name;
    noticeKind.dispatchEvent(new Event("change"));
    error.hidden = true;
    form.hidden = false;
    form.querySelector("#create-title").focus();
  }

  function hide() {
    form.hidden = true;
  }

  cancel.addEventListener("click", () => {
    hide();
    onCancel();
  });

  return { element: form, show, hide };
}
