// DOM building without innerHTML (names and transcripts are never parsed as HTML), Korean labels and
// Seoul-time formatting shared by the views.

/** h("td", {class: "num"}, "3") -> <td class="num">3</td>; attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const TZ = "Asia/Seoul";
export const TZ_OFFSET = "+09:00"; // campaigns run on Seoul time; the API wants a zone on since/until

export const LABELS = {
  kind: { covid_notice: "코로나19 안내", welfare_check: "안심콜 (어르신 안부 확인)" },
  status: {
    draft: "준비 중",
    running: "진행 중",
    paused: "일시정지",
    cancelled: "취소됨",
    completed: "완료",
  },
  state: {
    scheduled: "예정",
    dialing: "거는 중",
    ringing: "신호 가는 중",
    answered: "통화 연결됨",
    human: "사람이 받음",
    voicemail: "음성사서함",
    carrier_message: "통신사 안내",
    screened: "통화 선별",
    busy: "통화 중",
    no_answer: "받지 않음",
    rejected: "수신 거부",
    hung_up_early: "받자마자 끊음",
    failed: "실패",
    completed: "완료",
    cancelled: "취소됨",
  },
  // The typed outcome of a call (outbound.schema.OUTCOMES; outbound/cli_text.py OUTCOME says the same).
  outcome: {
    human: "사람이 받음",
    answered: "통화 연결",
    voicemail: "음성사서함",
    carrier_message: "통신사 안내 (결번·전원 꺼짐)",
    screened: "통화 선별 (자동 응대)",
    no_answer: "받지 않음",
    busy: "통화 중",
    rejected: "수신 거부",
    hung_up_early: "받자마자 끊음",
    failed: "연결 실패",
  },
  // Why the answering-machine detector decided as it did (the attempt's amd.reason and amd.type_reason).
  amdReason: {
    after_greeting_silence: "짧은 인사 뒤 기다림",
    long_greeting: "긴 안내 음성",
    max_words: "말이 많음",
    phrase: "안내 문구 인식",
    beep: "삐 소리",
    dtmf: "번호 누름",
    initial_silence: "받은 뒤 말 없음",
    max_time: "판단 시간 초과",
    message_end: "안내가 끝남 (삐 소리 없음)",
    hangup: "안내 후 끊김",
    long_message: "안내가 길게 이어짐",
  },
  overall: {
    fine: "괜찮음",
    not_fine: "좋지 않음",
    concern: "우려",
    unclear: "불분명",
    no_input: "응답 없음",
    emergency: "응급",
  },
  // How the script ended (the attempt's call_outcome): outbound.script.Conversation.outcome.
  callOutcome: {
    completed: "끝까지 통화",
    transfer: "상담원 연결",
    emergency: "응급 (상담원 연결)",
    hangup: "통화 종료",
    no_response: "응답 없음",
    wrong_person: "본인 아님",
    caller_hangup: "중간에 끊음",
    in_progress: "진행 중",
  },
  // What kind of emergency was heard (the attempt's emergency).
  emergency: {
    medical: "응급: 의료",
    fire: "응급: 화재",
    gas: "응급: 가스",
    police: "응급: 범죄 위험",
    suicide: "응급: 자살 위험",
    general: "응급",
  },
  answer: {
    emergency: "응급",
    fine: "괜찮음",
    not_fine: "좋지 않음",
    concern: "우려",
    unclear: "불분명",
    no_input: "응답 없음",
    yes: "예",
    no: "아니요",
  },
  step: {
    meals: "식사",
    health: "건강",
    sleep: "수면",
    mood: "마음",
    needs: "도움 필요",
    identify: "본인 확인",
    result_notice: "결과 안내",
    appointment_notice: "예약 안내",
    greeting: "인사",
    goodbye: "마무리 인사",
    wrong_person: "본인 아님",
    follow_up_identify: "본인 확인 (지난번 내용 전)",
    follow_up: "지난번 우려 다시 여쭘",
    follow_up_wrong_person: "본인 아님",
    medication: "복약",
    going_out: "외출",
  },
  alertKind: {
    welfare_concern: "안부 우려",
    emergency: "긴급 상황",
    unreachable: "연락 안 됨",
    no_response: "연락은 되나 응답 없음",
  },
  severity: { critical: "긴급", warning: "주의", info: "안내" },
  trend: { worse: "나빠지고 있음", better: "좋아지고 있음", steady: "비슷함", new: "첫 확인" },
  role: { viewer: "조회 전용", operator: "운영자", admin: "관리자" },
  // 상담 지식 (knowledge.js): a version's state, an entry's category, what the bot did with a question.
  kbState: { draft: "초안", review: "검토 중", published: "게시 중", archived: "보관됨" },
  category: {
    covid: "코로나19",
    transport: "교통",
    water: "상수도",
    general: "일반 행정",
    directory: "전화 안내",
    foreign: "외국어",
  },
  action: { answer: "답변", clarify: "되묻기", escalate: "상담사 연결", menu: "메뉴", goodbye: "종료" },
  // The audit log's action codes (outbound.audit.ACTIONS) and what they were done to.
  auditAction: {
    "campaign.created": "캠페인 만듦",
    "campaign.changed": "캠페인 설정 바꿈",
    "campaign.started": "캠페인 시작",
    "campaign.paused": "캠페인 일시정지",
    "campaign.resumed": "캠페인 다시 시작",
    "campaign.cancelled": "캠페인 취소",
    "campaign.exported": "결과 CSV 내려받음",
    "campaign.transcripts.exported": "실명·녹취록 포함 CSV 내려받음",
    "contacts.imported": "대상자 명단 올림",
    "member.changed": "대상자 값 바꿈 (날짜, 장소, 메모)",
    "contact.history.viewed": "안부 확인 이력 열람",
    "attempts.transcripts.viewed": "통화 녹취록 열람",
    "alert.acknowledged": "알림 확인 처리",
    "do_not_call.added": "수신 거부 번호 추가",
    "memory.viewed": "안부 기억 열람",
    "memory.added": "안부 기억 추가",
    "memory.changed": "안부 기억 고침",
    "memory.deleted": "안부 기억 지움",
    "handoff.viewed": "상담원 연결 기록 열람",
    "chat.viewed": "채팅 상담 열람",
    "chat.taken": "채팅 상담 맡음",
    "callbacks.viewed": "콜백 예약 목록 열람 (전화번호)",
    "callback.closed": "콜백 예약 처리",
    "capacity.changed": "상담 인력 현황 바꿈",
    "token.created": "접속 토큰 만듦",
    "token.revoked": "접속 토큰 폐기",
    "audit.viewed": "감사 기록 열람",
    "kb.draft.created": "상담 지식 초안 만듦",
    "kb.entry.saved": "상담 지식 항목 저장",
    "kb.entry.deleted": "상담 지식 항목 지움",
    "kb.imported": "상담 지식 파일 가져옴",
    "kb.submitted": "상담 지식 검토 요청",
    "kb.reopened": "상담 지식 초안으로 되돌림",
    "kb.published": "상담 지식 게시",
    "kb.publish.blocked": "상담 지식 게시 막힘 (검사 실패)",
    "kb.rolled_back": "상담 지식 이전 버전으로 되돌림",
  },
  auditTarget: {
    campaign: "캠페인",
    contact: "대상자",
    attempts: "통화 목록",
    alert: "알림",
    do_not_call: "수신 거부 목록",
    memory: "안부 기억",
    handoff: "상담원 연결 기록",
    chat: "채팅",
    callback: "콜백 예약",
    capacity: "상담 인력 현황",
    token: "접속 토큰",
    audit: "감사 기록",
    kb_version: "상담 지식 버전",
  },
  rowCode: {
    invalid_phone: "전화번호 형식이 올바르지 않습니다",
    missing_name: "이름이 비어 있습니다",
    bad_name: "이름이 너무 깁니다",
    encoding: "글자를 읽을 수 없습니다 (파일 인코딩 확인)",
    too_many_fields: "칸 수가 머리글보다 많습니다",
    bad_preferred_times: "선호 시간을 읽지 못해 무시했습니다",
    notes_truncated: "메모가 너무 길어 일부만 저장했습니다",
    duplicate_merged: "같은 번호가 앞에 있어 하나로 합쳤습니다",
    do_not_call: "수신 거부 번호라 건너뛰었습니다",
  },
  transport: { sip: "전화", webrtc: "인터넷 전화" },
  // 콜백 예약 (outbound.callbacks.STATES)
  callbackState: {
    booked: "예약됨",
    dialing: "전화 거는 중",
    done: "처리 완료",
    missed: "시간 내 연결 못 함",
    cancelled: "취소됨",
  },
  // dialog's knowledge-base categories (outbound.inquiries.CATEGORY_KO)
  category: {
    covid: "코로나19",
    transport: "교통",
    water: "상수도",
    general: "일반 행정",
    directory: "전화 안내",
    foreign: "외국어",
    welfare: "복지",
    outbound: "발신 안내",
  },
  // Where the outbound calls go (GET /healthz "dialer").
  dialer: { sip: "전화 (SIP)", simulated: "모의 발신", none: "발신 안 함" },
  // A handed-over call's transfer (handoff record "transfer").
  transfer: { ok: "상담원에게 연결됨", not_configured: "연결할 상담원 번호 없음", caller_hangup: "연결 전에 시민이 끊음 (다시 전화 필요)" },
  callState: {
    starting: "연결 중",
    call_started: "통화 시작",
    dtmf: "버튼 입력",
    speech_start: "시민이 말하는 중",
    noise_ignored: "듣는 중",
    barge_in: "시민이 말을 끊음",
    speculative_stt: "듣는 중",
    utterance: "말씀 알아듣는 중",
    bot_reply: "상담봇 답변 중",
    tts_error: "음성 만들기 오류",
    no_input: "응답 기다리는 중",
    call_ended: "종료 중",
    ended: "종료",
  },
  reason: {
    agent_request: "상담원 연결 요청",
    low_confidence: "질문 이해 어려움",
    frustration: "불만 또는 반복 질문",
    requires_staff: "직원 확인 필요",
    emergency: "긴급 상황",
    foreign_language: "외국어 상담",
    system_error: "시스템 오류",
  },
};

export function label(group, value) {
  if (value === undefined || value === null || value === "") return "-";
  return (LABELS[group] && LABELS[group][value]) || String(value);
}

const dateTime = new Intl.DateTimeFormat("en-GB", {
  timeZone: TZ,
  month: "numeric",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const hourOnly = new Intl.DateTimeFormat("ko-KR", { timeZone: TZ, hour: "2-digit", hour12: false });
const dayOnly = new Intl.DateTimeFormat("ko-KR", { timeZone: TZ, month: "numeric", day: "numeric" });
const ymd = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });

/** "11월 23일 14:05" in Seoul time, or "-". */
export function when(iso) {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const part = Object.fromEntries(dateTime.formatToParts(d).map((p) => [p.type, p.value]));
  return `${part.month}월 ${part.day}일 ${part.hour}:${part.minute}`;
}

/** A number as staff write it: +821023456789 -> 010-2345-6789 (masked numbers come formatted). */
export function phone(value) {
  const text = String(value || "");
  if (!/^\+82\d{7,11}$/.test(text)) return text || "-";
  const national = `0${text.slice(3)}`;
  if (/^02/.test(national)) return national.replace(/^(02)(\d{3,4})(\d{4})$/, "$1-$2-$3");
  if (/^1[5-8]\d{2}/.test(text.slice(3))) return text.slice(3).replace(/^(\d{4})(\d{4})$/, "$1-$2");
  return national.replace(/^(0\d{2})(\d{3,4})(\d{4})$/, "$1-$2-$3");
}

export function hourLabel(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : hourOnly.format(d);
}

export function dayLabel(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dayOnly.format(d);
}

/** Today's date in Seoul as YYYY-MM-DD (what <input type=date> takes), `days` later when given. */
export function seoulDate(days = 0) {
  return ymd.format(new Date(Date.now() + days * 86_400_000));
}

/** The ISO instant of midnight in Seoul at the start of a YYYY-MM-DD day, `days` later when given. */
export function seoulMidnight(day, days = 0) {
  if (!day) return "";
  const base = new Date(`${day}T00:00:00${TZ_OFFSET}`);
  const next = new Date(base.getTime() + days * 86_400_000);
  return `${ymd.format(next)}T00:00:00${TZ_OFFSET}`;
}

export function percent(ratio, digits = 0) {
  if (ratio === undefined || ratio === null || Number.isNaN(ratio)) return "-";
  return `${(ratio * 100).toFixed(digits)}%`;
}

export function seconds(value) {
  if (value === undefined || value === null) return "-";
  const total = Math.round(value);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return m ? `${m}분 ${s}초` : `${s}초`;
}

export function elapsed(iso) {
  const start = new Date(iso).getTime();
  if (Number.isNaN(start)) return "-";
  return seconds(Math.max(0, (Date.now() - start) / 1000));
}

/** An alert's message as the server wrote it (in Korean, for staff). */
export function alertMessage(alert) {
  return alert.message || "";
}
