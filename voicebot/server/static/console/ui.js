// Small shared pieces: the status line, the confirm dialog, error boxes and role-gated controls.
import { allows } from "./api.js";
import { fill, h } from "./format.js";

let noticeTimer = 0;

/** A short message in the status line under the tabs (read out by screen readers). */
export function notify(text, kind = "ok") {
  const el = document.getElementById("notice");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    el.hidden = true;
  }, kind === "error" ? 12_000 : 6_000);
}

/** Show an error in a box of its own (role="alert"), or clear it with null. */
export function showError(box, error) {
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.textContent = error.detail || error.message || String(error);
  box.hidden = false;
}

export function errorBox(id) {
  return h("p", { class: "error", role: "alert", id, hidden: true });
}

/** A yes/no question in a modal dialog; resolves true for yes. */
export function confirmAction(title, text, yes = "예") {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = yes;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

/** Hide what the signed-in role may not use (`data-needs="operator"` / `"admin"`). */
export function applyRole(root) {
  for (const el of root.querySelectorAll("[data-needs]")) {
    el.hidden = !allows(el.dataset.needs);
  }
}

/** Run an async action with its button disabled (no double submits), errors into `box` or the notice. */
export async function busy(button, action, box) {
  if (button) button.disabled = true;
  if (box) showError(box, null);
  try {
    return await action();
  } catch (error) {
    if (box) showError(box, error);
    else notify(error.detail || error.message, "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** A table with a caption and headers; rows are arrays of cells (strings or nodes). */
export function table(caption, headers, rows, { empty = "표시할 내용이 없습니다.", className = "" } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h(
      "table",
      { class: className },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((head) => h("th", { scope: "col" }, head)))),
      h("tbody", {}, rows.map((row) => (row instanceof Node ? row : h("tr", {}, row.map((c) => cell(c)))))),
    ),
  );
}

function cell(content) {
  return content instanceof Node && content.tagName === "TD" ? content : h("td", {}, content);
}

/** A coloured status word (never colour alone: the word is the label). */
export function badge(text, tone) {
  return h("span", { class: `badge ${tone || ""}` }, text);
}

/** The mark of a result the SIMULATED dialer made up: no real call was placed. */
export function simulatedTag() {
  return h("span", { class: "badge simulated", title: "모의 발신: 실제로 전화를 걸지 않은 결과입니다" }, "모의");
}

/** A labelled form field. */
export function field(labelText, input, hint) {
  const id = input.id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, labelText),
    input,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
}

/** Checkbox group for weekdays: 월..일. */
export const WEEKDAYS = ["월", "화", "수", "목", "금", "토", "일"];

export function weekdayGroup(name, legend, checked, hint) {
  const hintId = hint ? `${name}-hint` : undefined;
  return h(
    "fieldset",
    { class: "weekdays", "aria-describedby": hintId },
    h("legend", {}, legend),
    WEEKDAYS.map((day) =>
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name, value: day, checked: checked.includes(day) }),
        day,
      ),
    ),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
}

/**
 * Keeps a campaign <select> ("전체 캠페인" first) in step with the campaign list: rebuilt only when the
 * list changed, keeping the chosen campaign while it still exists. The returned function takes the list
 * and says whether it rebuilt the options.
 */
export function campaignChooser(select, optionText = (c) => c.name) {
  let shown = "";
  return (campaigns) => {
    const key = campaigns.map((c) => `${c.id}:${c.name}`).join("|");
    if (key === shown) return false;
    shown = key;
    const chosen = select.value;
    fill(select, h("option", { value: "" }, "전체 캠페인"), campaigns.map((c) => h("option", { value: c.id }, optionText(c))));
    select.value = campaigns.some((c) => String(c.id) === chosen) ? chosen : "";
    return true;
  };
}
