// Live agent takeover in headless Debian Chromium (tests/test_chat_browser.py): a citizen asks the web chat
// for an agent; two operators, each in their own console, see the chat in 채팅 상담 and press 맡기 at the
// same moment: one gets it, the other is told it is taken. The winner answers, the citizen sees
// "상담사가 연결되었습니다" and the answer and writes back, and the winner hands the chat back to the bot.
//
//   node tests/browser/chat-console.mjs --url http://127.0.0.1:PORT --first TOKEN --second TOKEN --out DIR
//
// Prints one JSON line.
import { chromium } from "playwright-core";
import { join } from "node:path";
import { options } from "./harness.mjs";

const opts = options(
  { first: { type: "string" }, second: { type: "string" } },
  "chat-console.mjs --url URL --first TOKEN --second TOKEN --out DIR [--timeout 60]",
);
const deadline = Date.now() + Number(opts.timeout) * 1000;
const left = () => Math.max(1000, deadline - Date.now());
const result = { ok: false, steps: [], screenshots: [], consoleErrors: [], expectedHttpErrors: [], externalRequests: [] };
const step = (name, extra = {}) => result.steps.push({ name, ...extra });
const browser = await chromium.launch({ executablePath: opts.chromium, headless: true });
const origin = new URL(opts.url).origin;

async function open(name, viewport) {
  const context = await browser.newContext({ viewport, locale: "ko-KR", timezoneId: "Asia/Seoul" });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    // The operator who loses the race gets a 409 on purpose.
    if (msg.text().includes("status of 409")) result.expectedHttpErrors.push(`${name}: ${msg.text()}`);
    else result.consoleErrors.push(`${name}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => result.consoleErrors.push(`${name}: ${err}`));
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (["http:", "https:", "ws:", "wss:"].includes(url.protocol) && url.origin !== origin) result.externalRequests.push(req.url());
  });
  return page;
}

const shot = async (page, name) => {
  const path = join(opts.out, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
};
const waitFor = (page, what, test, arg) =>
  page.waitForFunction(test, arg, { timeout: left(), polling: 100 }).then(() => step(what));

async function login(page, token) {
  await page.goto(`${opts.url}/console/`);
  await page.getByLabel("접속 토큰").fill(token);
  await page.getByRole("button", { name: "로그인" }).click();
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: left() });
  await page.getByRole("tab", { name: "채팅 상담" }).click();
}

let citizen = null;
try {
  citizen = await open("citizen", { width: 390, height: 844 });
  await citizen.goto(`${opts.url}/chat`);
  await waitFor(citizen, "greeting", () => document.querySelectorAll("#log li[data-role=bot]").length === 1);
  await citizen.fill("#text", "수도가 새는데 상담원 연결해 주세요");
  await citizen.press("#text", "Enter");
  await waitFor(citizen, "waiting", () => document.querySelector("#status").dataset.state === "waiting");

  const first = await open("first", { width: 1280, height: 900 });
  const second = await open("second", { width: 1280, height: 900 });
  await Promise.all([login(first, opts.first), login(second, opts.second)]);
  for (const page of [first, second]) {
    await waitFor(page, "queue shown", () => document.querySelector(".chat-card[data-state=waiting] .chat-take") !== null);
  }
  result.queueCard = await first.$eval(".chat-card", (card) => ({
    channel: card.dataset.channel,
    text: card.textContent,
  }));
  result.badge = await first.textContent("#chat-count");
  await shot(first, "queue");

  // Both press 맡기 at once.
  await Promise.all([first.click(".chat-take"), second.click(".chat-take")]);
  const outcome = (page) =>
    page.waitForFunction(
      () => (!document.querySelector("#chat-open").hidden ? "won" : !document.querySelector("#chats-error").hidden ? "lost" : null),
      null,
      { timeout: left(), polling: 100 },
    ).then((handle) => handle.jsonValue());
  const [firstOutcome, secondOutcome] = await Promise.all([outcome(first), outcome(second)]);
  result.race = [firstOutcome, secondOutcome];
  const winner = firstOutcome === "won" ? first : second;
  const loser = firstOutcome === "won" ? second : first;
  result.loserError = await loser.textContent("#chats-error");
  await waitFor(loser, "loser sees it taken", () => document.querySelector(".chat-card[data-state=agent]") !== null);
  result.loserCard = await loser.textContent(".chat-card[data-state=agent]");
  result.loserTakeButtons = await loser.$$eval(".chat-take", (b) => b.length);

  await waitFor(winner, "transcript", () => document.querySelectorAll("#chat-transcript li").length >= 4);
  result.winnerTranscript = await winner.$$eval("#chat-transcript li", (items) => items.map((li) => [li.dataset.role, li.querySelector(".text").textContent]));
  await winner.fill("#chat-reply", "안녕하세요, 상담사입니다. 물이 새는 곳이 어디인가요?");
  await winner.click("#chat-send");
  await waitFor(citizen, "citizen sees the agent", () => document.querySelector("#log li[data-role=agent]") !== null);
  result.citizenSystem = await citizen.$$eval("#log li[data-role=system] .bubble", (items) => items.map((b) => b.textContent));
  result.citizenAgent = await citizen.textContent("#log li[data-role=agent] .bubble");
  result.citizenStatus = await citizen.textContent("#status");
  await citizen.fill("#text", "주방 싱크대 아래에서 새요");
  await citizen.press("#text", "Enter");
  await waitFor(winner, "operator sees the answer", () =>
    [...document.querySelectorAll("#chat-transcript li[data-role=user]")].some((li) => li.textContent.includes("싱크대")),
  );
  await shot(winner, "operator-chat");
  await shot(citizen, "citizen-with-agent");

  await winner.click("#chat-hand-back");
  await waitFor(citizen, "back to the bot", () => document.querySelector("#status").dataset.state === "bot");
  result.citizenAfter = {
    notice: await citizen.$$eval("#log li[data-role=system] .bubble", (items) => items.map((b) => b.textContent)),
    buttons: await citizen.$$eval("#quick button", (buttons) => buttons.map((b) => b.textContent)),
  };
  await shot(citizen, "citizen-back-to-bot");
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  if (citizen) await shot(citizen, "failure").catch(() => {});
} finally {
  await browser.close();
  console.log(JSON.stringify(result));
}
