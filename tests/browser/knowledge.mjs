// The 상담 지식 tab (issue 19) in headless Debian Chromium (tests/test_knowledge_browser.py): an admin makes a
// draft, deletes an entry the eval questions need, submits it and tries to publish: the gate blocks it and
// lists the questions; the diff shows the removal; a consultation DB file with a bad row is imported into a
// new draft with the row's error listed; the question box answers from the knowledge in service.
//
//   node tests/browser/knowledge.mjs --url URL --token TOKEN --csv FILE --out DIR
//
// Prints one JSON line.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string" },
    csv: { type: "string" },
    out: { type: "string" },
    timeout: { type: "string", default: "120" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!opts.url || !opts.token || !opts.csv || !opts.out) {
  console.error("usage: knowledge.mjs --url URL --token TOKEN --csv FILE --out DIR");
  process.exit(2);
}
mkdirSync(opts.out, { recursive: true });
const deadline = Date.now() + Number(opts.timeout) * 1000;
const left = () => Math.max(1000, deadline - Date.now());
const result = { ok: false, screenshots: [], consoleErrors: [], externalRequests: [] };

const browser = await chromium.launch({ executablePath: opts.chromium, headless: true });
let page = null;
const shot = async (name, locator) => {
  const path = join(opts.out, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  if (locator) await locator.screenshot({ path });
  else await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
};
const confirm = async () => {
  await page.locator("#confirm-dialog").waitFor({ state: "visible" });
  await page.locator("#confirm-ok").click();
};

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "ko-KR", timezoneId: "Asia/Seoul" });
  const origin = new URL(opts.url).origin;
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("console", (msg) => {
    // The refused publish (409) and import (422) are expected answers, logged by Chromium as failed loads.
    if (msg.type() === "error" && !/status of (409|422)/.test(msg.text())) result.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => result.consoleErrors.push(String(err)));
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (["http:", "https:", "ws:", "wss:"].includes(url.protocol) && url.origin !== origin) result.externalRequests.push(req.url());
  });

  await page.goto(`${opts.url}/console/`);
  await page.getByLabel("접속 토큰").fill(opts.token);
  await page.getByRole("button", { name: "로그인" }).click();
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: left() });
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
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  if (page) await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
