"""Two welfare check-ins of one person through the real store and worker pass, printed as a transcript
(issue 16): the first call hears a concern, the second asks about it first once the person is identified,
and the staff view shows the trend. SIMULATED: no real call is placed; the person's words are typed.

    .venv/bin/python scripts/welfare_transcript.py [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import outbound
from outbound import RetryPolicy, Schedule, import_contacts, parse_windows, welfare
from outbound.runner import CallRequest, DialOutcome, run_due
from outbound.schema import Attempt, Campaign, Contact

SEOUL = ZoneInfo("Asia/Seoul")
FIRST = datetime(2026, 10, 12, 10, 0, tzinfo=SEOUL)
SECOND = FIRST + timedelta(days=3)
CALLS = {
    FIRST: ["네, 잘 먹었어요", "요즘 허리가 너무 아파요", "잠은 잘 자요", "괜찮아요", "없어요"],
    SECOND: [
        "네, 맞아요",
        "좀 나아졌어요. 병원에 다녀왔어요",
        "네, 잘 먹어요",
        "괜찮아요",
        "잘 자요",
        "괜찮아요",
        "없어요",
    ],
}


@dataclass
class TranscriptDialer:
    """Runs the call's own Conversation with typed replies and keeps both sides, in order."""

    replies: list[str] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)
    simulated: bool = True
    instant: bool = True

    def dial(self, request: CallRequest) -> DialOutcome:
        conv = request.conversation()
        self.lines.append(("봇", conv.start()))
        replies = list(self.replies)
        while not conv.ended:
            reply = replies.pop(0) if replies else None
            self.lines.append(("어르신", reply or "(침묵)"))
            said = conv.respond(text=reply)
            if said:
                self.lines.append(("봇", said))
        return DialOutcome(
            "human", 200, 60.0, conversation=conv.result(), transcript="\n".join(conv.heard), simulated=True
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite file (default: a temporary one)")
    args = parser.parse_args()
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "welfare.db"
    url = f"sqlite:///{path}"
    outbound.upgrade(url)
    factory = outbound.session_factory(outbound.make_engine(url))
    with factory.begin() as s:
        campaign = outbound.create_campaign(
            s,
            name="어르신 안부 확인",
            kind="welfare_check",
            status="running",
            schedule=Schedule(
                start_date=FIRST.date(), end_date=date(2026, 12, 30), windows=parse_windows("09:00-18:00")
            ),
            policy=RetryPolicy(max_attempts=3, delays=(timedelta(minutes=30),)),
        )
        outbound.add_contacts(
            s, campaign, import_contacts("이름,전화번호\n김순자,010-1111-0001\n".encode()).contacts
        )
        outbound.schedule_first_attempts(s, campaign, FIRST)
    for number, (now, replies) in enumerate(CALLS.items(), 1):
        with factory.begin() as s:  # the next round's check-in, due now
            s.query(Campaign).update({"status": "running"})
            first = s.query(Attempt).order_by(Attempt.id).first()
            if number > 1:
                s.add(
                    Attempt(
                        campaign_id=first.campaign_id,
                        contact_id=first.contact_id,
                        campaign_contact_id=first.campaign_contact_id,
                        attempt_number=1,
                        round_date=now.date(),
                        due_at=now,
                    )
                )
        dialer = TranscriptDialer(replies)
        run_due(factory, dialer, "transcript", now)
        print(f"\n## {number}번째 안부 전화 ({now:%Y-%m-%d %H:%M} KST, SIMULATED)\n")
        for who, text in dialer.lines:
            print(f"- {who}: {text}")
    with factory() as s:
        contact_id = s.query(Contact).one().id
        view = welfare.memory_view(s, contact_id, SECOND, welfare.WelfareSettings())
    print("\n## 담당자 화면 (GET /api/contacts/{id}/memory)\n")
    print(f"- 다음 통화에서 먼저 여쭐 내용: {json.dumps(view['follow_up'], ensure_ascii=False)}")
    for topic, trend in view["trends"].items():
        values = " → ".join(v["value"] for v in trend["values"])
        print(f"- {trend['topic_ko']} ({topic}): {values} ({trend['trend']})")
    for memory in view["memories"]:
        if memory["value"] != "fine" or memory["follows"]:
            print(
                f"- 기억: {json.dumps({k: memory[k] for k in ('topic', 'value', 'summary', 'said', 'follows', 'follow_up')}, ensure_ascii=False)}"
            )


if __name__ == "__main__":
    main()
