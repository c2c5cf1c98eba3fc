"""Human-readable Korean text for the outbound CLI (``campaign list``, ``campaign results``, ``alerts``, the
worker's waiting line) when ``--json`` is not given. Input is the same dicts the JSON output prints, so
both forms always say the same thing; times are shown in Asia/Seoul.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from outbound.scheduler import SEOUL, local_text

KIND = {"covid_notice": "코로나19 안내", "welfare_check": "안심콜"}
STATUS = {
    "draft": "준비 중",
    "running": "진행 중",
    "paused": "일시정지",
    "cancelled": "취소됨",
    "completed": "완료",
}
STATE = {
    "scheduled": "예정",
    "dialing": "거는 중",
    "ringing": "신호 가는 중",
    "answered": "통화 연결됨",
    "completed": "완료",
    "cancelled": "취소됨",
}
# The typed outcomes of outbound.schema.OUTCOMES, as the console shows them (format.js LABELS.outcome).
OUTCOME = {
    "human": "사람이 받음",
    "answered": "통화 연결",
    "voicemail": "음성사서함",
    "carrier_message": "통신사 안내 (결번·전원 꺼짐)",
    "screened": "통화 선별 (자동 응대)",
    "no_answer": "받지 않음",
    "busy": "통화 중",
    "rejected": "수신 거부",
    "hung_up_early": "받자마자 끊음",
    "failed": "연결 실패",
}
OVERALL = {
    "fine": "괜찮음",
    "not_fine": "좋지 않음",
    "concern": "우려",
    "unclear": "불분명",
    "no_input": "응답 없음",
}
ALERT_KIND = {
    "welfare_concern": "안부 우려",
    "emergency": "긴급 상황",
    "unreachable": "연락 안 됨",
    "no_response": "연락은 되나 응답 없음",
}
SEVERITY = {"critical": "긴급", "warning": "주의", "info": "안내"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Columns padded for a terminal (Korean characters are two cells wide)."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(v + " " * (w - _width(v)) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _when(iso: str | None) -> str:
    return local_text(datetime.fromisoformat(iso), SEOUL) if iso else ""


def _counts(counts: dict[str, int], labels: dict[str, str]) -> str:
    return ", ".join(f"{labels.get(k, k)} {n}" for k, n in counts.items() if n) or "없음"


def campaigns(items: list[dict[str, Any]]) -> str:
    if not items:
        return "캠페인이 없습니다."
    rows = []
    for c in items:
        progress = c.get("progress", {})
        people = progress.get("contacts", {})
        rows.append(
            (
                c["id"],
                STATUS.get(c["status"], c["status"]),
                KIND.get(c["kind"], c["kind"]),
                c["name"],
                f"{c['start_date']} ~ {c['end_date']}",
                progress.get("contacts_total", 0),
                people.get("done", 0),
                people.get("unreachable", 0),
                progress.get("attempts", {}).get("scheduled", 0),
            )
        )
    headers = ("ID", "상태", "종류", "이름", "기간", "대상자", "완료", "연락 안 됨", "예약 통화")
    return table(headers, rows)


def results(out: dict[str, Any]) -> str:
    s = out["summary"]
    lines = [
        f"캠페인 {s['campaign_id']} ({KIND.get(s['kind'], s['kind'])}, {STATUS.get(s['status'], s['status'])})",
        f"대상자 {s['contacts']}명 · 연결 {s['reached']}명 ({s['reached_rate']:.1%}) · "
        f"연락 안 됨 {s['unreachable']}명 · 예약 통화 {s['pending_attempts']}건",
        f"통화 결과: {_counts(s['outcomes'], OUTCOME)}",
    ]
    if s.get("machines"):
        left = f", 음성 메시지 남김 {s['voicemail_messages']}건" if s.get("voicemail_messages") else ""
        lines.append(
            f"기계 응답(음성사서함·통신사 안내·통화 선별) {s['machines']}건{left}: 연결로 세지 않습니다."
        )
    if s.get("simulated_attempts"):
        lines.append(f"모의 발신: 통화 시도 {s['simulated_attempts']}건은 실제로 걸지 않은 모의 통화입니다.")
    if s.get("welfare"):
        lines.append(f"안부: {_counts(s['welfare'], OVERALL)}")
    lines.append(f"알림: {_counts(s['alerts'], ALERT_KIND)} (확인 안 됨 {s['alerts_open']}건)")
    attempts = out["attempts"]
    shown = (
        f"{len(attempts)}건"
        if len(attempts) == out["attempts_total"]
        else (f"{out['attempts_total']}건 중 최근 {len(attempts)}건")
    )
    lines += ["", f"통화 시도 {shown}:"]
    if attempts:
        rows = [
            (
                a["id"],
                a["contact"]["name"],
                a["contact"]["phone"],
                f"{a['attempt_number']}차",
                (OUTCOME.get(a["outcome"], "") if a["outcome"] else STATE.get(a["state"], a["state"]))
                + (" (모의)" if a.get("simulated") else ""),
                _when(a["ended_at"] or a["due_at"]),
                OVERALL.get(a["overall"], a["overall"] or ""),
                a["error"] or "",
            )
            for a in attempts
        ]
        lines.append(table(("ID", "이름", "전화번호", "차수", "결과", "시각", "안부", "오류"), rows))
    return "\n".join(lines)


def _ack(a: dict[str, Any]) -> str:
    if not a["acknowledged_at"]:
        return "미확인"
    return f"확인 ({a['acknowledged_by']}, {_when(a['acknowledged_at'])})"


def alerts(items: list[dict[str, Any]]) -> str:
    if not items:
        return "알림이 없습니다."
    rows = [
        (
            a["id"],
            SEVERITY.get(a["severity"], a["severity"]),
            ALERT_KIND.get(a["kind"], a["kind"]),
            a["campaign_id"] or "",
            f"{a['contact']['name']} {a['contact']['phone']}" if a["contact"] else "",
            _when(a["created_at"]),
            _ack(a),
            ("[모의] " if a.get("simulated") else "") + a["message"],
        )
        for a in items
    ]
    return table(("ID", "심각도", "종류", "캠페인", "대상자", "생성", "확인", "내용"), rows)


def alert(a: dict[str, Any]) -> str:
    """One alert, e.g. right after it was acknowledged."""
    lines = [
        f"알림 {a['id']} [{SEVERITY.get(a['severity'], a['severity'])}] "
        f"{ALERT_KIND.get(a['kind'], a['kind'])}: {a['message']}",
        f"확인: {_ack(a)}",
    ]
    if a.get("note"):
        lines.append(f"메모: {a['note']}")
    return "\n".join(lines)
