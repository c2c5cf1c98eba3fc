"""KB-gap clustering (issue 19) with the bundled dialog engine's kiwipiepy analyser: paraphrases of the
same unanswered question land in one group, different questions in different groups; examples are masked."""

from __future__ import annotations

from dialog.gaps import cluster, mask

# Questions the new user asked that the 99-entry KB answers wrongly or not at all, paraphrased.
LABELLED = {
    "parking_appeal": [
        "주차위반 과태료가 나왔는데 주차한 적이 없어요 이의신청 하고 싶어요",
        "주차 과태료 이의신청은 어떻게 하나요",
        "제가 주차 안 했는데 과태료 고지서가 왔어요 이의 제기 방법",
        "주차위반 딱지 억울해요 이의신청",
    ],
    "youth_rent": [
        "청년 월세 지원 신청 기간이 언제예요",
        "청년 월세 지원은 언제까지 신청하나요",
        "청년 월세 지원금 신청 기간 알려주세요",
        "청년들 월세 지원 신청 언제 해요",
    ],
    "emergency_welfare": [
        "긴급 복지 지원 받을 수 있나요",
        "갑자기 실직해서 긴급 복지 지원 신청하고 싶어요",
        "긴급복지지원 신청 방법",
        "긴급 생계 지원 복지 어떻게 받아요",
    ],
}


def test_paraphrases_group_together(engine) -> None:
    questions = [q for group in LABELLED.values() for q in group]
    labels = [name for name, group in LABELLED.items() for _ in group]
    groups = cluster(questions, engine.matcher.content_tokens)
    for group in groups:  # pure: one question per group
        assert len({labels[i] for i in group.members}) == 1, [questions[i] for i in group.members]
    # each question's paraphrases mostly found together: the largest group per label holds 3 of 4 or more
    for name in LABELLED:
        assert max(sum(labels[i] == name for i in g.members) for g in groups) >= 3, name
    assert groups[0].size >= 3 and groups[0].examples and groups[0].terms


def test_examples_are_masked() -> None:
    assert mask("제 번호 010-1234-5678로 주세요") == "제 번호 ○○○-○○○○-○○○○로 주세요"
