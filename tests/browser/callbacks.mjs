// The console's 콜백 예약 tab (issue 18) in headless Debian Chromium: an operator sees the agents' desk and
// the call-back queue with full numbers, sets agents on duty and callers waiting (the expected wait
// follows), and marks a call-back done; a viewer sees the numbers masked and no controls. Policy
// violations, console errors and requests that leave the server are collected.
//
//   node tests/browser/callbacks.mjs --url http://127.0.0.1:PORT --operator TOKEN --viewer TOKEN --out DIR
//
// Prints one JSON line with what each step showed.
import { options, runPage } from "./harness.mjs";

const opts = options(
  { operator: { type: "string" }, viewer: { type: "string" } },
  "callbacks.mjs --url URL --operator TOKEN --viewer TOKEN --out DIR [--timeout 60]",
);

await runPage(opts, { csp: true }, async ({ page, result, shot, left, login, table, waitRows }) => {

  await login(opts.operator);
  await page.getByRole("tab", { name: "콜백 예약" }).click();
  await waitRows("#callback-list", 2);
  result.headers = await page.locator("#callback-list th").allInnerTexts();
  result.operatorRows = await table("#callback-list");
  result.deskBefore = await page.locator("#desk-summary").innerText();
  await page.locator("#desk-agents").fill("2");
  await page.locator("#desk-waiting").fill("10");
  await page.getByRole("button", { name: "저장" }).click();
  await page.waitForFunction(() => document.querySelector("#desk-wait")?.textContent === "약 25분", null, { timeout: left() });
  result.deskAfter = await page.locator("#desk-summary").innerText();
  await shot("callbacks-operator");
  await page.locator("#callback-list tbody tr").first().getByRole("button", { name: "완료" }).click();
  await page.locator("#confirm-ok").click();
  await waitRows("#callback-list", 1);
  result.afterDone = await table("#callback-list");
  await page.locator("#callback-filter").selectOption("closed");
  await page.waitForFunction(() => document.querySelector("#callback-list tbody tr")?.dataset.state === "done", null, { timeout: left() });
  result.closed = await table("#callback-list");

  await page.getByRole("button", { name: "로그아웃" }).click();
  await login(opts.viewer);
  await page.getByRole("tab", { name: "콜백 예약" }).click();
  await waitRows("#callback-list", 1);
  result.viewerRows = await table("#callback-list");
  result.viewerButtons = await page.locator("#callback-list button").count();
  result.viewerForm = await page.locator("#desk-form").isVisible();
  await shot("callbacks-viewer");
  await page.waitForTimeout(300); // a late violation report still arrives
});
