"""정기분석: the weekly or monthly Korean PDF report over the inquiry records (issue 19).

``voicebot report --period week|month --out FILE.pdf``. Pages: the period at a glance (contacts, containment,
escalation, channels, daily volume), what citizens asked (categories against the previous period, top
intents, the questions the bot most often had to ask back or hand over: knowledge-base gaps, escalation
reasons, hours), and 민원예보 (forecast against actual for the period, the next 14 days, spikes), with
outbound answers and alerts handled. Counts below 5 are printed as "<5" so that nobody can be singled out;
the report holds labels and counts only.

The Korean font is embedded from Debian's fonts-nanum (``scripts/test-deps.sh`` installs it; another TTF
can be named with ``font``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from fpdf import FPDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outbound import analytics, forecast
from outbound.demo_data import LABEL
from outbound.inquiries import CATEGORY_KO
from outbound.schema import Alert

FONT_DIRS = (Path("/usr/share/fonts/truetype/nanum"), Path("/usr/share/fonts/nanum"))
FONT_FILES = ("NanumGothic.ttf", "NanumGothicBold.ttf")
REASON_KO = {
    "agent_request": "상담사 요청",
    "low_confidence": "질문 이해 어려움",
    "frustration": "불만 또는 반복 질문",
    "requires_staff": "직원 확인 필요",
    "emergency": "긴급 상황",
    "foreign_language": "외국어",
    "unknown": "기타",
}
SMALL = 5
# fontTools warns about TrueType hinting tables it drops while subsetting Nanum fonts: harmless.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


def masked(n: int) -> str:
    """A count as printed: below 5 (but not 0) as "<5"."""
    return f"<{SMALL}" if 0 < n < SMALL else f"{n:,}"


def share(part: int, whole: int) -> str:
    if not whole or (0 < part < SMALL):
        return "-"
    return f"{100 * part / whole:.0f}%"


def find_font(font: Path | None = None) -> tuple[Path, Path]:
    if font is not None:
        return font, font
    for folder in FONT_DIRS:
        regular, bold = (folder / name for name in FONT_FILES)
        if regular.exists():
            return regular, bold if bold.exists() else regular
    raise FileNotFoundError(
        "보고서에 넣을 한글 글꼴이 없습니다: fonts-nanum 패키지를 설치해 주세요 (sudo apt-get install fonts-nanum)"
    )


@dataclass(frozen=True)
class Period:
    kind: str  # week | month
    first: date
    last: date

    @property
    def title(self) -> str:
        return "주간" if self.kind == "week" else "월간"

    def previous(self) -> Period:
        length = (self.last - self.first).days + 1
        return Period(self.kind, self.first - timedelta(days=length), self.first - timedelta(days=1))


def last_period(kind: str, today: date) -> Period:
    """The last whole week (Monday to Sunday) or calendar month before ``today``."""
    if kind == "week":
        first = today - timedelta(days=today.weekday() + 7)
        return Period(kind, first, first + timedelta(days=6))
    if kind == "month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(kind, last.replace(day=1), last)
    raise ValueError("period must be week or month")


class _Pdf(FPDF):
    def __init__(self, font: tuple[Path, Path], footer_text: str):
        super().__init__(format="A4")
        self.add_font("ko", "", str(font[0]))
        self.add_font("ko", "B", str(font[1]))
        self.footer_text = footer_text
        self.set_auto_page_break(True, margin=16)
        self.set_margins(16, 16, 16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("ko", "", 8)
        self.set_text_color(100)
        self.cell(0, 6, f"{self.footer_text}  ·  {self.page_no()}쪽", align="C")
        self.set_text_color(0)

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font("ko", "B", size)
        self.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("ko", "", 10)

    def para(self, text: str) -> None:
        self.set_font("ko", "", 10)
        self.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    def table(self, head: list[str], rows: list[list[str]], widths: list[float]) -> None:
        self.set_font("ko", "B", 9)
        self.set_fill_color(226, 232, 240)
        for text, w in zip(head, widths, strict=True):
            self.cell(w, 7, text, border=1, fill=True, align="C")
        self.ln()
        self.set_font("ko", "", 9)
        for row in rows:
            for i, (text, w) in enumerate(zip(row, widths, strict=True)):
                self.cell(w, 6.5, text, border=1, align="L" if i == 0 else "R")
            self.ln()
        self.ln(3)

    def bars(self, title: str, labels: list[str], values: list[int], height: float = 45) -> None:
        """A column chart of counts; columns under 5 are drawn at 5's height and labelled "<5"."""
        if self.get_y() + height + 20 > self.page_break_trigger:
            self.add_page()
        self.set_font("ko", "B", 10)
        self.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        self.set_auto_page_break(False)
        x0, y0, width = self.l_margin + 8, self.get_y() + 2, self.epw - 8
        top = max([*values, 1])
        slot = width / max(1, len(values))
        self.set_draw_color(148, 163, 184)
        self.line(x0, y0 + height, x0 + width, y0 + height)
        self.set_font("ko", "", 6.5)
        every = max(1, int(np.ceil(len(values) / 16)))
        for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
            shown = max(v, SMALL) if v else 0
            h = height * shown / top
            self.set_fill_color(29, 78, 216)
            self.rect(x0 + i * slot + slot * 0.15, y0 + height - h, slot * 0.7, h, style="F")
            if i % every == 0:
                self.set_xy(x0 + i * slot - 2, y0 + height + 1)
                self.cell(slot + 4, 4, lab, align="C")
        self.set_xy(self.l_margin, y0 + height + 7)
        self.set_font("ko", "", 10)
        self.set_auto_page_break(True, margin=16)


def _compare(now: dict[str, Any], before: dict[str, Any]) -> list[list[str]]:
    previous = {c["category"]: c["count"] for c in before["by_category"]}
    rows = []
    for c in now["by_category"]:
        was = previous.get(c["category"], 0)
        change = "-" if was < SMALL or c["count"] < SMALL else f"{100 * (c['count'] - was) / was:+.0f}%"
        rows.append([c["label"], masked(c["count"]), masked(was), change])
    return rows


def _gaps(session: Session, period: Period, synthetic: bool, titles: dict[str, str]) -> list[list[str]]:
    """Intents the bot most often had to ask back about or hand over: where the knowledge base falls short."""
    rows = analytics._rows(
        session,
        analytics._day_start(period.first),
        analytics._day_start(period.last + timedelta(days=1)),
        synthetic,
    )
    total: dict[str, int] = {}
    short: dict[str, int] = {}
    for _, _, _, intent, outcome, _ in rows:
        if not intent:
            continue
        total[intent] = total.get(intent, 0) + 1
        if outcome in ("clarified", "escalated"):
            short[intent] = short.get(intent, 0) + 1
    ranked = sorted(short.items(), key=lambda kv: -kv[1])[:8]
    return [[titles.get(k, k), masked(v), share(v, total[k])] for k, v in ranked]


def _forecast_vs_actual(session: Session, period: Period, synthetic: bool) -> list[list[str]]:
    """For each category: what the forecast made on the period's first day expected, against what came."""
    history_first = period.first - timedelta(days=182)
    days, series = analytics.daily_by_category(session, history_first, period.last, synthetic=synthetic)
    cut = (period.first - history_first).days
    holidays = frozenset(analytics.holidays_around(history_first, period.last))
    out = []
    for category, counts in sorted(series.items(), key=lambda kv: -kv[1].sum()):
        if counts[:cut].sum() < 28:
            continue
        horizon = len(days) - cut
        got = forecast.forecast(counts[:cut], days[:cut], holidays, horizon=horizon)
        actual = int(counts[cut:].sum())
        expected = float(got.mean.sum())
        inside = float(np.mean((counts[cut:] >= got.lower) & (counts[cut:] <= got.upper)))
        error = f"{100 * abs(actual - expected) / actual:.0f}%" if actual >= SMALL else "-"
        out.append(
            [
                CATEGORY_KO.get(category, category),
                masked(actual),
                masked(round(expected)),
                error,
                f"{inside:.0%}",
            ]
        )
    return out


def write_report(
    session: Session,
    out: Path,
    kind: str,
    today: date,
    *,
    synthetic: bool = False,
    titles: dict[str, str] | None = None,
    font: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write the report for the last whole week or month before ``today``; returns what it summarised."""
    titles = titles or {}
    period = last_period(kind, today)
    data = analytics.trends(session, period.first, period.last, synthetic=synthetic, titles=titles)
    before = analytics.trends(session, *_span(period.previous()), synthetic=synthetic, titles=titles)
    label = f"  ·  {LABEL}" if synthetic else ""
    pdf = _Pdf(find_font(font), f"120 다산콜센터 상담봇 {period.title} 정기분석{label}")
    stamp = (now or datetime.now(analytics.SEOUL)).astimezone(analytics.SEOUL).strftime("%Y-%m-%d %H:%M")

    pdf.add_page()
    pdf.heading(f"120 다산콜센터 상담봇 {period.title} 정기분석 보고서", 17)
    pdf.para(
        f"기간: {period.first:%Y년 %m월 %d일} ~ {period.last:%Y년 %m월 %d일}   작성: {stamp} (서울 시각)"
    )
    if synthetic:
        pdf.set_text_color(180, 35, 24)
        pdf.para(f"{LABEL}: 화면과 보고서 시연을 위해 만든 자료입니다.")
        pdf.set_text_color(0)
    pdf.para(
        '5건 미만인 수치는 개인을 알아볼 수 없도록 "<5"로 표시합니다. 이 보고서에는 시민의 말, 이름, 전화번호가 없습니다.'
    )
    pdf.ln(2)
    pdf.heading("1. 한눈에 보기", 13)
    total, prev = data["total"], before["total"]
    change = f"{100 * (total - prev) / prev:+.0f}%" if prev >= SMALL and total >= SMALL else "-"
    pdf.table(
        ["항목", "이번 기간", "지난 기간", "변화"],
        [
            ["전체 문의", masked(total), masked(prev), change],
            ["상담봇 자체 해결률", _pct(data["containment"]), _pct(before["containment"]), ""],
            ["상담사 연결률", _pct(data["escalation"]), _pct(before["escalation"]), ""],
        ],
        [70, 36, 36, 36],
    )
    pdf.table(
        ["채널", "건수", "비율"],
        [[c["label"], masked(c["count"]), share(c["count"], total)] for c in data["by_channel"]],
        [70, 50, 58],
    )
    pdf.bars(
        "일별 문의 건수",
        [d["date"][5:].replace("-", "/") for d in data["daily"]],
        [d["total"] for d in data["daily"]],
    )

    pdf.add_page()
    pdf.heading("2. 무엇을 물었나", 13)
    pdf.table(["분야", "이번 기간", "지난 기간", "변화"], _compare(data, before), [70, 36, 36, 36])
    pdf.table(
        ["많이 묻는 문의", "건수"],
        [[i["title"], masked(i["count"])] for i in data["by_intent"][:10]],
        [128, 50],
    )
    pdf.heading("상담봇이 답하지 못한 문의 (지식 보완 후보)", 11)
    gaps = _gaps(session, period, synthetic, titles)
    if gaps:
        pdf.table(["문의", "되묻기·상담사 연결", "그 문의 중 비율"], gaps, [98, 40, 40])
    else:
        pdf.para("이번 기간에는 없습니다.")
    reasons = [
        [REASON_KO.get(r["reason"], r["reason"]), masked(r["count"])] for r in data["escalation_reasons"]
    ]
    if reasons:
        pdf.table(["상담사 연결 사유", "건수"], reasons, [128, 50])
    pdf.bars(
        "시간대별 문의",
        [f"{h['hour']}시" for h in data["by_hour"]],
        [h["count"] for h in data["by_hour"]],
        35,
    )

    pdf.add_page()
    pdf.heading("3. 민원예보", 13)
    pdf.para(
        "기간 첫날까지의 자료로 만든 예측과 실제를 비교합니다 (오차: 기간 합계 기준, 구간 적중: 95% 예측 구간 안에 든 날의 비율)."
    )
    pdf.table(
        ["분야", "실제", "예측", "오차", "구간 적중"],
        _forecast_vs_actual(session, period, synthetic),
        [58, 30, 30, 30, 30],
    )
    ahead = analytics.outlook(session, period.last + timedelta(days=1), synthetic=synthetic)
    pdf.heading("다음 14일 예측", 11)
    pdf.table(
        ["분야", "예상 합계", "하루 최대 (95% 상한)"],
        [
            [
                c["label"],
                masked(round(sum(f["mean"] for f in c["forecast"]))),
                masked(round(max(f["upper"] for f in c["forecast"]))),
            ]
            for c in ahead["categories"]
        ],
        [70, 54, 54],
    )
    if ahead["holidays"]:
        pdf.para(
            "예측 기간의 공휴일: " + ", ".join(f"{h['date'][5:]} {h['name']}" for h in ahead["holidays"])
        )
    pdf.heading("4. 발신 응답과 처리한 알림", 11)
    outbound_rows = [c for c in data["by_channel"] if c["channel"] == "outbound"]
    handled = _alerts_handled(session, period)
    pdf.table(
        ["항목", "건수"],
        [
            ["발신 전화에 응답한 시민", masked(outbound_rows[0]["count"] if outbound_rows else 0)],
            ["처리(확인)한 알림", masked(handled)],
        ],
        [128, 50],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return {
        "period": kind,
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "total": total,
        "pages": pdf.page_no(),
    }


def _span(period: Period) -> tuple[date, date]:
    return period.first, period.last


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _alerts_handled(session: Session, period: Period) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(
                Alert.acknowledged_at >= analytics._day_start(period.first),
                Alert.acknowledged_at < analytics._day_start(period.last + timedelta(days=1)),
            )
        )
        or 0
    )
