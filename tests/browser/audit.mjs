// The console's 감사 기록 tab (issue 17) in headless Debian Chromium: an admin sees the audit log newest
// first with Korean labels, pages back with "더 보기", filters by action and by staff name; an operator
// has no such tab. Policy violations, console errors and requests that leave the server are collected.
//
//   node tests/browser/audit.mjs --url http://127.0.0.1:PORT --admin TOKEN --operator TOKEN --out DIR
//
// Prints one JSON line with what each step showed.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    admin: { type: "string" },
    operator: { type: "string" },
    out: { type: "string" },
    timeout: { type: "string", default: "60" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!opts.url || !opts.admin || !opts.operator || !opts.out) {
  console.error("usage: audit.mjs --url URL --admin TOKEN --operator TOKEN --out DIR [--timeout 60]");
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
  page.locator("#audit-list tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.innerText.trim())));
const waitRows = (n) => page.waitForFunction((count) => document.querySelectorAll("#audit-list tbody tr").length === count, n, { timeout: left() });

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

  await login(opts.admin);
  await page.getByRole("tab", { name: "감사 기록" }).click();
  await waitRows(100);
  result.headers = await page.locator("#audit-list th").allInnerTexts();
  result.firstPage = await rows();
  result.moreVisible = await page.locator("#audit-more").isVisible();
  result.countText = await page.locator("#audit-count").textContent();
  await page.waitForFunction(() => document.querySelectorAll("#retention tbody tr").length === 3, null, { timeout: left() });
  result.retention = await page
    .locator("#retention tbody tr")
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.innerText.trim())));
  result.retentionNote = await page.locator("#retention-last").textContent();
  await shot("audit-first-page");
  await page.getByRole("button", { name: "더 보기" }).click();
  await waitRows(120);
  result.allRows = await rows();
  result.moreAfter = await page.locator("#audit-more").isVisible();

  await page.locator("#audit-action").selectOption({ label: "캠페인 일시정지" });
  await page.getByRole("button", { name: "조회" }).click();
  await waitRows(60);
  result.paused = await rows();
  await shot("audit-by-action");

  await page.locator("#audit-action").selectOption("");
  await page.locator("#audit-actor").fill("상담사 이바다");
  await page.getByRole("button", { name: "조회" }).click();
  await page.waitForFunction(
    () => [...document.querySelectorAll("#audit-list tbody tr td:nth-child(3)")].every((td) => td.textContent === "상담사 이바다"),
    null,
    { timeout: left() },
  );
  await waitRows(60);
  result.byActor = await rows();
  await shot("audit-by-actor");

  await page.getByRole("button", { name: "로그아웃" }).click();
  await login(opts.operator);
  result.operatorSeesTab = await page.locator("#tab-audit").isVisible();
  await page.waitForTimeout(300); // a late violation report still arrives
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  if (page) await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
