// The caller page: microphone -> WebRTC -> the voicebot's aiortc peer; the bot's voice back into <audio>.
// Keypad digits and transcript lines travel on one data channel as JSON. No external assets.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STATE_KO = {
    idle: "통화 대기 중입니다.",
    connecting: "연결하고 있습니다. 잠시만 기다려 주세요.",
    connected: "연결되었습니다. 상담봇이 안내해 드립니다.",
    speaking: "상담봇이 안내하고 있습니다.",
    waiting: "말씀해 주세요. 메뉴 번호를 누르셔도 됩니다.",
    listening: "말씀을 듣고 있습니다.",
    thinking: "답변을 준비하고 있습니다.",
    ended: "통화가 종료되었습니다.",
    busy: "지금은 통화량이 많아 연결할 수 없습니다.",
    error: "통화 중 문제가 생겼습니다.",
    callback_offer: "상담원 연결이 어렵습니다. 다시 전화를 받으시려면 1번을 눌러 주세요.",
    congestion_offer: "상담 대기 시간이 깁니다. 안내를 듣고 번호를 눌러 주세요.",
    callback_slots: "원하시는 시간대의 번호를 눌러 주세요.",
    callback_number: "다시 전화받으실 번호를 누르신 뒤 우물 정(#)을 눌러 주세요.",
    callback_booked: "콜백 예약이 접수되었습니다.",
  };
  const KEY_KO = { "*": "별표(*)", "#": "우물 정(#)" };
  const GATHER_TIMEOUT_MS = 3000;

  const ui = {
    status: $("status"),
    timer: $("timer"),
    level: $("bot-level"),
    call: $("call"),
    hangup: $("hangup"),
    keypad: $("keypad"),
    choicesBox: $("choices-box"),
    choices: $("choices"),
    choicesSay: $("choices-say"),
    transcript: $("transcript"),
    audio: $("bot-audio"),
  };

  let current = null; // the call in progress: { pc, channel, mic, ctx, timers }
  const record = { state: "idle", callId: null, lines: [], choices: [], maxLevel: 0, ended: null, error: null };
  // Phone numbers in the bot's answers become links (tel:): 02-2133-1234, 1588-1234, 120, 119, 112.
  const PHONE = /(\d{2,4}-\d{3,4}-\d{4}|\b1[0-9]{3}-\d{4}\b|\b1[12][029]\b)/g;

  function setState(state, text) {
    record.state = state;
    ui.status.dataset.state = state;
    ui.status.textContent = text || STATE_KO[state] || "";
  }

  function setInCall(active) {
    ui.call.disabled = active;
    ui.hangup.disabled = !active;
    for (const key of ui.keypad.querySelectorAll("button")) key.disabled = !active;
  }

  function addLine(speaker, text, extra = {}) {
    const item = document.createElement("li");
    item.className = speaker;
    if (extra.turn !== undefined) item.dataset.turn = String(extra.turn);
    if (extra.trigger) item.dataset.trigger = extra.trigger;
    if (speaker !== "system") {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = speaker === "bot" ? "상담봇" : "나";
      item.append(who);
    }
    const body = document.createElement("span");
    body.className = "text";
    if (speaker === "bot") appendLinked(body, text);
    else body.textContent = text;
    item.append(body);
    ui.transcript.append(item);
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
    record.lines.push({ speaker, text, ...extra });
  }

  function appendLinked(parent, text) {
    let last = 0;
    for (const match of text.matchAll(PHONE)) {
      parent.append(text.slice(last, match.index));
      const link = document.createElement("a");
      link.href = `tel:${match[0].replace(/-/g, "")}`;
      link.textContent = match[0];
      parent.append(link);
      last = match.index + match[0].length;
    }
    parent.append(text.slice(last));
  }

  // 보이는 ARS: the choices the bot's latest reply offers. A key choice is a button that presses its keypad
  // digit; words to say ("네", "아니요") are shown as what the caller may say.
  function showChoices(choices) {
    record.choices = choices;
    ui.choices.replaceChildren();
    const say = [];
    for (const choice of choices) {
      if (choice.kind === "key") {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "choice";
        button.dataset.digit = choice.value;
        button.textContent = choice.label;
        const key = document.createElement("span");
        key.className = "key";
        key.textContent = KEY_KO[choice.value] || `${choice.value}번`;
        button.append(key);
        ui.choices.append(button);
      } else if (choice.kind === "text") {
        say.push(`"${choice.value}"`);
      }
    }
    ui.choicesSay.textContent = say.length ? `${say.join(", ")}라고 말씀하셔도 됩니다.` : "";
    ui.choicesBox.hidden = choices.length === 0;
  }

  function keyText(digit) {
    return `${KEY_KO[digit] || digit + "번"} 버튼을 눌렀습니다.`;
  }

  function onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    switch (message.type) {
      case "transcript": {
        const text = message.speaker === "caller" && message.trigger === "dtmf" ? keyText(message.text) : message.text;
        addLine(message.speaker === "bot" ? "bot" : "caller", text, { turn: message.turn, trigger: message.trigger });
        if (message.speaker === "bot") showChoices(message.choices || []);
        break;
      }
      case "state": {
        // call-back slots and a booking are spelled out (보이는 ARS): "1번 오늘 오후 3시부터 4시 사이 · …"
        const slots = (message.slots || []).map((slot, i) => `${i + 1}번 ${slot}`).join(" · ");
        const booked = message.slot ? `콜백 예약이 접수되었습니다: ${message.slot}` : "";
        if (current) setState(message.state, booked || (slots && `${STATE_KO[message.state]} ${slots}`) || undefined);
        break;
      }
      case "barge_in": {
        const line = ui.transcript.querySelector(`li.bot[data-turn="${message.turn}"]`);
        if (line) line.classList.add("interrupted");
        break;
      }
      case "ended":
        record.ended = { reason: message.reason, message: message.message };
        addLine("system", message.message);
        finish("ended", message.message);
        break;
      case "error":
        addLine("system", message.message);
        break;
    }
  }

  function waitForCandidates(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (pc.iceGatheringState === "complete") {
          pc.removeEventListener("icegatheringstatechange", done);
          resolve();
        }
      };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, GATHER_TIMEOUT_MS); // the server takes whatever was gathered by then
    });
  }

  function watchLevel(stream) {
    // The stream plays through <audio> first: Chromium feeds Web Audio a remote stream only once it is attached.
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    ctx.createMediaStreamSource(stream).connect(analyser);
    ctx.resume().catch(() => {});
    const samples = new Float32Array(analyser.fftSize);
    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      record.maxLevel = Math.max(record.maxLevel, rms);
      ui.level.value = Math.min(1, rms * 4);
    }, 50);
    return { ctx, timer };
  }

  function startTimer() {
    const started = Date.now();
    return setInterval(() => {
      const s = Math.floor((Date.now() - started) / 1000);
      ui.timer.textContent = `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
    }, 500);
  }

  async function placeCall() {
    if (current) return;
    setInCall(true);
    ui.hangup.disabled = true;
    record.ended = null;
    record.error = null;
    setState("connecting");
    let mic;
    try {
      // Chromium's noise suppression smears Korean syllables enough to double Whisper's error rate
      // (measured with the Zeroth clips); echo cancellation stays on so the bot does not interrupt itself.
      mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: false, autoGainControl: true },
        video: false,
      });
    } catch (err) {
      record.error = String(err);
      setInCall(false);
      setState("error", "마이크를 사용할 수 없습니다. 브라우저에서 마이크 사용을 허용한 뒤 다시 걸어 주세요.");
      return;
    }
    const pc = new RTCPeerConnection({ iceServers: [] });
    const channel = pc.createDataChannel("control", { ordered: true });
    current = { pc, channel, mic, level: null, clock: null };
    for (const track of mic.getTracks()) pc.addTrack(track, mic);
    channel.onmessage = onMessage;
    pc.ontrack = (event) => {
      const stream = event.streams[0] || new MediaStream([event.track]);
      ui.audio.srcObject = stream;
      ui.audio.play().catch(() => {});
      if (current && !current.level) current.level = watchLevel(stream);
    };
    pc.onconnectionstatechange = () => {
      if (!current || current.pc !== pc) return;
      if (pc.connectionState === "connected") {
        setState("connected");
        ui.hangup.disabled = false;
        if (!current.clock) current.clock = startTimer();
      } else if (pc.connectionState === "failed") {
        finish("error", "연결이 끊어졌습니다. 네트워크를 확인한 뒤 다시 걸어 주세요.");
      }
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await waitForCandidates(pc);
      const response = await fetch("/api/webrtc/offer", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer" }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        const busy = response.status === 503;
        finish(busy ? "busy" : "error", body.message || STATE_KO[busy ? "busy" : "error"]);
        return;
      }
      record.callId = body.call_id;
      await pc.setRemoteDescription({ type: body.type, sdp: body.sdp });
    } catch (err) {
      record.error = String(err);
      finish("error", "연결하지 못했습니다. 잠시 후 다시 걸어 주세요.");
    }
  }

  function sendControl(message) {
    if (current && current.channel.readyState === "open") {
      current.channel.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function pressKey(digit) {
    sendControl({ type: "dtmf", digit }); // the server's transcript line confirms the press
  }

  function hangUp() {
    if (!current) return;
    sendControl({ type: "hangup" });
    finish("ended", "통화를 종료했습니다. 이용해 주셔서 감사합니다.");
  }

  function finish(state, text) {
    const call = current;
    current = null;
    if (call) {
      for (const track of call.mic.getTracks()) track.stop();
      if (call.level) {
        clearInterval(call.level.timer);
        call.level.ctx.close().catch(() => {});
      }
      if (call.clock) clearInterval(call.clock);
      // Give the last control message a moment to leave before the transport closes.
      setTimeout(() => call.pc.close(), 300);
    }
    ui.audio.srcObject = null;
    ui.level.value = 0;
    showChoices([]);
    setInCall(false);
    setState(state, text);
  }

  ui.call.addEventListener("click", placeCall);
  ui.hangup.addEventListener("click", hangUp);
  ui.choices.addEventListener("click", (event) => {
    const choice = event.target.closest("button[data-digit]");
    if (choice && current) pressKey(choice.dataset.digit);
  });
  ui.keypad.addEventListener("click", (event) => {
    const key = event.target.closest("button[data-digit]");
    if (key && !key.disabled) pressKey(key.dataset.digit);
  });
  document.addEventListener("keydown", (event) => {
    if (current && /^[0-9*#]$/.test(event.key) && !event.repeat) pressKey(event.key);
  });
  window.addEventListener("pagehide", hangUp);

  // Read-only view for automated checks (tests/browser/call.mjs) and for support staff debugging a call.
  window.voicebotCall = {
    snapshot: () => JSON.parse(JSON.stringify(record)),
    async stats() {
      if (!current) return null;
      const out = {};
      (await current.pc.getStats()).forEach((report) => {
        if (report.kind !== "audio") return;
        if (report.type === "inbound-rtp") {
          out.packetsReceived = report.packetsReceived;
          out.bytesReceived = report.bytesReceived;
          out.totalAudioEnergy = report.totalAudioEnergy;
        } else if (report.type === "outbound-rtp") {
          out.bytesSent = report.bytesSent;
        }
      });
      return out;
    },
  };
})();
