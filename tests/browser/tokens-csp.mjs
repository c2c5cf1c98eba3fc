// The Content-Security-Policy in headless Debian Chromium (issue 17): /docs (Swagger UI, its one inline
// script allowed by hash) renders the operations, and the console's 토큰 관리 tab (admins) lists tokens
// with their expiry. Every policy violation is collected (the securitypolicyviolation event and the
// console error Chromium writes for it).
//
//   node tests/browser/tokens-csp.mjs --url http://127.0.0.1:PORT --admin TOKEN --out DIR [--timeout 60]
//
// Prints one JSON line: what each page showed, violations, console errors, requests that left the server.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    admin: { type: "string" },
    out: { type: "string" },
    timeout: { type: "string", default: "60" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!opts.url || !opts.admin || !opts.out) {
  console.error("usage: tokens-csp.mjs --url URL --admin TOKEN --out DIR [--timeout 60]");
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

  await page.goto(`${opts.url}/docs`);
  await page.waitForSelector(".opblock", { timeout: left() });
  result.docsOperations = await page.locator(".opblock").count();
  await shot("docs");

  await page.goto(`${opts.url}/console/`);
  await page.getByLabel("접속 토큰").fill(opts.admin);
  await page.getByRole("button", { name: "로그인" }).click();
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: left() });
  await page.getByRole("tab", { name: "토큰 관리" }).click();
  await page.waitForSelector("#token-list table", { timeout: left() });
  result.headers = await page.locator("#token-list th").allInnerTexts();
  result.rows = await page.locator("#token-list tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.querySelectorAll("td")].map((td) => td.innerText.trim())),
  );
  await shot("tokens");
  await page.waitForTimeout(300); // a late violation report still arrives
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  if (page) await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
