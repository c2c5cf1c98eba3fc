// The Content-Security-Policy in headless Debian Chromium (issue 17): /docs (Swagger UI, its one inline
// script allowed by hash) renders the operations, and the console's 토큰 관리 tab (admins) lists tokens
// with their expiry. Every policy violation is collected (the securitypolicyviolation event and the
// console error Chromium writes for it).
//
//   node tests/browser/tokens-csp.mjs --url http://127.0.0.1:PORT --admin TOKEN --out DIR [--timeout 60]
//
// Prints one JSON line: what each page showed, violations, console errors, requests that left the server.
import { options, runPage } from "./harness.mjs";

const opts = options({ admin: { type: "string" } }, "tokens-csp.mjs --url URL --admin TOKEN --out DIR [--timeout 60]");

await runPage(opts, { csp: true }, async ({ page, result, shot, left, login, table }) => {
  await page.goto(`${opts.url}/docs`);
  await page.waitForSelector(".opblock", { timeout: left() });
  result.docsOperations = await page.locator(".opblock").count();
  await shot("docs");

  await login(opts.admin);
  await page.getByRole("tab", { name: "토큰 관리" }).click();
  await page.waitForSelector("#token-list table", { timeout: left() });
  result.headers = await page.locator("#token-list th").allInnerTexts();
  result.rows = await table("#token-list");
  await shot("tokens");
  await page.waitForTimeout(300); // a late violation report still arrives
});
