// The web chat (/chat) in headless Debian Chromium on a phone-sized screen (tests/test_chat_browser.py).
//
//   node tests/browser/chat.mjs --url http://127.0.0.1:PORT --operator TOKEN --out DIR [--timeout 60]
//
// A citizen opens the chat, presses the 교통 menu button, types a question, picks one of the two options the
// bot offers, turns on large text, reloads (the conversation continues), tries to send nothing, reports a
// fire (the 119 text and call links at once), and an operator (through the API, as the console does) takes
// the chat and answers: the page shows "상담사가 연결되었습니다" and the reply. Prints one JSON line.
import { options, runPage } from "./harness.mjs";

const opts = options({ operator: { type: "string" } }, "chat.mjs --url URL --operator TOKEN --out DIR [--timeout 60]");

async function staff(method, path, body) {
  const response = await fetch(`${opts.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${opts.operator}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const settings = {
  context: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, timezoneId: undefined },
  isExternal: (url, origin) => url.protocol !== "data:" && url.origin !== origin,
  steps: true,
};

await runPage(opts, settings, async ({ page, result, shot, left, step }) => {
  const messages = () =>
    page.$$eval("#log li", (items) =>
      items.map((li) => ({
        role: li.dataset.role,
        text: li.querySelector(".bubble").textContent,
        emergency: li.classList.contains("emergency"),
        links: [...li.querySelectorAll("a")].map((a) => a.getAttribute("href")),
      })),
    );
  const quickLabels = () => page.$$eval("#quick button", (buttons) => buttons.map((b) => b.textContent));
  const waitFor = async (what, test) => {
    try {
      await page.waitForFunction(test, null, { timeout: left(), polling: 100 });
    } catch (err) {
      throw new Error(`${what}: ${err.message.split("\n")[0]}; page showed ${JSON.stringify(await messages())}`);
    }
    step(what);
  };
  const lastBot = () =>
    page.$$eval("#log li[data-role=bot] .bubble", (items) => (items.length ? items[items.length - 1].textContent : ""));
  const botCount = () => page.$$eval("#log li[data-role=bot]", (items) => items.length);

  await page.goto(`${opts.url}/chat`);
  await waitFor("greeting", () => document.querySelectorAll("#log li[data-role=bot]").length === 1);
  result.greeting = await lastBot();
  result.menuButtons = await quickLabels();
  result.status = await page.textContent("#status");
  await shot("greeting");

  // The 교통 menu button is the keypad's 1.
  await page.getByRole("button", { name: "교통", exact: true }).click();
  await waitFor("menu 1", () => document.querySelectorAll("#log li[data-role=bot]").length === 2);
  result.transport = await lastBot();

  // A typed question: the bot offers two options as buttons.
  await page.fill("#text", "분실물");
  await page.press("#text", "Enter");
  await waitFor("clarify", () => document.querySelectorAll("#log li[data-role=bot]").length === 3);
  result.clarify = await lastBot();
  result.choiceButtons = await quickLabels();
  await shot("clarify");
  await page.getByRole("button", { name: "지하철 분실물" }).click();
  await waitFor("answer", () => document.querySelectorAll("#log li[data-role=bot]").length === 4);
  result.answer = await lastBot();
  result.answerButtons = await quickLabels();

  // Large text for older users: the whole page scales, and nothing spills sideways on a phone.
  const rootSize = () => page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
  result.fontBefore = await rootSize();
  await page.getByRole("button", { name: "큰 글씨" }).click();
  result.fontAfter = await rootSize();
  result.largePressed = await page.getAttribute("#large-text", "aria-pressed");
  result.overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await shot("large-text");

  // A reload continues the same conversation, large text kept.
  const shown = (await messages()).length;
  await page.reload();
  await waitFor("reloaded", () => document.querySelectorAll("#log li").length > 0);
  await page.waitForFunction((n) => document.querySelectorAll("#log li").length === n, shown, { timeout: left() });
  result.afterReload = { messages: (await messages()).length, font: await rootSize(), shownBefore: shown };

  // Nothing typed: a clear message, nothing sent.
  const before = await botCount();
  await page.fill("#text", "   ");
  await page.click("#send");
  result.emptyError = await page.textContent("#error");
  result.emptyBots = (await botCount()) - before;

  // An emergency: the 119 text with call links at once, and the chat waits for an agent.
  await page.fill("#text", "불이 났어요");
  await page.press("#text", "Enter");
  await waitFor("emergency", () => document.querySelector("#log li.emergency") !== null);
  const all = await messages();
  result.emergency = all.find((m) => m.emergency);
  result.emergencyRole = await page.getAttribute("#log li.emergency", "role");
  result.waitingStatus = await page.textContent("#status");
  await shot("emergency");

  // An operator takes the chat and answers: the page shows both without a reload.
  const conversationId = await page.evaluate(() => localStorage.getItem("voicebot.chat.id"));
  const queue = await staff("GET", "/api/chats/queue");
  result.queue = queue.body.map((c) => ({ id: c.id === conversationId, state: c.state, reason: c.handoff_reason }));
  result.take = (await staff("POST", `/api/chats/${conversationId}/take`)).status;
  result.takeAgain = (await staff("POST", `/api/chats/${conversationId}/take`)).status;
  await waitFor("agent joined", () =>
    [...document.querySelectorAll("#log li[data-role=system]")].some((li) => li.textContent.includes("상담사가 연결")),
  );
  result.reply = (await staff("POST", `/api/chats/${conversationId}/reply`, { text: "119에 신고하셨나요? 지금 계신 곳을 알려 주세요." })).status;
  await waitFor("agent reply", () => document.querySelector("#log li[data-role=agent]") !== null);
  result.agentText = await page.textContent("#log li[data-role=agent] .bubble");
  result.agentStatus = await page.textContent("#status");
  await page.fill("#text", "중구 세종대로 110이에요");
  await page.press("#text", "Enter");
  await waitFor("citizen to agent", () =>
    [...document.querySelectorAll("#log li[data-role=user]")].some((li) => li.textContent.includes("세종대로")),
  );
  await shot("agent");
});
