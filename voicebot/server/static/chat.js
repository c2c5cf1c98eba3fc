// 120 다산콜센터 채팅 상담: the web chat page. Talks only to this server's /api/chat (no CDN, no other host).
// The conversation id stays in this browser (localStorage), so a reload or a server restart continues the
// same conversation. Messages are drawn with textContent only (never as HTML).
"use strict";

(() => {
  const MAX_CHARS = 2000;
  const STORE_ID = "voicebot.chat.id";
  const STORE_LARGE = "voicebot.chat.large";
  const POLL_MS = 2000;
  const STATUS = {
    starting: "상담을 준비하고 있습니다.",
    bot: "인공지능 상담봇과 대화 중입니다.",
    waiting: "상담사 연결을 기다리고 있습니다.",
    agent: "상담사와 대화 중입니다.",
    ended: "상담이 끝났습니다. 새 상담을 시작하실 수 있습니다.",
    error: "서버와 연결하지 못했습니다. 잠시 후 다시 시도해 주세요.",
  };
  const WHO = { bot: "상담봇", user: "나", agent: "상담사", system: "" };

  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const quick = $("quick");
  const status = $("status");
  const errorBox = $("error");
  const form = $("composer");
  const input = $("text");
  const send = $("send");
  const count = $("count");
  const largeText = $("large-text");

  let conversation = null;
  let lastSeq = 0;
  let busy = false;
  let pollTimer = null;

  function requestId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  async function api(method, path, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const error = new Error((data && data.message) || `요청을 처리하지 못했습니다 (${response.status}).`);
      error.status = response.status;
      error.code = data && data.error;
      throw error;
    }
    return data;
  }

  // --- drawing ------------------------------------------------------------------------------------------

  // Phone numbers with hyphens, and the short numbers 119, 112, 109 and 120 standing on their own
  // (not inside a name such as 로스트112).
  const PHONE = /(?<![\w가-힣-])(\d{2,4}-\d{3,4}-\d{4}|\d{4}-\d{4}|119|112|109|120)(?![\w-])/g;

  function appendText(parent, text, linkNumbers) {
    if (!linkNumbers) {
      parent.textContent = text;
      return;
    }
    let last = 0;
    for (const match of text.matchAll(PHONE)) {
      parent.append(text.slice(last, match.index));
      const link = document.createElement("a");
      link.className = "tel";
      link.href = `tel:${match[0].replace(/-/g, "")}`;
      link.textContent = match[0];
      parent.append(link);
      last = match.index + match[0].length;
    }
    parent.append(text.slice(last));
  }

  function drawMessage(message) {
    if (message.seq <= lastSeq) return;
    lastSeq = message.seq;
    const item = document.createElement("li");
    item.className = `msg-${message.role}`;
    item.dataset.seq = String(message.seq);
    item.dataset.role = message.role;
    if (WHO[message.role]) {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = WHO[message.role];
      item.append(who);
    }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    appendText(bubble, message.text, message.role !== "user");
    item.append(bubble);
    if (message.emergency) {
      item.classList.add("emergency");
      item.setAttribute("role", "alert");
      const calls = document.createElement("div");
      calls.className = "emergency-calls";
      for (const [number, label] of [["119", "119 화재·구급 전화"], ["112", "112 경찰 전화"]]) {
        const link = document.createElement("a");
        link.href = `tel:${number}`;
        link.textContent = label;
        calls.append(link);
      }
      bubble.append(calls);
    }
    log.append(item);
    item.scrollIntoView({ block: "end" });
  }

  function drawQuickReplies(replies) {
    quick.replaceChildren();
    for (const reply of replies || []) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = reply.label;
      button.dataset.id = reply.id;
      button.addEventListener("click", () => press(reply.id));
      quick.append(button);
    }
  }

  function showState(state) {
    status.dataset.state = state;
    status.textContent = STATUS[state] || STATUS.bot;
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  function apply(data) {
    conversation = data.conversation;
    localStorage.setItem(STORE_ID, conversation.id);
    for (const message of data.messages) drawMessage(message);
    drawQuickReplies(conversation.quick_replies);
    showState(conversation.state);
    schedulePoll();
  }

  function setBusy(value) {
    busy = value;
    send.disabled = value;
    for (const button of quick.querySelectorAll("button")) button.disabled = value;
  }

  // --- actions ------------------------------------------------------------------------------------------

  async function start(fresh) {
    showError("");
    const saved = fresh ? null : localStorage.getItem(STORE_ID);
    if (saved) {
      try {
        lastSeq = 0;
        log.replaceChildren();
        apply(await api("GET", `/api/chat/${encodeURIComponent(saved)}`));
        return;
      } catch (error) {
        if (error.status !== 404) {
          showState("error");
          showError(error.message);
          return;
        }
        localStorage.removeItem(STORE_ID);
      }
    }
    try {
      lastSeq = 0;
      log.replaceChildren();
      apply(await api("POST", "/api/chat/start"));
    } catch (error) {
      showState("error");
      showError(error.message);
    }
  }

  async function sendText(text) {
    if (busy || !conversation) return;
    setBusy(true);
    showError("");
    try {
      apply(await api("POST", `/api/chat/${conversation.id}/messages`, { text, request_id: requestId() }));
      input.value = "";
      updateCount();
    } catch (error) {
      showError(error.message);
      if (error.status === 404) localStorage.removeItem(STORE_ID);
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  async function press(id) {
    if (busy || !conversation) return;
    setBusy(true);
    showError("");
    try {
      apply(await api("POST", `/api/chat/${conversation.id}/quick-replies`, { id, request_id: requestId() }));
    } catch (error) {
      showError(error.message);
      if (error.status === 409) await refresh();
    } finally {
      setBusy(false);
    }
  }

  async function refresh() {
    if (!conversation) return;
    try {
      apply(await api("GET", `/api/chat/${conversation.id}?after=${lastSeq}`));
    } catch (error) {
      if (error.status === 404) showError(error.message);
    }
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    // A person may answer at any time while the chat waits for or has an agent.
    if (conversation && (conversation.state === "waiting" || conversation.state === "agent")) {
      pollTimer = setTimeout(refresh, POLL_MS);
    }
  }

  function updateCount() {
    const length = input.value.length;
    count.textContent = `${length.toLocaleString("ko-KR")} / ${MAX_CHARS.toLocaleString("ko-KR")}자`;
    count.classList.toggle("over", length > MAX_CHARS);
  }

  function setLarge(on) {
    document.documentElement.classList.toggle("large", on);
    largeText.setAttribute("aria-pressed", on ? "true" : "false");
    localStorage.setItem(STORE_LARGE, on ? "1" : "0");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      showError("메시지를 입력해 주세요.");
      return;
    }
    if (text.length > MAX_CHARS) {
      showError(`메시지는 ${MAX_CHARS.toLocaleString("ko-KR")}자까지 보낼 수 있습니다.`);
      return;
    }
    sendText(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", updateCount);
  largeText.addEventListener("click", () => setLarge(largeText.getAttribute("aria-pressed") !== "true"));
  $("new-chat").addEventListener("click", () => start(true));

  setLarge(localStorage.getItem(STORE_LARGE) === "1");
  updateCount();
  start(false);
})();
