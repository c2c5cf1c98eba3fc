// The 민원 분석 tab (issue 19) in headless Debian Chromium (tests/test_insights_browser.py): an operator opens
// the tab over a labelled synthetic history with a surge today, sees the spike alert, the trend charts and
// a 민원예보 chart per category; screenshots go to --out.
//
//   node tests/browser/insights.mjs --url URL --token TOKEN --out DIR
//
// Prints one JSON line.
import { options, runPage } from "./harness.mjs";

const opts = options(
  { token: { type: "string" }, timeout: { type: "string", default: "90" } },
  "insights.mjs --url URL --token TOKEN --out DIR",
);

await runPage(opts, {}, async ({ page, result, shot, left, login, table }) => {
  await login(opts.token);
  await page.getByRole("tab", { name: "민원 분석" }).click();
  await page.waitForSelector("#insights-forecast figure svg", { timeout: left() });
  result.banner = await page.locator("#insights-synthetic").innerText();
  result.spike = (await page.locator("#spike-alert").count()) ? await page.locator("#spike-alert").innerText() : null;
  result.figures = await page.locator("#insights-figures .figure").allInnerTexts();
  result.channelOutcomes = await table("#channel-outcomes");
  result.trendCharts = await page.locator("#insights-trends figure svg").count();
  result.forecastCharts = await page.locator("#insights-forecast figure svg").count();
  result.forecastBands = await page.locator("#insights-forecast svg polygon.interval").count();
  await page.waitForSelector("#insights-gaps > *", { timeout: left() });
  result.gaps = await page.locator("#insights-gaps").innerText();
  result.captions = await page.locator("#insights-trends figcaption, #insights-forecast figcaption").allInnerTexts();
  await shot("insights");
  await shot("forecast", page.locator("#insights-forecast"));
  await page.selectOption("#insights-period", "365");
  await page.waitForFunction(() => document.querySelector("#insights-figures")?.textContent.includes("전체 문의"));
  await page.waitForTimeout(500);
  result.yearTotal = await page.locator("#insights-figures .figure").first().innerText();
  await shot("year");
});
