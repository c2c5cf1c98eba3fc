// What the page scripts share: their command line (options(), every script) and, for the one-page scripts
// (callbacks, audit, tokens-csp, knowledge, insights, prompts, chat), one headless Debian Chromium page with
// the collection the Python tests read (runPage()). console.mjs, chat-console.mjs and call.mjs set up their
// own pages: several at once, errors provoked on purpose step by step, a WebRTC call's exit status.
//
//   const opts = options({ admin: { type: "string" } }, "audit.mjs --url URL --admin TOKEN --out DIR");
//   await runPage(opts, { csp: true }, async ({ page, shot, login, left, result }) => { ...steps... });
//
// options(): --url, --out, --timeout (seconds, 60 unless the script's spec says otherwise) and --chromium
// besides the script's own; an option without a default is required (else the usage, exit 2); --out is made.
// runPage(): launches Chromium, opens one context (1280x1000, ko-KR, Asia/Seoul unless settings.context says
// otherwise; a key set to undefined drops a default) and page, and runs the steps. It collects console errors,
// page errors and requests to another origin; with `csp`, Content-Security-Policy violations too. When the
// steps return, result.ok is true; when they throw, result.error holds the stack and a "failure" screenshot
// is taken. The browser is closed and the result printed as one JSON line:
//   { ok, steps? (with `steps`), screenshots, violations? (with `csp`), consoleErrors, externalRequests, ... }
// Screenshots are numbered in order: OUT/01-name.png, OUT/02-name.png, ...
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const COMMON = {
  url: { type: "string" },
  out: { type: "string" },
  timeout: { type: "string", default: "60" },
  chromium: { type: "string", default: "/usr/bin/chromium" },
};

export function options(spec, usage) {
  const all = { ...COMMON, ...spec };
  const { values } = parseArgs({ options: all });
  if (Object.entries(all).some(([name, option]) => option.default === undefined && !values[name])) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  mkdirSync(values.out, { recursive: true });
  return values;
}

const WEB = ["http:", "https:", "ws:", "wss:"];

/**
 * settings: context (newContext options over the defaults), args (Chromium flags), permissions (granted to
 * the server's origin), pageTimeout (ms, default 30 000), csp, steps, ignoreConsole (a RegExp of console
 * errors the steps provoke on purpose), isExternal(url: URL, origin) (default: a web request to another
 * origin). body({ browser, context, page, origin, result, shot, left, login, step, table, waitRows }) runs the
 * steps; shot(name, locator?) takes the full page, or just the locator's element.
 */
export async function runPage(opts, settings, body) {
  const deadline = Date.now() + Number(opts.timeout) * 1000;
  const left = () => Math.max(1000, deadline - Date.now());
  const result = {
    ok: false,
    ...(settings.steps ? { steps: [] } : {}),
    screenshots: [],
    ...(settings.csp ? { violations: [] } : {}),
    consoleErrors: [],
    externalRequests: [],
  };
  const step = (name, extra = {}) => result.steps.push({ name, ...extra });
  const origin = new URL(opts.url).origin;
  const isExternal = settings.isExternal ?? ((url) => WEB.includes(url.protocol) && url.origin !== origin);

  const browser = await chromium.launch({ executablePath: opts.chromium, headless: true, ...(settings.args ? { args: settings.args } : {}) });
  let page = null;
  const shot = async (name, locator) => {
    const path = join(opts.out, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
    if (locator) await locator.screenshot({ path });
    else await page.screenshot({ path, fullPage: true });
    result.screenshots.push(path);
  };
  const login = async (token) => {
    await page.goto(`${opts.url}/console/`);
    await page.getByLabel("접속 토큰").fill(token);
    await page.getByRole("button", { name: "로그인" }).click();
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: left() });
  };
  // The cell texts of each body row of the table at `selector`; a wait until it has `n` body rows.
  const table = (selector) =>
    page.locator(`${selector} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.innerText.trim())));
  const waitRows = (selector, n) =>
    page.waitForFunction(([sel, count]) => document.querySelectorAll(`${sel} tbody tr`).length === count, [selector, n], { timeout: left() });

  try {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      locale: "ko-KR",
      timezoneId: "Asia/Seoul",
      ...settings.context,
    });
    if (settings.csp) {
      await context.exposeBinding("reportViolation", (_source, text) => result.violations.push(text));
      await context.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (e) =>
          window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile || e.documentURI}:${e.lineNumber}`),
        );
      });
    }
    if (settings.permissions) await context.grantPermissions(settings.permissions, { origin });
    page = await context.newPage();
    page.setDefaultTimeout(settings.pageTimeout ?? 30_000);
    page.on("console", (msg) => {
      if (msg.type() === "error" && !settings.ignoreConsole?.test(msg.text())) result.consoleErrors.push(msg.text());
    });
    page.on("pageerror", (err) => result.consoleErrors.push(String(err)));
    page.on("request", (req) => {
      if (isExternal(new URL(req.url()), origin)) result.externalRequests.push(req.url());
    });

    await body({ browser, context, page, origin, result, shot, left, login, step, table, waitRows });
    result.ok = true;
  } catch (err) {
    result.error = String(err && err.stack ? err.stack : err);
    if (page) await shot("failure").catch(() => {});
  } finally {
    await browser.close();
    console.log(JSON.stringify(result));
  }
}
