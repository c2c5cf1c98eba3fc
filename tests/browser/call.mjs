// One call from the caller page in headless Debian Chromium, microphone fed from a WAV file.
//
//   node tests/browser/call.mjs --url http://127.0.0.1:PORT --wav mic.wav --out DIR [--digit 2] [--via keypad|choices]
//        [--timeout 60]
//
// Prints one JSON line: what the page showed (transcript lines, state), what it heard (Web Audio level,
// inbound RTP stats), console errors, requests that left 127.0.0.1, and the screenshots taken.
import { chromium } from "playwright-core";
import { join } from "node:path";
import { options } from "./harness.mjs";

const opts = options(
  {
    wav: { type: "string" },
    digit: { type: "string", default: "2" },
    via: { type: "string", default: "keypad" }, // choices: press the 보이는 ARS button for the digit
  },
  "call.mjs --url URL --wav FILE.wav --out DIR [--digit 2] [--timeout 60]",
);
const deadline = Date.now() + Number(opts.timeout) * 1000;
const left = () => Math.max(1000, deadline - Date.now());

const result = { ok: false, steps: [], screenshots: [], consoleErrors: [], externalRequests: [] };
const step = (name, extra = {}) => result.steps.push({ name, t: Date.now(), ...extra });

const browser = await chromium.launch({
  executablePath: opts.chromium,
  headless: true,
  args: [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${opts.wav}`,
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
  ],
});

let page = null;
const shot = async (name) => {
  const path = join(opts.out, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
};

try {
  const context = await browser.newContext({ viewport: { width: 520, height: 1100 }, locale: "ko-KR" });
  const origin = new URL(opts.url).origin;
  await context.grantPermissions(["microphone"], { origin });
  page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error") result.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => result.consoleErrors.push(String(err)));
  page.on("request", (req) => {
    if (new URL(req.url()).origin !== origin) result.externalRequests.push(req.url());
  });
  const snapshot = () => page.evaluate(() => window.voicebotCall.snapshot());
  const waitLine = (test, what) =>
    page
      .waitForFunction(test, null, { timeout: left(), polling: 100 })
      .then(() => step(what))
      .catch(async (err) => {
        throw new Error(`${what}: ${err.message.split("\n")[0]}; page showed ${JSON.stringify(await snapshot())}`);
      });

  await page.goto(`${opts.url}/call`);
  await shot("idle");
  const started = Date.now();
  await page.getByRole("button", { name: "전화 걸기" }).click();
  step("clicked call");

  await waitLine(
    () => window.voicebotCall.snapshot().lines.some((l) => l.speaker === "bot" && l.trigger === "start"),
    "greeting shown",
  );
  result.greetingMs = Date.now() - started;
  await waitLine(() => window.voicebotCall.snapshot().maxLevel > 0.01, "bot audio heard");
  result.stats = await page.evaluate(() => window.voicebotCall.stats());
  await shot("greeting");

  const shownChoices = () =>
    page.$$eval("#choices-box:not([hidden]) #choices button", (buttons) =>
      buttons.map((b) => ({ digit: b.dataset.digit, text: b.textContent })),
    );
  await waitLine(() => window.voicebotCall.snapshot().choices.length > 0, "choices shown");
  result.greetingChoices = await shownChoices();
  if (opts.via === "choices") {
    await page.locator(`#choices button[data-digit="${opts.digit}"]`).click();
  } else {
    await page.getByRole("button", { name: opts.digit === "*" ? "별표" : opts.digit === "#" ? "우물 정" : `${opts.digit}번` }).click();
  }
  step(`pressed ${opts.digit} (${opts.via})`);
  await waitLine(
    () => window.voicebotCall.snapshot().lines.some((l) => l.speaker === "bot" && l.trigger === "dtmf"),
    "keypad reply shown",
  );
  result.menuChoices = await shownChoices(); // updated with the reply's line (same message)
  await shot("keypad");

  await waitLine(
    () => window.voicebotCall.snapshot().lines.some((l) => l.speaker === "caller" && l.trigger === "speech"),
    "caller speech shown",
  );
  // the bot's answer to it
  await waitLine(() => {
    const lines = window.voicebotCall.snapshot().lines;
    const spoken = lines.find((l) => l.speaker === "caller" && l.trigger === "speech");
    return lines.some((l) => l.speaker === "bot" && l.turn === spoken.turn);
  }, "reply to speech shown");
  const finalStats = await page.evaluate(() => window.voicebotCall.stats());
  result.stats = finalStats || result.stats;
  await shot("speech");

  await page.getByRole("button", { name: "끊기" }).click();
  step("hung up");
  await page.waitForFunction(() => window.voicebotCall.snapshot().state === "ended", null, { timeout: 5000 });
  result.statusText = await page.locator("#status").textContent();
  await shot("ended");
  Object.assign(result, await snapshot(), { ok: true });
} catch (err) {
  result.error = String(err && err.message ? err.message : err);
  if (page) await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
