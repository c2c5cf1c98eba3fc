// The staff console in headless Debian Chromium: log in, create a campaign from a CSV with a bad row, start
// it (the server's SIMULATED dialer calls everyone), see the results and an alert, acknowledge it, export
// the CSV, look at the charts, then log in as a viewer and check that names and numbers are masked and that
// nothing can be changed.
//
//   node tests/browser/console.mjs --url http://127.0.0.1:PORT --operator TOKEN --viewer TOKEN \
//        --csv contacts.csv --covid-csv covid.csv --out DIR [--timeout 60]
//
// Prints one JSON line: what each step saw, console errors, requests that left 127.0.0.1, screenshots.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { options } from "./harness.mjs";

const opts = options(
  {
    operator: { type: "string" },
    viewer: { type: "string" },
    csv: { type: "string" },
    "covid-csv": { type: "string" },
  },
  "console.mjs --url URL --operator TOKEN --viewer TOKEN --csv FILE --covid-csv FILE --out DIR [--timeout 60]",
);
const started = Date.now();
const deadline = started + Number(opts.timeout) * 1000;
const left = () => Math.max(1000, deadline - Date.now());

const result = {
  ok: false,
  steps: [],
  screenshots: [],
  consoleErrors: [],
  expectedHttpErrors: [],
  externalRequests: [],
  requests: 0,
};
const step = (name, extra = {}) => result.steps.push({ name, ms: Date.now() - started, ...extra });

// Debian's chromium ships only the en-US UI strings (chromium-l10n has the rest): the browser's own
// date-field and file-button texts stay English here; everything the console itself writes is Korean.
const browser = await chromium.launch({ executablePath: opts.chromium, headless: true });
let page = null;
let expectHttpError = null; // a status the current step provokes on purpose (a wrong token: 401)

const shot = async (name) => {
  const path = join(opts.out, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
};

async function login(token) {
  await page.getByLabel("접속 토큰").fill(token);
  await page.getByRole("button", { name: "로그인" }).click();
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: left() });
}

async function logout() {
  await page.getByRole("button", { name: "로그아웃" }).click();
  await page.getByLabel("접속 토큰").waitFor({ timeout: left() });
}

const tab = (name) => page.getByRole("tab", { name, exact: false });
const visibleCount = (locator) => locator.evaluateAll((els) => els.filter((e) => e.offsetParent !== null).length);

try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: "ko-KR",
    timezoneId: "Asia/Seoul",
    acceptDownloads: true,
  });
  const origin = new URL(opts.url).origin;
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    if (expectHttpError && text.includes(`status of ${expectHttpError}`)) result.expectedHttpErrors.push(text);
    else result.consoleErrors.push(text);
  });
  page.on("pageerror", (err) => result.consoleErrors.push(String(err)));
  page.on("request", (req) => {
    result.requests += 1;
    const url = new URL(req.url());
    if (["http:", "https:", "ws:", "wss:"].includes(url.protocol) && url.origin !== origin) {
      result.externalRequests.push(req.url());
    } else if (url.protocol === "blob:" && !req.url().startsWith(`blob:${origin}/`)) {
      result.externalRequests.push(req.url());
    }
  });

  // --- login: a wrong token is refused in Korean, the operator's token works ---------------------------
  await page.goto(`${opts.url}/console/`);
  await page.getByRole("heading", { name: "상담봇 관리 화면 로그인" }).waitFor();
  await shot("login");
  expectHttpError = 401;
  await page.getByLabel("접속 토큰").fill("vb_wrong-token");
  await page.getByRole("button", { name: "로그인" }).click();
  const loginError = page.locator("#login-error");
  await loginError.waitFor({ state: "visible" });
  result.wrongTokenMessage = await loginError.textContent();
  expectHttpError = null;
  step("wrong token refused");

  await login(opts.operator);
  result.operator = {
    name: await page.locator("#user-name").textContent(),
    role: await page.locator("#user-role").textContent(),
    viewerBanner: await page.locator("#viewer-note").isVisible(),
  };
  await page.locator("#dialer-banner").waitFor({ state: "visible", timeout: left() });
  result.dialerBanner = (await page.locator("#dialer-banner").textContent()).trim();
  step("operator logged in");

  // --- create a campaign from the 안심콜 template with the CSV -------------------------------------------
  await page.getByRole("button", { name: "새 캠페인 만들기" }).click();
  const form = page.locator("#campaign-form");
  await form.getByLabel("안심콜 (어르신 안부 확인)").check();
  await form.getByLabel("캠페인 이름").fill("시험 안심콜 (브라우저)");
  await form.getByLabel("통화 시간대").fill("00:00-24:00");
  const weekdays = form.getByRole("group", { name: "통화 요일" });
  for (const day of ["월", "화", "수", "목", "금", "토", "일"]) await weekdays.getByLabel(day, { exact: true }).check();
  const rounds = form.getByRole("group", { name: /^반복/ });
  for (const day of ["월", "화", "수", "목", "금", "토", "일"]) await rounds.getByLabel(day, { exact: true }).uncheck();
  await form.getByLabel("최대 시도 횟수").fill("2");
  await form.getByLabel("다시 걸기 간격 (분)").fill("0");
  await form.getByLabel("공휴일에는 걸지 않기").uncheck();
  await form.getByLabel("연락처 CSV 파일 (선택)", { exact: true }).setInputFiles(opts.csv);
  await shot("create-form");
  await form.getByRole("button", { name: "캠페인 만들기" }).click();

  const report = page.locator("#import-report");
  await report.locator("table.rejected").waitFor({ timeout: left() });
  result.importReport = {
    text: (await report.locator(".report > p").first().textContent()).trim(),
    rejected: await report.locator("table.rejected tbody tr").evaluateAll((rows) =>
      rows.map((r) => Array.from(r.cells, (c) => c.textContent.trim())),
    ),
  };
  result.detailTitle = await page.locator("#detail-title").textContent();
  result.statusBeforeStart = await page.locator("#detail-status").textContent();
  await shot("created-with-bad-row");
  step("campaign created, bad row listed");

  // --- start it; the SIMULATED dialer in the server calls everyone ---------------------------------------
  await page.locator("#campaign-detail").getByRole("button", { name: "시작", exact: true }).click();
  await page.locator("#notice").filter({ hasText: "캠페인을 시작했습니다" }).waitFor({ timeout: left() });
  result.startNotice = await page.locator("#notice").textContent();
  await page
    .locator("#detail-status")
    .filter({ hasText: "완료" })
    .waitFor({ timeout: left() })
    .catch(async (err) => {
      throw new Error(`campaign did not complete: ${err.message.split("\n")[0]}; status ${await page.locator("#detail-status").textContent()}`);
    });
  result.progressText = await page.locator("#detail-numbers .progress-row span").textContent();
  result.listProgress = await page.locator("#campaign-list tbody tr").first().locator(".progress-cell span").textContent();
  await shot("campaign-completed");
  step("campaign ran");

  // --- results: every attempt, names in clear for the operator, one person's history ---------------------
  await tab("결과").click();
  const rows = page.locator("#results-table tbody tr");
  await page.waitForFunction(() => document.querySelectorAll("#results-table tbody tr").length >= 4, null, { timeout: left() });
  result.results = await rows.evaluateAll((trs) =>
    trs.map((tr) => ({ outcome: tr.dataset.outcome, cells: Array.from(tr.cells, (c) => c.textContent.trim()) })),
  );
  result.resultsCount = await page.locator("#results-count").textContent();
  await page.locator("#results-outcome").selectOption("busy");
  await page.getByRole("button", { name: "조회" }).click();
  await page.waitForFunction(
    () => [...document.querySelectorAll("#results-table tbody tr")].every((tr) => tr.dataset.outcome === "busy"),
    null,
    { timeout: left() },
  );
  result.busyRows = await rows.count();
  await page.locator("#results-outcome").selectOption("");
  await page.getByRole("button", { name: "조회" }).click();
  await page.waitForFunction(() => document.querySelectorAll("#results-table tbody tr").length >= 4, null, { timeout: left() });
  await shot("results");
  await page.getByRole("button", { name: "김영희 님 이력 보기" }).first().click();
  const dialog = page.locator("#history-dialog");
  await dialog.locator("table.history").waitFor();
  result.history = {
    title: await page.locator("#history-title").textContent(),
    rows: await dialog.locator("table.history tbody tr").evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.cells, (c) => c.textContent.trim())),
    ),
  };
  // what the check-ins remember (issue 16): the concern asked first next time, corrected by staff
  const memory = dialog.locator("section.memory");
  await memory.locator("table.memory-trends").waitFor({ timeout: left() });
  result.memory = {
    title: await memory.locator("h3").textContent(),
    followUp: await memory.locator(".follow-up").textContent(),
    trends: await memory.locator("table.memory-trends tbody tr").evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.cells, (c) => c.textContent.trim())),
    ),
  };
  const open = memory.locator("table.memory-rows tbody tr").filter({ has: page.locator("input[type=checkbox]:checked") });
  await open.first().getByLabel("인용할 말").fill("허리가 많이 아프다고");
  await open.first().getByRole("button", { name: "저장" }).click();
  await page.locator("#notice").filter({ hasText: "기억한 내용을 고쳤습니다" }).waitFor({ timeout: left() });
  await memory.locator(".follow-up", { hasText: "허리가 많이 아프다고" }).waitFor({ timeout: left() });
  result.memory.followUpAfter = await memory.locator(".follow-up").textContent();
  await shot("history");
  await dialog.getByRole("button", { name: "닫기" }).click();
  step("results and history seen");

  // --- alerts: the welfare concern is in the open queue; acknowledge it with a note ----------------------
  await tab("알림").click();
  const concern = page.locator('#alert-list li[data-kind="welfare_concern"]').filter({ hasText: "김영희" });
  await concern.waitFor({ timeout: left() });
  result.openAlertsBefore = await page.locator("#alert-list li.alert-card").evaluateAll((lis) =>
    lis.map((li) => ({ kind: li.dataset.kind, text: li.querySelector(".alert-person")?.textContent.trim(), message: li.querySelector("p:not(.alert-person)")?.textContent.trim() })),
  );
  result.alertBadgeBefore = await page.locator("#alert-count").textContent();
  await concern.getByLabel(/^메모/).fill("방문 상담 예정 (브라우저 시험)");
  await shot("alert-open");
  await concern.getByRole("button", { name: "확인 처리" }).click();
  await concern.waitFor({ state: "detached", timeout: left() });
  // one card per person: 정미숙's several alerts on one card, acknowledged together from it
  const many = page.locator("#alert-list li.alert-card").filter({ hasText: "정미숙" });
  result.groupedCard = await many.evaluate((li) => ({
    kind: li.dataset.kind,
    count: li.dataset.count,
    total: li.querySelector(".alert-total").textContent.trim(),
    shown: li.querySelectorAll(":scope > ul.alert-items > li").length,
    folded: li.querySelectorAll("details.older li").length,
    button: li.querySelector("form.ack button[type=submit]").textContent.trim(),
  }));
  await many.getByLabel(/^메모/).fill("가족과 통화함 (브라우저 시험)");
  await many.getByRole("button", { name: /확인 처리/ }).click();
  await many.waitFor({ state: "detached", timeout: left() });
  result.openAlertsAfter = await page.locator("#alert-list li.alert-card").evaluateAll((lis) => lis.map((li) => li.dataset.kind));
  await page.getByLabel("모든 알림").check();
  const acked = concern.locator(".acked");
  await acked.waitFor({ timeout: left() });
  result.ackedText = await acked.textContent();
  await shot("alert-acknowledged");
  step("alert acknowledged");

  // --- export the campaign's CSV -------------------------------------------------------------------------
  await tab("결과").click();
  await page.locator("#results-campaign").selectOption({ index: 1 }); // the one campaign
  const exportButton = page.getByRole("button", { name: "CSV 내보내기" });
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: left() }), exportButton.click()]);
  const exportPath = join(opts.out, "export.csv");
  await download.saveAs(exportPath);
  result.export = {
    suggested: download.suggestedFilename(),
    path: exportPath,
    firstLine: readFileSync(exportPath, "utf8").replace(/^\uFEFF/, "").split(/\r?\n/)[0],
  };
  step("csv exported");

  // --- charts ------------------------------------------------------------------------------------------
  await tab("통계").click();
  await page.locator("#chart-outcomes svg rect[data-series]").first().waitFor({ timeout: left() });
  await page.locator("#chart-reached svg").waitFor({ timeout: left() });
  result.charts = await page.evaluate(() =>
    Object.fromEntries(
      ["chart-outcomes", "chart-reached", "chart-intents", "chart-escalations", "chart-latency"].map((id) => {
        const card = document.getElementById(id);
        return [
          id,
          {
            svg: card.querySelectorAll("svg").length,
            rects: card.querySelectorAll("svg rect").length,
            empty: !!card.querySelector(".empty"),
            caption: card.querySelector("figcaption")?.textContent,
            summary: card.querySelector(".chart-summary")?.textContent ?? null,
          },
        ];
      }),
    ),
  );
  await shot("stats");
  step("charts drawn");

  await tab("실시간 통화").click();
  await page.locator("#live-list li.live-call").first().waitFor({ timeout: left() });
  result.live = {
    count: await page.locator("#live-count").textContent(),
    calls: await page.locator("#live-list li.live-call").evaluateAll((lis) =>
      lis.map((li) => ({
        transport: li.querySelector(".live-head strong").textContent,
        state: li.querySelector(".call-state").textContent,
        lines: Array.from(li.querySelectorAll(".transcript li"), (l) => [l.querySelector(".who").textContent, l.querySelector(".text").textContent]),
      })),
    ),
  };
  await page.locator("#handoff-list li.handoff").first().waitFor({ timeout: left() });
  result.handoffs = await page.locator("#handoff-list li.handoff").evaluateAll((lis) =>
    lis.map((li) => ({
      reason: li.querySelector(".handoff-reason").textContent,
      intent: li.querySelector(".handoff-intent").textContent,
      summary: li.querySelector(".handoff-summary").textContent,
      transport: li.dataset.transport,
    })),
  );
  await shot("live");

  // --- a COVID-19 notice from its template: what every call says ------------------------------------------
  await tab("캠페인").click();
  await page.getByRole("button", { name: "새 캠페인 만들기" }).click();
  await form.getByLabel("코로나19 안내").check();
  result.covidForm = {
    name: await form.getByLabel("캠페인 이름").inputValue(),
    recurrenceHidden: !(await form.getByRole("group", { name: /^반복/ }).isVisible()),
  };
  await form.getByLabel("날짜", { exact: true }).fill("11월 25일");
  await form.getByLabel("장소", { exact: true }).fill("중구 보건소");
  await form.getByLabel("안내할 검사 결과").fill("음성");
  // the server refuses a window it cannot read; its Korean message is shown in the form
  await form.getByLabel("통화 시간대").fill("25:00-26:00");
  expectHttpError = 422;
  await form.getByRole("button", { name: "캠페인 만들기" }).click();
  await page.locator("#create-error").waitFor({ state: "visible", timeout: left() });
  result.createError = await page.locator("#create-error").textContent();
  expectHttpError = null;
  await form.getByLabel("통화 시간대").fill("09:00-18:00");
  await shot("covid-form");
  await form.getByRole("button", { name: "캠페인 만들기" }).click();
  await page.locator("#detail-title").filter({ hasText: result.covidForm.name }).waitFor({ timeout: left() });
  result.covidSettings = await page.locator("#campaign-detail dl.settings").textContent();
  result.covidButtons = await page.locator("#campaign-detail .actions button").allTextContents();
  step("covid campaign created");

  // --- its own values per person: a CSV with a place in the notes, then one value fixed by hand -----------
  const cells = (row) => row.evaluate((tr) => Array.from(tr.cells, (c) => c.textContent.trim()));
  await page.getByLabel("연락처 CSV 파일", { exact: true }).setInputFiles(opts["covid-csv"]);
  await page.getByRole("button", { name: "연락처 올리기" }).click();
  const member = page.locator("#member-list tbody tr").filter({ hasText: "김영희" });
  await member.filter({ hasText: "종로구 보건소 별관" }).waitFor({ timeout: left() });
  result.memberBefore = await cells(member);
  await member.getByRole("button", { name: /값 고치기/ }).click();
  const editor = page.locator("#member-editor form");
  await editor.getByLabel("장소 (필수)").fill("중구 보건소 2층");
  await shot("member-edit");
  await editor.getByRole("button", { name: "저장" }).click();
  await member.filter({ hasText: "중구 보건소 2층" }).waitFor({ timeout: left() });
  result.memberAfter = await cells(member);
  result.memberNotice = await page.locator("#notice").textContent();
  step("member value edited");

  // --- keyboard: arrow keys move between tabs ---------------------------------------------------------------
  await tab("실시간 통화").focus();
  await page.keyboard.press("ArrowLeft");
  result.keyboardTab = await page.evaluate(() => document.body.dataset.tab);

  // --- viewer: masked, read-only -----------------------------------------------------------------------
  await logout();
  result.logoutText = await page.locator("#login-status").textContent();
  await login(opts.viewer);
  await tab("캠페인").click();
  const viewer = {
    name: await page.locator("#user-name").textContent(),
    role: await page.locator("#user-role").textContent(),
    banner: await page.locator("#viewer-note").isVisible(),
    createButtons: await visibleCount(page.getByRole("button", { name: "새 캠페인 만들기" })),
  };
  await page.locator("#campaign-list button.link").first().click();
  await page.locator("#detail-title").waitFor();
  viewer.campaignActionButtons = await visibleCount(page.locator("#campaign-detail .actions button"));
  viewer.uploadForms = await visibleCount(page.locator("#campaign-detail form.upload"));
  await page.locator("#member-list tbody tr").first().waitFor({ timeout: left() });
  viewer.memberRows = await page.locator("#member-list tbody tr").evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.cells, (c) => c.textContent.trim())),
  );
  viewer.memberEditButtons = await visibleCount(page.getByRole("button", { name: /값 고치기/ }));
  await shot("viewer-campaign");
  await tab("결과").click();
  await page.waitForFunction(() => document.querySelectorAll("#results-table tbody tr").length >= 4, null, { timeout: left() });
  viewer.results = await page.locator("#results-table tbody tr").evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.cells, (c) => c.textContent.trim())),
  );
  viewer.historyButtons = await visibleCount(page.getByRole("button", { name: /이력 보기/ }));
  viewer.exportButtons = await visibleCount(page.getByRole("button", { name: "CSV 내보내기" }));
  await shot("viewer-results");
  await tab("알림").click();
  await page.getByLabel("모든 알림").check();
  await page.locator("#alert-list li.alert-card").first().waitFor({ timeout: left() });
  viewer.alertPeople = await page.locator("#alert-list .alert-person").allTextContents();
  viewer.ackButtons = await visibleCount(page.getByRole("button", { name: "확인 처리" }));
  viewer.notes = await page.locator("#alert-list .note").count();
  await shot("viewer-alerts");
  await tab("실시간 통화").click();
  viewer.liveText = await page.locator("#panel-live").textContent();
  result.viewer = viewer;
  step("viewer checked");

  // --- the API docs render from the server's own files (offline) -------------------------------------------
  await page.goto(`${opts.url}/docs`);
  await page.locator(".opblock").first().waitFor({ timeout: left() });
  result.docs = {
    operations: await page.locator(".opblock").count(),
    authorize: await page.locator("button.authorize").isVisible(),
    locks: await page.locator(".opblock .authorization__btn").count(),
  };
  await shot("api-docs");
  step("api docs rendered");

  result.ok = true;
} catch (err) {
  result.error = String(err && err.message ? err.message : err);
  if (page) await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
result.elapsedMs = Date.now() - started;
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
