// The console's 감사 기록 tab (issue 17) in headless Debian Chromium: an admin sees the audit log newest
// first with Korean labels, pages back with "더 보기", filters by action and by staff name; an operator
// has no such tab. Policy violations, console errors and requests that leave the server are collected.
//
//   node tests/browser/audit.mjs --url http://127.0.0.1:PORT --admin TOKEN --operator TOKEN --out DIR
//
// Prints one JSON line with what each step showed.
import { options, runPage } from "./harness.mjs";

const opts = options(
  { admin: { type: "string" }, operator: { type: "string" } },
  "audit.mjs --url URL --admin TOKEN --operator TOKEN --out DIR [--timeout 60]",
);

await runPage(opts, { csp: true }, async ({ page, result, shot, left, login, table, waitRows }) => {
  await login(opts.admin);
  await page.getByRole("tab", { name: "감사 기록" }).click();
  await waitRows("#audit-list", 100);
  result.headers = await page.locator("#audit-list th").allInnerTexts();
  result.firstPage = await table("#audit-list");
  result.moreVisible = await page.locator("#audit-more").isVisible();
  result.countText = await page.locator("#audit-count").textContent();
  await waitRows("#retention", 3);
  result.retention = await table("#retention");
  result.retentionNote = await page.locator("#retention-last").textContent();
  await shot("audit-first-page");
  await page.getByRole("button", { name: "더 보기" }).click();
  await waitRows("#audit-list", 120);
  result.allRows = await table("#audit-list");
  result.moreAfter = await page.locator("#audit-more").isVisible();

  await page.locator("#audit-action").selectOption({ label: "캠페인 일시정지" });
  await page.getByRole("button", { name: "조회" }).click();
  await waitRows("#audit-list", 60);
  result.paused = await table("#audit-list");
  await shot("audit-by-action");

  await page.locator("#audit-action").selectOption("");
  await page.locator("#audit-actor").fill("상담사 이바다");
  await page.getByRole("button", { name: "조회" }).click();
  await page.waitForFunction(
    () => [...document.querySelectorAll("#audit-list tbody tr td:nth-child(3)")].every((td) => td.textContent === "상담사 이바다"),
    null,
    { timeout: left() },
  );
  await waitRows("#audit-list", 60);
  result.byActor = await table("#audit-list");
  await shot("audit-by-actor");

  await page.getByRole("button", { name: "로그아웃" }).click();
  await login(opts.operator);
  result.operatorSeesTab = await page.locator("#tab-audit").isVisible();
  await page.waitForTimeout(300); // a late violation report still arrives
});
