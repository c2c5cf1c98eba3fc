// The console's 콜백 예약 tab (issue 18) in headless Debian Chromium: an operator sees the agents' desk and
// the call-back queue with full numbers, sets agents on duty and callers waiting (the expected wait
// follows), and marks a call-back done; a viewer sees the numbers masked and no controls. Policy
// violations, console errors and requests that leave the server are collected.
//
//   node tests/browser/callbacks.mjs --url http://127.0.0.1:PORT --operator TOKEN --viewer TOKEN --out DIR
//
// Prints one JSON line with what each step showed.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    operator: { type: "string" },
    viewer: { type: "string" },
    out: { type: "string" },
    timeout: { type: "string", default: "60" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!opts.url || !opts.operator || !opts.viewer || !opts.out) {
  console.error("usage: callbacks.mjs --url URL --operator TOKEN --viewer TOKEN --out DIR [--timeout 60]");
  process.exit(2);
}
mkdirSync(opts.out, { recursive: true });
const deadline = Date.now() + Number(opts.timeout) * 1000;
const left = () => Math.max(1000, deadline - Date.now());
const result = { ok: false, screenshots: [], violations: [], consoleErrors: [], externalRequests: [] };

const browser = await chromium.launch({ executablePath: opts.chromium, headless: true });
let page = null;
const shot = async (name) => {
  const path = join(opts.out, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
};
const rows = () =>
  page.locator("#callback-list tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.innerText.trim())));
const waitRows = (n) => page.waitForFunction((count) => document.querySelectorAll("#callback-list tbody tr").length === count, n, { timeout: left() });

async function login(token) {
  await page.goto(`${opts.url}/console/`);
  await page.getByLabel("접속 토큰").fill(token);
  await page.getByRole("button", { name: "로그인" }).click();
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: left() });
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "ko-KR", timezoneId: "Asia/Seoul" });
  await context.exposeBinding("reportViolation", (_source, text) => result.violations.push(text));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile || e.documentURI}:${e.lineNumber}`),
    );
  });
  const origin = new URL(opts.url).origin;
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("console", (msg) => {
    if (msg.type() === "error") result.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => result.consoleErrors.push(String(err)));
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (["http:", "https:", "ws:", "wss:"].includes(url.protocol) && url.origin !== origin) result.externalRequests.push(req.url());
  });

  await login(opts.operator);
  await page.getByRole("tab", { name: "콜백 예약" }).click();
  await waitRows(2);
  result.headers = await page.locator("#callback-list th").allInnerTexts();
  result.operatorRows = await rows();
  result.deskBefore = await page.locator("#desk-summary").innerText();
  await page.locator("#desk-agents").fill("2");
  await page.locator("#desk-waiting").fill("10");
  await page.getByRole("button", { name: "저장" }).click();
  await page.waitForFunction(() => document.querySelector("#desk-wait")?.textContent === "약 25분", null, { timeout: left() });
  result.deskAfter = await page.locator("#desk-summary").innerText();
  await shot("callbacks-operator");
  await page.locator("#callback-list tbody tr").first().getByRole("button", { name: "완료" }).click();
  await page.locator("#confirm-ok").click();
  await waitRows(1);
  result.afterDone = await rows();
  await page.locator("#callback-filter").selectOption("closed");
  await page.waitForFunction(() => document.querySelector("#callback-list tbody tr")?.dataset.state === "done", null, { timeout: left() });
  result.closed = await rows();

  await page.getByRole("button", { name: "로그아웃" }).click();
  await login(opts.viewer);
  await page.getByRole("tab", { name: "콜백 예약" }).click();
  await waitRows(1);
  result.viewerRows = await rows();
  result.viewerButtons = await page.locator("#callback-list button").count();
  result.viewerForm = await page.locator("#desk-form").isVisible();
  await shot("callbacks-viewer");
  await page.waitForTimeout(300); // a late violation report still arrives
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  if (page) await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
