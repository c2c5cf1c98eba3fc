// The REST API of `voicebot serve` (/api/...): the token from the login screen travels as a Bearer
// header; errors come back as {"detail": "<Korean message>"} and are thrown as ApiError.
const TOKEN_KEY = "voicebot.console.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  user: null, // {name, role} from GET /api/me
};

const ROLES = ["viewer", "operator", "admin"];

/** Whether the signed-in user has at least `role`. */
export function allows(role) {
  if (!session.user) return false;
  return ROLES.indexOf(session.user.role) >= ROLES.indexOf(role);
}

let onUnauthorized = () => {};
/** Called once when any request answers 401 (token revoked or wrong): back to the login screen. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function detailOf(status, body) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    // FastAPI's own validation errors: field path and message
    return body.detail
      .map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`)
      .join("; ");
  }
  const plain = {
    401: "로그인이 필요합니다.",
    403: "이 작업을 할 권한이 없습니다.",
    404: "찾으시는 항목이 없습니다.",
    409: "지금 상태에서는 할 수 없는 작업입니다.",
    422: "입력한 내용을 확인해 주세요.",
  };
  return plain[status] || `서버 오류가 발생했습니다 (HTTP ${status}). 잠시 후 다시 시도해 주세요.`;
}

/** fetch() against the API; returns the parsed JSON (or the Response when raw). */
export async function request(path, { method = "GET", json, body, headers = {}, raw = false, token } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  const bearer = token ?? session.token;
  if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "서버에 연결할 수 없습니다. 네트워크 연결을 확인해 주세요.");
  }
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      /* not JSON */
    }
    const error = new ApiError(response.status, detailOf(response.status, parsed));
    error.body = parsed; // the whole answer: e.g. the publish gate's result, an import's row errors
    if (response.status === 401 && token === undefined) onUnauthorized(error);
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  me: (token) => request("/api/me", { token }),
  campaigns: () => request("/api/campaigns"),
  campaign: (id) => request(`/api/campaigns/${id}`),
  createCampaign: (body) => request("/api/campaigns", { method: "POST", json: body }),
  summary: (id) => request(`/api/campaigns/${id}/summary`),
  action: (id, verb) => request(`/api/campaigns/${id}/${verb}`, { method: "POST" }),
  importContacts: (id, bytes) =>
    request(`/api/campaigns/${id}/contacts`, {
      method: "POST",
      body: bytes,
      headers: { "Content-Type": "text/csv" },
    }),
  members: (id, params) => request(`/api/campaigns/${id}/members?${query(params)}`),
  updateMember: (id, contactId, body) =>
    request(`/api/campaigns/${id}/members/${contactId}`, { method: "PATCH", json: body }),
  attempts: (params) => request(`/api/attempts?${query(params)}`),
  history: (contactId) => request(`/api/contacts/${contactId}/history`),
  alerts: (params) => request(`/api/alerts?${query(params)}`),
  ack: (id, note) => request(`/api/alerts/${id}/ack`, { method: "POST", json: { note } }),
  outboundStats: (params) => request(`/api/stats/outbound?${query(params)}`),
  inboundStats: () => request("/api/stats/inbound"),
  trends: (days = 30) => request(`/api/trends?days=${days}`),
  trendsForecast: () => request("/api/trends/forecast"),
  trendsGaps: (days = 30) => request(`/api/trends/gaps?days=${days}`),
  liveCalls: () => request("/api/calls/live"),
  handoffs: (limit = 20) => request(`/api/handoffs?limit=${limit}`),
  exportCsv: (id, transcripts) =>
    request(`/api/campaigns/${id}/export.csv${transcripts ? "?transcripts=true" : ""}`, {
      raw: true,
      headers: { Accept: "text/csv" },
    }),
};

/** GET /healthz (no token needed): the server's checks and its dialer, whatever the status code. */
export async function health() {
  const response = await fetch("/healthz", { headers: { Accept: "application/json" } });
  return response.json();
}

/** URL query string from an object, leaving out empty values. */
export function query(params = {}) {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") out.set(key, String(value));
  }
  return out.toString();
}

/** Save a Response body as a file (the export needs the Bearer header, so no plain link works). */
export async function saveResponse(response, fallbackName) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/.exec(disposition);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = match ? match[1] : fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return link.download;
}
