// The 민원 분석 tab (issue 19) in headless Debian Chromium (tests/test_insights_browser.py): an operator opens
// the tab over a labelled synthetic history with a surge today, sees the spike alert, the trend charts and
// a 민원예보 chart per category; screenshots go to --out.
//
//   node tests/browser/insights.mjs --url URL --token TOKEN --out DIR
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
    out: { type: "string" },
    timeout: { type: "string", default: "90" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!opts.url || !opts.token || !opts.out) {
  console.error("usage: insights.mjs --url URL --token TOKEN --out DIR");
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

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "ko-KR", timezoneId: "Asia/Seoul" });
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

  await page.goto(`${opts.url}/console/`);
  await page.getByLabel("접속 토큰").fill(opts.token);
  await page.getByRole("button", { name: "로그인" }).click();
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: left() });
  await page.getByRole("tab", { name: "민원 분석" }).click();
  await page.waitForSelector("#insights-forecast figure svg", { timeout: left() });
  result.banner = await page.locator("#insights-synthetic").innerText();
  result.spike = (await page.locator("#spike-alert").count()) ? await page.locator("#spike-alert").innerText() : null;
  result.figures = await page.locator("#insights-figures .figure").allInnerTexts();
  result.channelOutcomes = await page.locator("#channel-outcomes tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.innerText.trim())));
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
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  if (page) await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
