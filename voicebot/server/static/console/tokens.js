// 접속 토큰 tab (admins): who holds a console/API token, its role, when it was last used and when it
// expires (issue 17). The tokens themselves are never shown again; they are made with
// `voicebot token create` (or POST /api/tokens) and shown once there.
import { allows, request } from "./api.js";
import { fill, h, label, when } from "./format.js";
import { badge, errorBox, showError, table } from "./ui.js";

const SOON_DAYS = 14; // an expiry this close is pointed out
const DAY_MS = 86_400_000;
const ymd = new Intl.DateTimeFormat("ko-KR", { timeZone: "Asia/Seoul", year: "numeric", month: "long", day: "numeric" });

function expiry(token) {
  if (!token.expires_at) return "없음";
  return ymd.format(new Date(token.expires_at));
}

function state(token) {
  if (token.revoked) return badge("폐기됨", "bad");
  if (token.expired) return badge("만료됨", "bad");
  if (token.expires_at) {
    const days = Math.ceil((new Date(token.expires_at).getTime() - Date.now()) / DAY_MS);
    if (days <= SOON_DAYS) return badge(`${days}일 후 만료`, "warn");
  }
  return badge("사용 중", "good");
}

export function createTokensView(panel) {
  const error = errorBox("tokens-error");
  const list = h("div", { id: "token-list" });
  let lastJson = "";
  fill(
    panel,
    h("div", { class: "toolbar" }, h("h2", {}, "토큰 관리")),
    h(
      "p",
      { class: "lead" },
      "직원들이 쓰는 접속 토큰입니다. 토큰 문자열은 만들 때 한 번만 보이며 여기에는 나오지 않습니다. ",
      "새 토큰은 서버에서 만들어 주세요 (예: voicebot token create --name 홍길동 --role operator --expires-days 90).",
    ),
    allows("admin") ? [error, list] : h("p", { class: "empty" }, "접속 토큰은 관리자만 볼 수 있습니다."),
  );

  return {
    interval: 30_000,
    onShow() {},
    async refresh(force) {
      if (!allows("admin")) return;
      let tokens;
      try {
        tokens = await request("/api/tokens");
      } catch (err) {
        showError(error, err);
        return;
      }
      showError(error, null);
      const json = JSON.stringify(tokens);
      if (!force && json === lastJson) return;
      lastJson = json;
      list.replaceChildren(
        table(
          "토큰 목록",
          ["번호", "이름", "권한", "만든 때", "마지막 사용", "만료일", "상태"],
          tokens.map((t) =>
            h(
              "tr",
              { dataset: { tokenId: String(t.id), expired: String(Boolean(t.expired)) } },
              [t.id, t.name, label("role", t.role), when(t.created_at), when(t.last_used_at), expiry(t), state(t)].map(
                (c) => h("td", {}, c),
              ),
            ),
          ),
          { empty: "아직 만든 토큰이 없습니다." },
        ),
      );
    },
  };
}
