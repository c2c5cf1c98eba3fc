// 채팅 상담 tab: web chats and KakaoTalk chats the bot handed to an agent (issue 18). The queue (waiting
// first, emergencies marked), "맡기" to take one (one operator only: the server refuses the second),
// then the whole conversation, replies, "상담봇에게 돌려주기" and "상담 종료". Refreshed every 2 seconds.
import { allows, request, session } from "./api.js";
import { LABELS, elapsed, fill, h, label, when } from "./format.js";
import { confirmAction, errorBox, notify, showError } from "./ui.js";

// The text channels' names, for this tab and for the handoff records under 실시간 통화.
LABELS.transport.chat ??= "웹 채팅";
LABELS.transport.kakao ??= "카카오톡";
const CHANNEL = { web: "웹 채팅", kakao: "카카오톡" };
const STATE = { waiting: "상담사 대기 중", agent: "상담 중", bot: "상담봇으로 돌아감", ended: "종료됨" };
const WHO = { user: "시민", bot: "상담봇", agent: "상담사", system: "안내" };

const chatApi = {
  queue: () => request("/api/chats/queue"),
  one: (id, after = 0) => request(`/api/chats/${id}?after=${after}`),
  take: (id) => request(`/api/chats/${id}/take`, { method: "POST" }),
  reply: (id, text) => request(`/api/chats/${id}/reply`, { method: "POST", json: { text } }),
  handBack: (id) => request(`/api/chats/${id}/hand-back`, { method: "POST" }),
  close: (id) => request(`/api/chats/${id}/close`, { method: "POST" }),
};

export function createChatsView(panel, ctx) {
  let lastQueue = "";
  let openId = null;
  let openSeq = 0;
  let openState = null;
  const error = errorBox("chats-error");
  const count = h("p", { id: "chats-count", class: "muted", role: "status" });
  const queue = h("ul", { class: "chat-queue", id: "chat-queue", "aria-label": "상담사 연결을 기다리는 채팅" });
  const title = h("h3", { id: "chat-open-title" }, "선택한 채팅");
  const meta = h("p", { class: "muted", id: "chat-open-meta" });
  const transcript = h("ol", { class: "transcript chat-transcript", id: "chat-transcript", "aria-label": "채팅 내용", "aria-live": "polite" });
  const input = h("textarea", { id: "chat-reply", rows: "3", maxlength: "2000", "aria-label": "시민에게 보낼 답변" });
  const actionError = errorBox("chat-action-error");
  const send = h("button", { type: "submit", class: "primary", id: "chat-send" }, "답변 보내기");
  const handBack = h("button", { type: "button", id: "chat-hand-back", onclick: onHandBack }, "상담봇에게 돌려주기");
  const close = h("button", { type: "button", class: "danger", id: "chat-close", onclick: onClose }, "상담 종료");
  const form = h("form", { class: "chat-reply", onsubmit: onSend }, input, h("div", { class: "actions" }, send, handBack, close));
  const detail = h("section", { class: "card chat-open", id: "chat-open", hidden: true, "aria-labelledby": "chat-open-title" }, title, meta, transcript, actionError, form);

  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "채팅 상담")),
    h(
      "p",
      { class: "lead" },
      "웹 채팅과 카카오톡에서 상담봇이 상담사에게 넘긴 대화입니다. 맡기를 누르면 그 대화는 나에게만 배정되고, 시민에게 \"상담사가 연결되었습니다\"가 보입니다.",
    ),
    allows("operator")
      ? [error, count, queue, detail]
      : h("p", { class: "empty" }, "채팅 상담은 운영자 이상 권한으로 볼 수 있습니다."),
  );

  function mine(chat) {
    return chat.state === "agent" && chat.agent_name === session.user?.name;
  }

  function queueCard(chat) {
    const waiting = chat.state === "waiting";
    return h(
      "li",
      { class: `chat-card${chat.emergency ? " emergency" : ""}`, dataset: { chatId: chat.id, state: chat.state, channel: chat.channel } },
      h(
        "div",
        { class: "live-head" },
        h("strong", {}, CHANNEL[chat.channel] || chat.channel),
        h("span", { class: `badge ${chat.emergency ? "bad" : waiting ? "warn" : "good"} chat-state` }, STATE[chat.state] || chat.state),
        h("span", { class: "badge neutral" }, label("reason", chat.handoff_reason)),
        h("span", { class: "muted since" }, waiting && chat.waiting_since ? `${when(chat.waiting_since)}부터 · ${elapsed(chat.waiting_since)} 대기` : ""),
      ),
      chat.summary ? h("p", { class: "handoff-summary" }, chat.summary) : null,
      chat.state === "agent" ? h("p", { class: "muted chat-agent" }, `담당: ${chat.agent_name || "-"}`) : null,
      h(
        "div",
        { class: "actions" },
        waiting ? h("button", { type: "button", class: "primary chat-take", onclick: (e) => onTake(chat, e.currentTarget) }, "맡기") : null,
        mine(chat) ? h("button", { type: "button", class: "chat-open-button", onclick: () => open(chat.id) }, "열기") : null,
      ),
    );
  }

  function line(message) {
    return h(
      "li",
      { class: message.role === "user" ? "caller" : message.role === "agent" ? "agent" : message.role === "system" ? "system" : "bot", dataset: { seq: message.seq, role: message.role } },
      h("span", { class: "who" }, WHO[message.role] || message.role),
      h("span", { class: "text" }, message.text),
    );
  }

  async function onTake(chat, button) {
    button.disabled = true;
    showError(error, null);
    try {
      await chatApi.take(chat.id);
      notify("채팅을 맡았습니다. 시민에게 상담사 연결을 알렸습니다.");
      await open(chat.id);
    } catch (err) {
      showError(error, err);
      button.disabled = false;
    }
    await refreshQueue(true);
  }

  async function open(id) {
    openId = id;
    openSeq = 0;
    transcript.replaceChildren();
    detail.hidden = false;
    await refreshOpen();
    input.focus();
  }

  async function refreshOpen() {
    if (!openId) return;
    const data = await chatApi.one(openId, openSeq);
    const conversation = data.conversation;
    openState = conversation.state;
    title.textContent = `${CHANNEL[conversation.channel] || conversation.channel} 대화`;
    meta.textContent = `${STATE[conversation.state] || conversation.state} · 담당 ${conversation.agent_name || "-"} · 연결 기록 ${conversation.handoff_id || "-"}`;
    for (const message of data.messages) {
      if (message.seq <= openSeq) continue;
      transcript.append(line(message));
      openSeq = message.seq;
    }
    transcript.scrollTop = transcript.scrollHeight;
    const active = conversation.state === "agent";
    for (const el of [input, send, handBack, close]) el.disabled = !active;
  }

  async function onSend(event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      showError(actionError, { message: "보낼 답변을 입력해 주세요." });
      return;
    }
    send.disabled = true;
    showError(actionError, null);
    try {
      await chatApi.reply(openId, text);
      input.value = "";
      await refreshOpen();
    } catch (err) {
      showError(actionError, err);
    } finally {
      send.disabled = openState !== "agent";
    }
  }

  async function onHandBack() {
    try {
      await chatApi.handBack(openId);
      notify("상담봇에게 돌려주었습니다. 시민에게 처음 메뉴가 보입니다.");
      await refreshOpen();
      await refreshQueue(true);
    } catch (err) {
      showError(actionError, err);
    }
  }

  async function onClose() {
    if (!(await confirmAction("상담 종료", "이 채팅 상담을 종료할까요? 시민에게 상담 종료 안내가 보입니다.", "종료"))) return;
    try {
      await chatApi.close(openId);
      notify("채팅 상담을 종료했습니다.");
      await refreshOpen();
      await refreshQueue(true);
    } catch (err) {
      showError(actionError, err);
    }
  }

  async function refreshQueue(force) {
    const chats = await chatApi.queue();
    const waiting = chats.filter((c) => c.state === "waiting").length;
    ctx.setChatCount?.(waiting);
    count.textContent = chats.length
      ? `상담사 대기 ${waiting}건 · 상담 중 ${chats.length - waiting}건`
      : "지금 상담사를 기다리는 채팅이 없습니다.";
    const json = JSON.stringify(chats);
    if (!force && json === lastQueue) return;
    lastQueue = json;
    fill(queue, chats.length ? chats.map(queueCard) : h("li", { class: "empty" }, "대기 중인 채팅이 없습니다."));
  }

  return {
    interval: 2000,
    onShow() {},
    async refresh(force) {
      if (!allows("operator")) return;
      try {
        await Promise.all([refreshQueue(force), refreshOpen()]);
        showError(error, null);
      } catch (err) {
        showError(error, err);
      }
    },
  };
}
