// The prompt studio (음성 녹음 tab) in headless Debian Chromium (tests/test_prompt_studio_browser.py): an
// admin finds a prompt, records it through the fake microphone (a real Korean recording), listens back,
// saves it (the server checks it with Whisper: the CER is shown), then uploads a WAV of other words for the
// same prompt and is warned.
//
//   node tests/browser/prompts.mjs --url URL --token TOKEN --text PROMPT --mic WAV --seconds S --wrong WAV --out DIR
//
// Prints one JSON line.
import { options, runPage } from "./harness.mjs";

const opts = options(
  {
    token: { type: "string" },
    text: { type: "string" },
    mic: { type: "string" },
    seconds: { type: "string" },
    wrong: { type: "string" },
    timeout: { type: "string", default: "90" },
  },
  "prompts.mjs --url URL --token TOKEN --text PROMPT --mic WAV --seconds S --wrong WAV --out DIR",
);
const settings = {
  args: [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${opts.mic}`,
    "--autoplay-policy=no-user-gesture-required",
  ],
  permissions: ["microphone"],
  pageTimeout: 20_000,
  steps: true,
};

await runPage(opts, settings, async ({ page, result, shot, left, login, step }) => {
  const row = () => page.locator("#prompt-list tr", { hasText: opts.text }).first();
  await login(opts.token);
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
});
