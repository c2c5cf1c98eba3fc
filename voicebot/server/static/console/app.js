// The staff console: login with an API token (kept in sessionStorage for this tab only), the six tabs,
// and polling of whichever tab is shown. Roles come from GET /api/me; controls a role may not use are
// hidden (the API refuses them anyway).
import { ApiError, allows, api, health, request, session, setUnauthorizedHandler } from "./api.js";
import { createAlertsView } from "./alerts.js";
import { createAuditView } from "./audit.js";
import { createCallbacksView } from "./callbacks.js";
import { createCampaignsView } from "./campaigns.js";
import { createChatsView } from "./chats.js";
import { label } from "./format.js";
import { setupHistoryDialog } from "./history.js";
import { createInsightsView } from "./insights.js";
import { createKnowledgeView } from "./knowledge.js";
import { createLiveView } from "./live.js";
import { createPromptsView } from "./prompts.js";
import { createResultsView } from "./results.js";
import { createStatsView } from "./stats.js";
import { createTokensView } from "./tokens.js";
import { notify } from "./ui.js";

const $ = (id) => document.getElementById(id);
const TABS = ["campaigns", "results", "alerts", "live", "chats", "callbacks", "stats", "insights", "knowledge", "prompts", "tokens", "audit"];
const BACKGROUND_MS = 10_000; // open-alert count and campaign names, whatever tab is shown

const ctx = {
  campaigns: [],
  setCampaigns(list) {
    ctx.campaigns = list;
  },
  campaignName(id) {
    const found = ctx.campaigns.find((c) => c.id === id);
    return found ? found.name : id === null || id === undefined ? "-" : `캠페인 ${id}`;
  },
  setAlertCount(n) {
    const badge = $("alert-count");
    badge.textContent = n ? String(n) : "";
    badge.hidden = !n;
    badge.setAttribute("aria-label", `확인 안 한 알림 ${n}건`);
  },
  setChatCount(n) {
    const badge = $("chat-count");
    badge.textContent = n ? String(n) : "";
    badge.hidden = !n;
    badge.setAttribute("aria-label", `상담사를 기다리는 채팅 ${n}건`);
  },
  goto,
};

let views = {};
let current = null;
let tabTimer = 0;
let backgroundTimer = 0;
let lastError = "";

// --- login ------------------------------------------------------------------------------------------

// What the dialer banner says; a real dialer (sip) needs none.
const DIALER_BANNER = {
  simulated: "모의 발신 모드: 실제 전화가 걸리지 않습니다. 이 서버의 통화 결과는 모두 '모의'로 표시됩니다.",
  none: "발신 비활성: 설정에서 dialer를 지정하세요 (outbound.dialer: sip). 캠페인을 시작해도 전화가 걸리지 않습니다.",
};

/** Show, on every screen, whether calls are real: the server's dialer from /healthz. */
async function showDialer() {
  let dialer;
  try {
    dialer = (await health()).dialer;
  } catch {
    return; // the server is unreachable: the views say so
  }
  const banner = $("dialer-banner");
  banner.textContent = DIALER_BANNER[dialer] || "";
  banner.hidden = !DIALER_BANNER[dialer];
  banner.dataset.dialer = dialer || "";
  document.body.dataset.dialer = dialer || "";
}

async function start() {
  showDialer();
  setupHistoryDialog();
  setupTabs();
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", () => logout("로그아웃했습니다."));
  setUnauthorizedHandler(() => logout("로그인이 만료되었거나 토큰이 더 이상 유효하지 않습니다. 다시 로그인해 주세요.", true));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && current) schedule(0);
  });
  if (session.token) {
    try {
      await enter(await api.me(session.token));
      return;
    } catch (err) {
      session.token = "";
      showLogin(err.status === 401 ? "로그인이 만료되었습니다. 다시 로그인해 주세요." : err.detail || err.message);
      return;
    }
  }
  showLogin();
}

async function onLogin(event) {
  event.preventDefault();
  const input = $("login-token");
  const error = $("login-error");
  const token = input.value.trim();
  error.hidden = true;
  if (!token) {
    error.textContent = "접속 토큰을 입력해 주세요.";
    error.hidden = false;
    input.focus();
    return;
  }
  const button = event.submitter || $("login-form").querySelector("button");
  button.disabled = true;
  try {
    const me = await api.me(token);
    session.token = token;
    input.value = "";
    await enter(me);
  } catch (err) {
    error.textContent =
      err instanceof ApiError && err.status === 401
        ? "토큰이 올바르지 않거나 취소되었습니다. 관리자에게 확인해 주세요."
        : err.detail || err.message;
    error.hidden = false;
    input.focus();
  } finally {
    button.disabled = false;
  }
}

function showLogin(message, kind = "error") {
  $("app-screen").hidden = true;
  $("login-screen").hidden = false;
  const error = $("login-error");
  const status = $("login-status");
  error.hidden = status.hidden = true;
  if (message) {
    const box = kind === "error" ? error : status;
    box.textContent = message;
    box.hidden = false;
  }
  $("login-token").focus();
}

async function enter(me) {
  session.user = me;
  document.body.dataset.role = me.role;
  $("user-name").textContent = `${me.name} 님`;
  $("user-role").textContent = label("role", me.role);
  $("user-role").dataset.role = me.role;
  $("viewer-note").hidden = me.role !== "viewer";
  $("tab-tokens").hidden = me.role !== "admin";
  $("tab-audit").hidden = me.role !== "admin";
  $("login-screen").hidden = true;
  $("login-error").hidden = $("login-status").hidden = true;
  $("notice").hidden = true;
  $("app-screen").hidden = false;
  try {
    ctx.setCampaigns(await api.campaigns());
  } catch {
    ctx.setCampaigns([]);
  }
  views = {
    campaigns: createCampaignsView($("panel-campaigns"), ctx),
    results: createResultsView($("panel-results"), ctx),
    alerts: createAlertsView($("panel-alerts"), ctx),
    live: createLiveView($("panel-live"), ctx),
    chats: createChatsView($("panel-chats"), ctx),
    callbacks: createCallbacksView($("panel-callbacks")),
    stats: createStatsView($("panel-stats"), ctx),
    insights: createInsightsView($("panel-insights"), ctx),
    knowledge: createKnowledgeView($("panel-knowledge")),
    prompts: createPromptsView($("panel-prompts"), ctx),
    tokens: createTokensView($("panel-tokens")),
    audit: createAuditView($("panel-audit")),
  };
  const fromHash = location.hash.slice(1);
  const shown = TABS.includes(fromHash) && !$(`tab-${fromHash}`).hidden;
  await goto(shown ? fromHash : "campaigns", {}, false);
  background();
  document.body.dataset.ready = "true";
}

function logout(message, expired = false) {
  if (!session.user && !expired) return;
  session.token = "";
  session.user = null;
  current = null;
  clearTimeout(tabTimer);
  clearTimeout(backgroundTimer);
  delete document.body.dataset.ready;
  delete document.body.dataset.role;
  for (const tab of TABS) $(`panel-${tab}`).replaceChildren();
  ctx.setAlertCount(0);
  ctx.setChatCount(0);
  $("notice").hidden = true;
  showLogin(message, expired ? "error" : "ok");
}

// --- tabs ---------------------------------------------------------------------------------------------

function setupTabs() {
  const tabs = TABS.map((t) => $(`tab-${t}`));
  for (const tab of tabs) {
    tab.type = "button";
    tab.addEventListener("click", () => goto(tab.dataset.tab, {}, true));
    tab.addEventListener("keydown", (event) => {
      const shown = tabs.filter((t) => !t.hidden);
      const i = shown.indexOf(tab);
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: shown.length - 1 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      const target = shown[(to + shown.length) % shown.length];
      target.focus();
      goto(target.dataset.tab, {}, false);
    });
  }
}

/** Show a tab (options go to the view, e.g. {campaignId}) and refresh it at once. */
async function goto(tab, options = {}, focusPanel = true) {
  if (!views[tab]) return;
  current = tab;
  document.body.dataset.tab = tab;
  for (const t of TABS) {
    const selected = t === tab;
    const button = $(`tab-${t}`);
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${t}`).hidden = !selected;
  }
  if (location.hash !== `#${tab}`) history.replaceState(null, "", `#${tab}`);
  views[tab].onShow(options);
  if (focusPanel && options.campaignId !== undefined) $(`tab-${tab}`).focus();
  clearTimeout(tabTimer);
  await tick(true);
}

function schedule(ms) {
  clearTimeout(tabTimer);
  tabTimer = setTimeout(() => tick(false), ms);
}

async function tick(force) {
  const tab = current;
  if (!tab) return;
  if (!document.hidden) {
    try {
      await views[tab].refresh(force);
      lastError = "";
    } catch (err) {
      const text = err.detail || err.message;
      if (text !== lastError && session.user) notify(text, "error");
      lastError = text;
    }
  }
  if (current === tab && session.user) schedule(views[tab].interval);
}

async function background() {
  clearTimeout(backgroundTimer);
  if (!session.user) return;
  if (!document.hidden) {
    showDialer();
    try {
      const [open, campaigns] = await Promise.all([api.alerts({ open: "true" }), api.campaigns()]);
      ctx.setAlertCount(open.length);
      ctx.setCampaigns(campaigns);
      if (allows("operator")) {
        const chats = await request("/api/chats/queue");
        ctx.setChatCount(chats.filter((c) => c.state === "waiting").length);
      }
    } catch {
      /* the tab's own refresh reports errors */
    }
  }
  if (session.user) backgroundTimer = setTimeout(background, BACKGROUND_MS);
}

start();
