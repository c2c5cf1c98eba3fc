// The prompt studio (음성 녹음 tab) in headless Debian Chromium (tests/test_prompt_studio_browser.py): an
// admin finds a prompt, records it through the fake microphone (a real Korean recording), listens back,
// saves it (the server checks it with Whisper: the CER is shown), then uploads a WAV of other words for the
// same prompt and is warned.
//
//   node tests/browser/prompts.mjs --url URL --token TOKEN --text PROMPT --mic WAV --seconds S --wrong WAV --out DIR
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
    text: { type: "string" },
    mic: { type: "string" },
    seconds: { type: "string" },
    wrong: { type: "string" },
    out: { type: "string" },
    timeout: { type: "string", default: "90" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!opts.url || !opts.token || !opts.text || !opts.mic || !opts.seconds || !opts.wrong || !opts.out) {
  console.error("usage: prompts.mjs --url URL --token TOKEN --text PROMPT --mic WAV --seconds S --wrong WAV --out DIR");
  process.exit(2);
}
mkdirSync(opts.out, { recursive: true });
const deadline = Date.now() + Number(opts.timeout) * 1000;
const left = () => Math.max(1000, deadline - Date.now());
const result = { ok: false, steps: [], screenshots: [], consoleErrors: [], externalRequests: [] };
const step = (name, extra = {}) => result.steps.push({ name, ...extra });

const browser = await chromium.launch({
  executablePath: opts.chromium,
  headless: true,
  args: [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${opts.mic}`,
    "--autoplay-policy=no-user-gesture-required",
  ],
});
let page = null;
const shot = async (name) => {
  const path = join(opts.out, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
};
const row = () => page.locator("#prompt-list tr", { hasText: opts.text }).first();

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "ko-KR", timezoneId: "Asia/Seoul" });
  const origin = new URL(opts.url).origin;
  await context.grantPermissions(["microphone"], { origin });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
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
  await page.getByRole("tab", { name: "음성 녹음" }).click();
  await page.waitForSelector("#prompt-coverage table", { timeout: left() });
  result.coverageBefore = await page.locator("#prompt-coverage tbody tr").allInnerTexts();
  await page.fill("#prompt-search", opts.text.slice(0, 12));
  result.stateBefore = await row().getAttribute("data-state");
  await row().locator(".prompt-record").click();
  step("studio open");
  await shot("studio");

  await page.click("#studio-record");
  await page.waitForTimeout(Number(opts.seconds) * 1000);
  await page.click("#studio-record");
  await page.waitForSelector("#studio-take:not([hidden])", { timeout: left() });
  result.takeText = await page.locator("#studio-take-length").innerText();
  result.takeDuration = await page.$eval("#studio-take", (a) => new Promise((resolve) => {
    if (Number.isFinite(a.duration) && a.duration > 0) resolve(a.duration);
    else a.addEventListener("loadedmetadata", () => resolve(a.duration), { once: true });
  }));
  step("recorded");
  await page.click("#studio-save");
  await page.waitForSelector("#studio-saved-note", { timeout: left() });
  result.recorded = {
    note: await page.locator("#studio-saved-note").innerText(),
    transcript: await page.locator("#studio-transcript").innerText(),
    cer: Number(await page.locator("#studio-cer").getAttribute("data-cer")),
    warning: await page.locator("#studio-warning").count(),
    ok: await page.locator("#studio-ok").count(),
  };
  await page.waitForFunction((text) => [...document.querySelectorAll("#prompt-list tr")].some((tr) => tr.dataset.state === "recorded" && tr.textContent.includes(text)), opts.text, { timeout: left() });
  result.stateAfter = await row().getAttribute("data-state");
  result.coverageAfter = await page.locator("#prompt-coverage tbody tr").allInnerTexts();
  step("saved");
  await shot("saved");

  await row().locator(".prompt-record").click();
  await page.waitForFunction(() => !document.querySelector("#studio-saved-note"));
  await page.setInputFiles("#studio-upload", opts.wrong);
  await page.waitForSelector("#studio-saved-note", { timeout: left() });
  result.wrong = {
    note: await page.locator("#studio-saved-note").innerText(),
    cer: Number(await page.locator("#studio-cer").getAttribute("data-cer")),
    warning: await page.locator("#studio-warning").count() ? await page.locator("#studio-warning").innerText() : null,
    useButton: await page.locator("#studio-use").count(),
  };
  step("wrong clip uploaded");
  await shot("wrong");
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  if (page) await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
