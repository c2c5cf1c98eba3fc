// 음성 녹음 tab (admin, issue 20): every sentence the bot can say with its state (녹음됨 / 합성 음성 /
// 문구 바뀜), coverage per flow, and the studio: record in the browser (MediaRecorder), listen back, save
// (the server trims the silence, levels the sound and checks the words with Whisper: a mismatch warns),
// or upload a WAV; voice pack export and import.
import { allows, request, saveResponse } from "./api.js";
import { fill, h, percent } from "./format.js";
import { badge, busy, errorBox, notify, showError, table } from "./ui.js";

const STATE = { recorded: ["녹음됨", "good"], synthesized: ["합성 음성", "neutral"], stale: ["문구 바뀜", "warn"] };
const KIND = { sentence: "문장", piece: "고정 구절", unit: "단위" };
const FLOW = (flow) =>
  flow === "inbound" ? "시민 문의 (인바운드)" : flow === "units" ? "숫자·날짜 단위" : flow.replace(/^script:/, "발신 스크립트 ");
const PAGE = 60;

const promptApi = {
  list: () => request("/api/prompts"),
  save: (id, wav, { trim, normalize, origin }) =>
    request(`/api/prompts/recording?${new URLSearchParams({ id, trim, normalize, origin })}`, {
      method: "POST",
      body: wav,
      headers: { "Content-Type": "audio/wav" },
    }),
  audio: (key, version) =>
    request(`/api/prompts/audio/${key}${version ? `?version=${version}` : ""}`, { raw: true, headers: { Accept: "audio/wav" } }),
  exportPack: () => request("/api/prompts/export", { raw: true, headers: { Accept: "application/zip" } }),
  importPack: (bytes) => request("/api/prompts/import", { method: "POST", body: bytes, headers: { "Content-Type": "application/zip" } }),
};

/** 16-bit mono WAV of an AudioBuffer (what the server stores; MediaRecorder gives WebM/Opus). */
export function wavFromBuffer(buffer) {
  const rate = buffer.sampleRate;
  const length = buffer.length;
  const mono = new Float32Array(length);
  for (let c = 0; c < buffer.numberOfChannels; c += 1) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < length; i += 1) mono[i] += data[i] / buffer.numberOfChannels;
  }
  const out = new DataView(new ArrayBuffer(44 + length * 2));
  const text = (at, s) => [...s].forEach((ch, i) => out.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  out.setUint32(4, 36 + length * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  out.setUint32(16, 16, true);
  out.setUint16(20, 1, true);
  out.setUint16(22, 1, true);
  out.setUint32(24, rate, true);
  out.setUint32(28, rate * 2, true);
  out.setUint16(32, 2, true);
  out.setUint16(34, 16, true);
  text(36, "data");
  out.setUint32(40, length * 2, true);
  for (let i = 0; i < length; i += 1) {
    const s = Math.max(-1, Math.min(1, mono[i]));
    out.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([out.buffer], { type: "audio/wav" });
}

export function createPromptsView(panel) {
  let data = null;
  let lastJson = "";
  let shown = PAGE;
  let chosen = null; // the entry in the studio card
  let recorder = null;
  let take = null; // {blob (WAV), url}
  const error = errorBox("prompts-error");
  const coverage = h("div", { id: "prompt-coverage" });
  const search = h("input", { type: "search", id: "prompt-search", placeholder: "문구 검색", "aria-label": "문구 검색" });
  const stateFilter = h(
    "select",
    { id: "prompt-state", "aria-label": "상태" },
    h("option", { value: "" }, "모든 상태"),
    Object.entries(STATE).map(([value, [text]]) => h("option", { value }, text)),
  );
  const flowFilter = h("select", { id: "prompt-flow", "aria-label": "흐름" }, h("option", { value: "" }, "모든 흐름"));
  const list = h("div", { id: "prompt-list" });
  const more = h("button", { type: "button", id: "prompt-more", hidden: true, onclick: () => ((shown += PAGE), render()) }, "더 보기");

  // the studio card
  const studioTitle = h("h3", { id: "studio-title" }, "녹음하기");
  const studioText = h("p", { class: "studio-text", id: "studio-text" });
  const studioWhere = h("p", { class: "muted", id: "studio-where" });
  const recordButton = h("button", { type: "button", class: "primary", id: "studio-record", onclick: toggleRecording }, "녹음 시작");
  const listen = h("audio", { id: "studio-take", controls: true, hidden: true });
  const trim = h("input", { type: "checkbox", id: "studio-trim", checked: true });
  const level = h("input", { type: "checkbox", id: "studio-normalize", checked: true });
  const save = h("button", { type: "button", class: "primary", id: "studio-save", disabled: true, onclick: () => saveTake("studio") }, "저장");
  const upload = h("input", { type: "file", id: "studio-upload", accept: ".wav,audio/wav,audio/x-wav", onchange: onUpload });
  const result = h("div", { id: "studio-result", role: "status", "aria-live": "polite" });
  const saved = h("audio", { id: "studio-saved", controls: true, hidden: true });
  const studioError = errorBox("studio-error");
  const studio = h(
    "section",
    { class: "card studio", id: "studio", hidden: true, "aria-labelledby": "studio-title" },
    studioTitle,
    studioText,
    studioWhere,
    h("div", { class: "actions" }, recordButton, save, h("button", { type: "button", onclick: closeStudio }, "닫기")),
    listen,
    h(
      "div",
      { class: "actions" },
      h("label", { class: "check" }, trim, "앞뒤 무음 자르기"),
      h("label", { class: "check" }, level, "음량 맞추기"),
    ),
    h("div", { class: "field" }, h("label", { for: "studio-upload" }, "또는 WAV 파일 올리기"), upload),
    studioError,
    result,
    saved,
  );

  const packInput = h("input", { type: "file", id: "pack-upload", accept: ".zip,application/zip", onchange: onImport });
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "음성 녹음")),
    allows("admin")
      ? [
          h(
            "p",
            { class: "lead" },
            "상담봇이 말하는 모든 문장입니다. 녹음한 문장은 바로 모든 통화에서 합성 음성 대신 재생됩니다. 숫자·날짜·시각은 녹음한 단위를 이어서 말합니다.",
          ),
          error,
          h("section", { "aria-labelledby": "coverage-title" }, h("h3", { id: "coverage-title" }, "녹음 비율"), coverage),
          studio,
          h("div", { class: "toolbar" }, search, stateFilter, flowFilter),
          list,
          more,
          h(
            "section",
            { class: "card", "aria-labelledby": "pack-title" },
            h("h3", { id: "pack-title" }, "음성 팩"),
            h("p", { class: "muted" }, "녹음 전체를 zip 파일로 내보내거나, 다른 기관의 음성 팩을 가져옵니다."),
            h(
              "div",
              { class: "actions" },
              h("button", { type: "button", id: "pack-export", onclick: onExport }, "내보내기"),
              h("label", { for: "pack-upload" }, "가져오기"),
              packInput,
            ),
          ),
        ]
      : h("p", { class: "empty" }, "음성 녹음은 관리자 권한으로 볼 수 있습니다."),
  );
  for (const input of [search, stateFilter, flowFilter]) input.addEventListener("input", () => ((shown = PAGE), render()));

  function entryRow(entry) {
    const [text, tone] = STATE[entry.state] || [entry.state, "neutral"];
    return h(
      "tr",
      { dataset: { promptId: entry.id, state: entry.state } },
      h("td", {}, h("span", { class: "prompt-text" }, entry.text), h("div", { class: "muted" }, entry.where.slice(0, 2).join(" · "))),
      h("td", {}, KIND[entry.kind] || entry.kind),
      h("td", { class: "num" }, entry.heard ? `${entry.heard}통화` : "-"),
      h("td", {}, badge(text, tone)),
      h(
        "td",
        {},
        h("button", { type: "button", class: "prompt-record", onclick: () => openStudio(entry) }, "녹음"),
        entry.recording ? h("button", { type: "button", class: "prompt-play", onclick: () => play(entry.recording.key) }, "듣기") : null,
        entry.stale_recording
          ? h("button", { type: "button", class: "prompt-play-old", title: `녹음 당시 문구: ${entry.stale_recording.text}`, onclick: () => play(entry.stale_recording.key) }, "이전 녹음")
          : null,
      ),
    );
  }

  function render() {
    if (!data) return;
    const words = search.value.trim();
    const rows = data.entries.filter(
      (e) =>
        (!stateFilter.value || e.state === stateFilter.value) &&
        (!flowFilter.value || e.flows.includes(flowFilter.value)) &&
        (!words || e.text.includes(words)),
    );
    fill(list, table(`문구 ${rows.length}개`, ["문구", "종류", "최근 30일", "상태", ""], rows.slice(0, shown).map(entryRow), { empty: "해당하는 문구가 없습니다." }));
    more.hidden = rows.length <= shown;
  }

  function renderCoverage() {
    fill(
      coverage,
      table(
        "흐름별 녹음 비율",
        ["흐름", "문구", "녹음", "말하는 시간 중 녹음", "최근 30일 통화 기준"],
        data.coverage.map((row) => [
          FLOW(row.flow),
          String(row.prompts),
          String(row.recorded),
          percent(row.share, 1),
          row.heard_share === null ? "-" : percent(row.heard_share, 1),
        ]),
      ),
    );
    const flows = data.coverage.map((row) => row.flow);
    if (flowFilter.options.length !== flows.length + 1) {
      const value = flowFilter.value;
      fill(flowFilter, h("option", { value: "" }, "모든 흐름"), flows.map((f) => h("option", { value: f }, FLOW(f))));
      flowFilter.value = value;
    }
  }

  async function load(force) {
    const fresh = await promptApi.list();
    const json = JSON.stringify(fresh);
    if (!force && json === lastJson) return;
    lastJson = json;
    data = fresh;
    renderCoverage();
    render();
  }

  async function play(key, version) {
    const response = await promptApi.audio(key, version);
    const url = URL.createObjectURL(await response.blob());
    saved.src = url;
    saved.hidden = false;
    await saved.play().catch(() => {});
  }

  function openStudio(entry) {
    chosen = entry;
    studio.hidden = false;
    studioText.textContent = entry.text;
    studioWhere.textContent = entry.where.join(" · ");
    fill(result);
    showError(studioError, null);
    discardTake();
    saved.hidden = true;
    recordButton.textContent = "녹음 시작";
    studio.scrollIntoView({ block: "nearest" });
    recordButton.focus();
  }

  function closeStudio() {
    if (recorder && recorder.state === "recording") recorder.stop();
    studio.hidden = true;
    chosen = null;
    discardTake();
  }

  function discardTake() {
    if (take) URL.revokeObjectURL(take.url);
    take = null;
    listen.hidden = true;
    save.disabled = true;
  }

  async function toggleRecording() {
    if (recorder && recorder.state === "recording") {
      recorder.stop();
      return;
    }
    showError(studioError, null);
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (err) {
      showError(studioError, new Error(`마이크를 사용할 수 없습니다: ${err.message}`));
      return;
    }
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.addEventListener("dataavailable", (event) => event.data.size && chunks.push(event.data));
    recorder.addEventListener("stop", async () => {
      stream.getTracks().forEach((t) => t.stop());
      recordButton.textContent = "다시 녹음";
      recordButton.dataset.recording = "false";
      try {
        const encoded = await new Blob(chunks, { type: recorder.mimeType }).arrayBuffer();
        const context = new AudioContext();
        const buffer = await context.decodeAudioData(encoded);
        await context.close();
        discardTake();
        const blob = wavFromBuffer(buffer);
        take = { blob, url: URL.createObjectURL(blob) };
        listen.src = take.url;
        listen.hidden = false;
        save.disabled = false;
        fill(result, h("p", { class: "muted", id: "studio-take-length" }, `녹음 ${buffer.duration.toFixed(1)}초: 들어 보시고 저장하세요.`));
      } catch (err) {
        showError(studioError, new Error(`녹음을 읽을 수 없습니다: ${err.message}`));
      }
    });
    recorder.start();
    recordButton.textContent = "녹음 중지";
    recordButton.dataset.recording = "true";
  }

  async function saveTake(origin, blob = take?.blob) {
    if (!chosen || !blob) return;
    const entry = chosen;
    fill(result, h("p", { class: "muted" }, "저장하고 음성 인식으로 확인하는 중입니다…"));
    const answer = await busy(save, () => promptApi.save(entry.id, blob, { trim: trim.checked, normalize: level.checked, origin }), studioError);
    if (!answer) {
      fill(result);
      return;
    }
    const { version, in_use: inUse } = answer;
    const key = answer.recording.key;
    const use = h("button", { type: "button", id: "studio-use", onclick: (e) => useVersion(e.currentTarget, key, version) }, "이 녹음 사용");
    fill(
      result,
      h(
        "p",
        { id: "studio-saved-note" },
        inUse ? `저장했습니다 (버전 ${version}). 이제 모든 통화에서 이 녹음이 재생됩니다.` : `저장했습니다 (버전 ${version}). 통화에는 아직 쓰이지 않습니다.`,
      ),
      answer.transcript !== null ? h("p", {}, "인식된 내용: ", h("q", { id: "studio-transcript" }, answer.transcript)) : null,
      answer.cer !== null ? h("p", { id: "studio-cer", dataset: { cer: answer.cer } }, `문자 오류율(CER): ${percent(answer.cer, 1)}`) : null,
      answer.warning ? h("p", { class: "error", role: "alert", id: "studio-warning" }, answer.warning) : h("p", { class: "ok", id: "studio-ok" }, "문구와 일치합니다."),
      inUse ? null : h("div", { class: "actions" }, use),
    );
    notify(answer.warning ? "저장했지만 녹음 내용을 확인해 주세요." : "녹음을 저장했습니다.", answer.warning ? "error" : "ok");
    await play(key, version);
    await load(true);
  }

  async function useVersion(button, key, version) {
    const answer = await busy(button, () => request(`/api/prompts/current?${new URLSearchParams({ key, version })}`, { method: "POST" }), studioError);
    if (!answer) return;
    button.remove();
    fill(result, h("p", { id: "studio-saved-note" }, `버전 ${version}을(를) 통화에 사용합니다.`));
    notify("녹음을 통화에 사용합니다.");
    await load(true);
  }

  async function onUpload() {
    const file = upload.files[0];
    if (!file) return;
    await saveTake("upload", file);
    upload.value = "";
  }

  async function onExport(event) {
    await busy(event.currentTarget, async () => saveResponse(await promptApi.exportPack(), "voicepack.zip"));
  }

  async function onImport() {
    const file = packInput.files[0];
    if (!file) return;
    const answer = await busy(null, () => promptApi.importPack(file));
    packInput.value = "";
    if (answer) {
      notify(`음성 팩에서 녹음 ${answer.added}개를 가져왔습니다.`);
      await load(true);
    }
  }

  return {
    interval: 15_000,
    onShow() {},
    async refresh(force) {
      if (!allows("admin")) return;
      try {
        await load(force);
        showError(error, null);
      } catch (err) {
        showError(error, err);
      }
    },
  };
}
