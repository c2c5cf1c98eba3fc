// The 상담 지식 tab (issue 19) in headless Debian Chromium (tests/test_knowledge_browser.py): an admin makes a
// draft, deletes an entry the eval questions need, submits it and tries to publish: the gate blocks it and
// lists the questions; the diff shows the removal; a consultation DB file with a bad row is imported into a
// new draft with the row's error listed; the question box answers from the knowledge in service.
//
//   node tests/browser/knowledge.mjs --url URL --token TOKEN --csv FILE --out DIR
//
// Prints one JSON line.
import { options, runPage } from "./harness.mjs";

const opts = options(
  { token: { type: "string" }, csv: { type: "string" }, timeout: { type: "string", default: "120" } },
  "knowledge.mjs --url URL --token TOKEN --csv FILE --out DIR",
);

// The refused publish (409) and import (422) are expected answers, logged by Chromium as failed loads.
await runPage(opts, { ignoreConsole: /status of (409|422)/ }, async ({ page, result, shot, left, login }) => {
  const confirm = async () => {
    await page.locator("#confirm-dialog").waitFor({ state: "visible" });
    await page.locator("#confirm-ok").click();
  };
  await login(opts.token);
  await page.getByRole("tab", { name: "상담 지식" }).click();
  await page.waitForSelector("#kb-versions tr[data-version-id='1']", { timeout: left() });
  result.versions = await page.locator("#kb-versions tbody tr").allInnerTexts();

  // A draft without the subway lost-property entry: submitted, then refused by the gate.
  await page.locator("#kb-new-draft").click();
  await page.waitForSelector("#kb-detail tr[data-entry-id='transport.lost_subway']", { timeout: left() });
  result.draftTitle = await page.locator("#kb-detail h3").first().innerText();
  await page.locator("#kb-search").fill("lost_subway");
  await page.locator("#kb-detail tr[data-entry-id='transport.lost_subway']").getByRole("button", { name: "지우기" }).click();
  await confirm();
  await page.waitForSelector("#kb-detail tr[data-entry-id='transport.lost_subway']", { state: "detached", timeout: left() });
  await page.locator("#kb-submit").click();
  await page.waitForSelector("#kb-publish", { timeout: left() });
  await page.locator("#kb-publish").click();
  await confirm();
  await page.waitForSelector("#kb-gate[data-passed='false']", { timeout: left() });
  result.gate = await page.locator("#kb-result").innerText();
  result.failing = await page.locator("#kb-gate table.gate-failing tbody tr").allInnerTexts();
  await shot("gate-blocked");

  // What the draft changed against the published version.
  await page.locator("#kb-versions tr[data-state='review']").getByRole("button", { name: "게시본과 비교" }).click();
  await page.waitForSelector("#kb-diff", { timeout: left() });
  result.diff = await page.locator("#kb-diff").innerText();

  // The centre's file: one good row, one without a title.
  await page.locator("#kb-import-file").setInputFiles(opts.csv);
  await page.waitForSelector("#kb-import-result", { timeout: left() });
  result.imported = await page.locator("#kb-import-result").innerText();
  result.rowErrors = await page.locator("#kb-import-result table.row-errors tbody tr").allInnerTexts();
  await shot("import");

  // The bot in service still has the subway answer (nothing was published).
  await page.locator("#kb-ask-text").fill("지하철에서 노트북 가방을 잃어버렸어요");
  await page.getByRole("button", { name: "물어보기" }).click();
  await page.waitForFunction(() => document.querySelector("#kb-ask-reply")?.textContent.includes("버전"), null, { timeout: left() });
  result.asked = await page.locator("#kb-ask-reply").innerText();
  result.finalVersions = await page.locator("#kb-versions tbody tr").allInnerTexts();
  await shot("knowledge");
});
