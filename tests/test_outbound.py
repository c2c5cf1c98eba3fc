"""Outbound foundation: phone numbers, CSV import, scheduling, storage, claiming with leases.

SQLite tests use real files in tmp_path. PostgreSQL tests create and drop their own database on the
server at $VOICEBOT_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test) and are skipped when no
server answers.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import outbound
from outbound import (
    CsvFormatError,
    InvalidTransition,
    LeaseLost,
    PhoneError,
    RetryPolicy,
    Schedule,
    ScheduleError,
    TimeWindow,
    WindowError,
    import_contacts,
    mask_name,
    mask_phone,
    next_allowed_time,
    next_retry,
    parse_phone,
    parse_windows,
)
from outbound.schema import Alert, Attempt, CampaignContact, Contact

DATA = Path(__file__).parent / "data" / "outbound"
SEOUL = ZoneInfo("Asia/Seoul")


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


# --- phones -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164", "display"),
    [
        ("010-1234-5678", "+821012345678", "010-1234-5678"),
        ("01012345678", "+821012345678", "010-1234-5678"),
        ("010 1234 5678", "+821012345678", "010-1234-5678"),
        ("010.1234.5678", "+821012345678", "010-1234-5678"),
        ("+82 10-1234-5678", "+821012345678", "010-1234-5678"),
        ("+82 (0)10 1234 5678", "+821012345678", "010-1234-5678"),
        ("0082-10-1234-5678", "+821012345678", "010-1234-5678"),
        ("1012345678", "+821012345678", "010-1234-5678"),  # Excel dropped the leading zero
        ("０１０－１２３４－５６７８", "+821012345678", "010-1234-5678"),  # full-width
        ("(02) 123-4567", "+8221234567", "02-123-4567"),
        ("02-1234-5678", "+82212345678", "02-1234-5678"),
        ("+82 2 1234 5678", "+82212345678", "02-1234-5678"),
        ("031-123-4567", "+82311234567", "031-123-4567"),
        ("064-1234-5678", "+826412345678", "064-1234-5678"),
        ("070-1234-5678", "+827012345678", "070-1234-5678"),
        ("1588-1234", "+8215881234", "1588-1234"),
        ("1666 0120", "+8216660120", "1666-0120"),
        ("1899-0000", "+8218990000", "1899-0000"),
        ("011-123-4567", "+82111234567", "011-123-4567"),
    ],
)
def test_phone_forms_normalise(raw: str, e164: str, display: str) -> None:
    phone = parse_phone(raw)
    assert (phone.e164, phone.display) == (e164, display)
    assert outbound.normalize_phone(phone.display) == e164


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("010-1234-567", "length"),
        ("010-1234-56789", "length"),
        ("02-12-3456", "length"),
        ("059-123-4567", "prefix"),
        ("+1 202 555 0100", "foreign"),
        ("010-1234-567O", "characters"),
        ("010-1234-5678 내선 3", "extension"),
        ("02-012-3456", "exchange"),
        ("1588-123", "length"),
        ("12345", "prefix"),
    ],
)
def test_phone_errors_have_reasons(raw: str, code: str) -> None:
    with pytest.raises(PhoneError) as info:
        parse_phone(raw)
    assert info.value.code == code
    assert info.value.reason and raw.strip()[-4:] not in info.value.reason or not raw.strip()


def test_masking_never_shows_the_middle() -> None:
    assert mask_phone("010-1234-5678") == "010-****-5678"
    assert mask_phone("+82 2 123 4567") == "02-***-4567"
    assert mask_phone("1588-1234") == "15**-1234"
    assert "1234" not in mask_phone("010-1234-56")  # invalid: only the last two digits stay
    assert mask_name("김철수") == "김*수" and mask_name("이영") == "이*" and mask_name("") == ""


# --- CSV import ---------------------------------------------------------------------------------------


def test_cp949_csv_with_bad_rows_duplicates_and_do_not_call() -> None:
    result = import_contacts(DATA / "contacts_cp949.csv", do_not_call=["010 9999 0000", "not a number"])
    assert result.encoding == "cp949"
    assert result.columns["name"] == "이름" and result.columns["phone"] == "전화번호"
    by_phone = {c.phone.e164: c for c in result.contacts}
    assert set(by_phone) == {"+821012345678", "+8221234567", "+821055556666", "+8215881234"}
    kim = by_phone["+821012345678"]
    assert kim.name == "김철수" and kim.rows == (2, 6)
    assert kim.tags == ("독거", "고위험", "주간")
    assert [str(w) for w in kim.preferred_times] == ["09:00-12:00", "14:00-16:00"]
    assert kim.notes == "당뇨 관리\n재확인"
    assert [str(w) for w in by_phone["+8221234567"].preferred_times] == ["13:00-18:00"]
    rejected = {r.row: r.code for r in result.rejected}
    assert rejected == {4: "missing_name", 5: "invalid_phone", 7: "do_not_call"}
    assert [r.row for r in result.skipped_do_not_call] == [7]
    warnings = {r.row: r.code for r in result.warnings}
    assert warnings == {6: "duplicate_merged", 8: "bad_preferred_times"}
    assert "crosses midnight" in next(r.reason for r in result.warnings if r.row == 8)
    # Nothing in the report exposes a name or a full number.
    report = repr(result.summary()) + repr(result.rejected) + repr(result.warnings)
    for secret in ("김철수", "1234-5678", "12345678", "99990000", "2222-3333"):
        assert secret not in report


def test_utf8_bom_english_headers_and_extra_fields() -> None:
    result = import_contacts(DATA / "contacts_utf8_bom.csv")
    assert result.encoding == "utf-8-sig"
    assert [c.name for c in result.contacts] == ["Hong Gildong", "Lee"]
    assert {r.row: r.code for r in result.rejected} == {3: "invalid_phone", 4: "too_many_fields"}
    assert "unknown area code" in result.rejected[0].reason


def test_csv_utf8_without_bom_euc_kr_utf16_and_mixed_lines(tmp_path: Path) -> None:
    body = "성명,연락처,비고\n홍길동,010-1111-2222,메모\n"
    assert import_contacts(body.encode("utf-8")).contacts[0].name == "홍길동"
    assert import_contacts(body.encode("euc-kr")).contacts[0].name == "홍길동"
    tsv = body.replace(",", "\t").encode("utf-16")
    assert import_contacts(tsv).contacts[0].phone.e164 == "+821011112222"
    mixed = (
        "이름,전화번호\n".encode()
        + "김영수,010-3333-4444\n".encode("cp949")
        + b"\xff\xfe\xff,010-5555-6666\n"
    )
    mixed += "이순신,010-7777-8888\n".encode()
    result = import_contacts(mixed)
    assert result.encoding == "mixed"
    assert [c.name for c in result.contacts] == ["김영수", "이순신"]
    assert [(r.row, r.code) for r in result.rejected] == [(3, "encoding")]


def test_csv_without_required_columns_is_a_clear_error() -> None:
    with pytest.raises(CsvFormatError, match="missing column"):
        import_contacts("이름,주소\n김철수,서울\n".encode())
    with pytest.raises(CsvFormatError, match="empty"):
        import_contacts(b"")


def test_opt_out_column_and_do_not_call_file(tmp_path: Path) -> None:
    dnc = tmp_path / "dnc.csv"
    dnc.write_text("전화번호\n010-4444-5555\n", encoding="cp949")
    body = "이름,전화번호,수신거부\n가,010-4444-5555,\n나,010-6666-7777,Y\n다,010-8888-9999,\n"
    result = import_contacts(body.encode(), do_not_call=outbound.load_do_not_call(dnc))
    assert [c.name for c in result.contacts] == ["다"]
    assert [(r.row, r.code) for r in result.rejected] == [(2, "do_not_call"), (3, "do_not_call")]


# --- scheduling ---------------------------------------------------------------------------------------


def schedule(**kwargs: object) -> Schedule:
    fields: dict[str, object] = {
        "start_date": date(2026, 9, 21),
        "end_date": date(2026, 10, 16),
        "windows": parse_windows("09:00-12:00; 14:00-18:00"),
    }
    fields.update(kwargs)
    return Schedule(**fields)  # type: ignore[arg-type]


def test_windows_across_midnight_are_refused() -> None:
    with pytest.raises(WindowError, match="crosses midnight"):
        parse_windows("22:00-02:00")
    with pytest.raises(WindowError):
        TimeWindow(600, 600)
    assert str(parse_windows("22:00-24:00")[0]) == "22:00-24:00"
    with pytest.raises(ScheduleError):
        schedule(windows=())
    with pytest.raises(ScheduleError):
        schedule(end_date=date(2026, 9, 1))


def test_next_allowed_time_stays_in_windows_and_skips_holidays() -> None:
    s = schedule()
    assert next_allowed_time(s, kst(2026, 9, 21, 8, 0)) == kst(2026, 9, 21, 9, 0)
    assert next_allowed_time(s, kst(2026, 9, 21, 10, 30)) == kst(2026, 9, 21, 10, 30)
    assert next_allowed_time(s, kst(2026, 9, 21, 12, 0)) == kst(2026, 9, 21, 14, 0)
    # Wed 23 Sep after hours -> Thu 24 to Sat 26 is 추석, Sun is not a weekday -> Mon 28.
    assert next_allowed_time(s, kst(2026, 9, 23, 18, 0)) == kst(2026, 9, 28, 9, 0)
    # Fri 2 Oct evening: Mon 5 Oct is the substitute holiday for 개천절.
    assert next_allowed_time(s, kst(2026, 10, 2, 18, 30)) == kst(2026, 10, 6, 9, 0)
    # UTC input, Seoul decision: 00:30 UTC = 09:30 KST.
    found = next_allowed_time(s, datetime(2026, 9, 22, 0, 30, tzinfo=UTC))
    assert found == kst(2026, 9, 22, 9, 30) and found.utcoffset() == timedelta(hours=9)
    assert next_allowed_time(s, kst(2026, 10, 16, 18, 0)) is None  # campaign over
    assert next_allowed_time(schedule(skip_holidays=False), kst(2026, 9, 23, 18, 0)) == kst(2026, 9, 24, 9, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed_time(s, datetime(2026, 9, 21, 9, 0))


def test_preferred_times_margin_and_never_outside_a_window() -> None:
    s = schedule()
    preferred = parse_windows("16:00-20:00")
    assert next_allowed_time(s, kst(2026, 9, 21, 9, 0), preferred=preferred) == kst(2026, 9, 21, 16, 0)
    # No overlap with the campaign windows: the contact's wish is ignored, the campaign's windows hold.
    assert next_allowed_time(s, kst(2026, 9, 21, 7, 0), preferred=parse_windows("19-21")) == kst(
        2026, 9, 21, 9
    )
    assert next_allowed_time(s, kst(2026, 9, 21, 11, 55), margin=timedelta(minutes=10)) == kst(
        2026, 9, 21, 14
    )
    moment = kst(2026, 9, 19, 0, 0)
    for _ in range(300):
        found = next_allowed_time(s, moment)
        if found is None:
            break
        assert outbound.in_window(s, found)
        moment = found + timedelta(minutes=47)


def test_recurrence_monday_and_thursday_skips_holidays() -> None:
    s = schedule(start_date=date(2026, 9, 14), end_date=date(2026, 10, 11))
    rounds = outbound.recurrence_dates(s, outbound.parse_weekdays("월,목"))
    assert rounds == [
        date(2026, 9, 14),
        date(2026, 9, 17),
        date(2026, 9, 21),
        date(2026, 9, 28),
        date(2026, 10, 1),
        date(2026, 10, 8),
    ]
    biweekly = outbound.recurrence_dates(s, frozenset({0}), every_weeks=2)
    assert biweekly == [date(2026, 9, 14), date(2026, 9, 28)]


def test_retry_policy() -> None:
    s = schedule()
    policy = RetryPolicy(max_attempts=3, delays=(timedelta(minutes=10), timedelta(hours=1)))
    assert next_retry(s, policy, "busy", 1, kst(2026, 9, 21, 10, 0)) == kst(2026, 9, 21, 10, 10)
    assert next_retry(s, policy, "no_answer", 2, kst(2026, 9, 21, 11, 30)) == kst(2026, 9, 21, 14, 0)
    assert next_retry(s, policy, "failed", 3, kst(2026, 9, 21, 10, 0)) is None  # out of attempts
    assert next_retry(s, policy, "answered", 1, kst(2026, 9, 21, 10, 0)) is None
    # A voicemail greeting is not the person: retried like no answer, within max_attempts.
    assert next_retry(s, policy, "voicemail", 1, kst(2026, 9, 21, 10, 0)) == kst(2026, 9, 21, 10, 10)
    assert next_retry(s, policy, "voicemail", 3, kst(2026, 9, 21, 10, 0)) is None
    assert next_retry(s, policy, "busy", 1, kst(2026, 9, 23, 17, 55)) == kst(2026, 9, 28, 9, 0)
    with pytest.raises(ScheduleError):
        RetryPolicy(max_attempts=0)


def test_holiday_data() -> None:
    days = outbound.holidays_for(2026, 2027)
    assert date(2026, 2, 17) in days and date(2026, 9, 25) in days and date(2027, 2, 9) in days
    assert date(2027, 5, 13) in days and date(2026, 6, 3) in days
    # From the holidays package: later years work too (추석 2028 falls on 개천절: substitute on the 5th).
    later = outbound.holiday_names(2028)
    assert "추석" in later[date(2028, 10, 3)] and date(2028, 10, 5) in later
    assert date(2028, 10, 5) in outbound.korean_holidays()
    with pytest.raises(KeyError):
        outbound.holidays_for(2101)
    # Calling windows after 2027: Friday 29 Sept 2028, 18:00 -> over 추석 and its substitute -> Friday 6 Oct.
    s = schedule(start_date=date(2028, 9, 25), end_date=date(2028, 10, 31))
    assert next_allowed_time(s, kst(2028, 9, 29, 18, 0)) == kst(2028, 10, 6, 9, 0)


# --- storage and claiming -----------------------------------------------------------------------------


def seed(
    url: str,
    n: int,
    now: datetime,
    *,
    max_attempts: int = 2,
    channel_limit: int = 1000,
    pace_per_min: int = 100_000,
) -> int:
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    with outbound.session_factory(engine).begin() as session:
        campaign = outbound.create_campaign(
            session,
            name="복지 확인",
            kind="welfare_check",
            status="running",
            schedule=schedule(start_date=now.date(), end_date=now.date() + timedelta(days=30)),
            policy=RetryPolicy(max_attempts=max_attempts, delays=(timedelta(minutes=10),)),
            channel_limit=channel_limit,
            pace_per_min=pace_per_min,
        )
        people = import_contacts(
            (
                "이름,전화번호\n"
                + "".join(f"사람{i},010-{1000 + i // 10000:04d}-{i % 10000:04d}\n" for i in range(n))
            ).encode()
        )
        outbound.add_contacts(session, campaign, people.contacts)
        outbound.schedule_first_attempts(session, campaign, now)
        campaign_id = campaign.id
    engine.dispose()
    return campaign_id


def test_sqlite_migration_state_machine_retries_and_alerts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    now = kst(2026, 9, 21, 10, 0)
    seed(url, 3, now)
    outbound.upgrade(url)  # idempotent
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    with factory.begin() as s:
        outbound.add_do_not_call(s, ["010-1000-0002"], reason="opt-out")
        assert s.scalar(select(func.count()).select_from(Attempt)) == 3
    with factory.begin() as s:
        claimed = outbound.claim_due(s, "w1", limit=2, lease_s=60, now=now)
        ids = [a.id for a in claimed]
    assert len(ids) == 2
    with factory.begin() as s:
        a = outbound.transition(s, ids[0], "w1", "dialing", now)
        with pytest.raises(InvalidTransition):
            outbound.transition(s, ids[0], "w1", "completed", now)
        outbound.transition(s, ids[0], "w1", "ringing", now, sip_status=180)
        outbound.transition(s, ids[0], "w1", "answered", now, sip_status=200)
        assert (
            outbound.finish(
                s, ids[0], "w1", "answered", now, duration_s=42.0, keypad="1", answers={"meal": "fine"}
            )
            is None
        )
        assert a.state == "completed" and a.outcome == "answered" and a.answers == {"meal": "fine"}
        with pytest.raises(LeaseLost):
            outbound.transition(s, ids[1], "w2", "dialing", now)
        outbound.transition(s, ids[1], "w1", "dialing", now)
        retry = outbound.finish(s, ids[1], "w1", "busy", now, sip_status=486)
        assert retry is not None and retry.attempt_number == 2 and retry.due_at == kst(2026, 9, 21, 10, 10)
    later = now + timedelta(minutes=10)
    with factory.begin() as s:
        claimed = outbound.claim_due(s, "w1", limit=5, lease_s=60, now=later)
        assert sorted(a.attempt_number for a in claimed) == [1, 2]
        second = next(a for a in claimed if a.attempt_number == 2)
        outbound.transition(s, second.id, "w1", "dialing", later)
        outbound.transition(s, second.id, "w1", "no_answer", later)
        assert outbound.finish(s, second.id, "w1", "no_answer", later) is None  # max_attempts = 2
        alert = s.scalars(select(Alert)).one()
        assert alert.kind == "unreachable"
        member = s.get(CampaignContact, second.campaign_contact_id)
        assert member is not None and member.status == "unreachable"
        outbound.acknowledge_alert(s, alert.id, "social-worker-1", "방문 예정", later)
    with factory() as s:
        assert s.scalars(select(Alert)).one().acknowledged_at == later
    engine.dispose()


def test_lease_expiry_hands_work_to_another_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lease.db'}"
    now = kst(2026, 9, 21, 10, 0)
    seed(url, 2, now)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    with factory.begin() as s:
        first, second = (a.id for a in outbound.claim_due(s, "dead", limit=2, lease_s=30, now=now))
        outbound.transition(s, second, "dead", "dialing", now)  # died mid-call on this one
    with factory.begin() as s:
        assert outbound.claim_due(s, "alive", limit=5, lease_s=30, now=now + timedelta(seconds=10)) == []
    after = now + timedelta(seconds=31)
    with factory.begin() as s:
        taken = outbound.claim_due(s, "alive", limit=5, lease_s=30, now=after)
        assert [a.id for a in taken] == [first]  # the claimed-only attempt is taken over
        mid_call = s.get(Attempt, second)
        assert mid_call is not None and mid_call.state == "completed" and mid_call.outcome == "failed"
        assert "lease expired" in (mid_call.error or "")
        contact = s.get(Contact, mid_call.contact_id)
        assert contact is not None and contact.active_attempt_id is None
        retry = s.scalars(
            select(Attempt).where(Attempt.contact_id == mid_call.contact_id, Attempt.attempt_number == 2)
        ).one()
        assert retry.state == "scheduled"
    with factory.begin() as s, pytest.raises(LeaseLost):
        outbound.transition(s, first, "dead", "dialing", after)


def test_same_contact_never_claimed_twice_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'guard.db'}"
    now = kst(2026, 9, 21, 10, 0)
    seed(url, 1, now)
    engine = outbound.make_engine(url)
    factory = outbound.session_factory(engine)
    with factory.begin() as s:  # a second campaign calling the same person
        other = outbound.create_campaign(
            s,
            name="코로나 안내",
            kind="covid_notice",
            status="running",
            schedule=schedule(start_date=now.date()),
        )
        outbound.add_contacts(
            s, other, import_contacts("이름,전화번호\n사람0,010-1000-0000\n".encode()).contacts
        )
        outbound.schedule_first_attempts(s, other, now)
        assert s.scalar(select(func.count()).select_from(Attempt)) == 2
    with factory.begin() as s:
        assert len(outbound.claim_due(s, "w1", limit=5, lease_s=60, now=now)) == 1
    with factory.begin() as s:
        assert outbound.claim_due(s, "w2", limit=5, lease_s=60, now=now) == []


# --- PostgreSQL ---------------------------------------------------------------------------------------


def test_postgres_two_workers_claim_concurrently_without_duplicates(pg_url: str) -> None:
    now = kst(2026, 9, 21, 10, 0)
    seed(pg_url, 200, now)
    engine = outbound.make_engine(pg_url, pool_size=4)
    factory = outbound.session_factory(engine)
    claims: dict[str, list[int]] = {"w1": [], "w2": []}
    barrier = threading.Barrier(2)

    def work(worker: str) -> None:
        barrier.wait()
        while True:
            with factory.begin() as s:
                got = outbound.claim_due(s, worker, limit=7, lease_s=300, now=now)
                claims[worker].extend(a.id for a in got)
            if not got:
                return

    threads = [threading.Thread(target=work, args=(w,)) for w in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = claims["w1"] + claims["w2"]
    assert len(everything) == 200 and len(set(everything)) == 200
    assert claims["w1"] and claims["w2"], "both workers should have claimed some attempts"
    with factory() as s:
        owners = dict(s.execute(select(Attempt.id, Attempt.lease_owner)).all())
        assert all(owners[i] == "w1" for i in claims["w1"]) and all(owners[i] == "w2" for i in claims["w2"])
    # Leases expire: a third worker picks everything up again, still once each.
    with factory.begin() as s:
        again = outbound.claim_due(s, "w3", limit=500, lease_s=60, now=now + timedelta(seconds=301))
        assert len({a.id for a in again}) == 200
    engine.dispose()


# --- limits, windows, rounds and restarts -------------------------------------------------------------


def factory_for(url: str) -> tuple[object, object]:
    engine = outbound.make_engine(url)
    return engine, outbound.session_factory(engine)


def test_channel_and_pacing_limits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    now = kst(2026, 9, 21, 10, 0)
    seed(url, 20, now, channel_limit=3, pace_per_min=5)
    engine, factory = factory_for(url)
    with factory.begin() as s:
        first = outbound.claim_due(s, "w1", limit=10, lease_s=60, now=now)
    assert len(first) == 3  # three calls at once
    with factory.begin() as s:
        assert outbound.claim_due(s, "w2", limit=10, lease_s=60, now=now) == []
        for attempt in first:
            outbound.transition(s, attempt.id, "w1", "dialing", now)
            outbound.finish(s, attempt.id, "w1", "answered", now)
    with factory.begin() as s:
        assert len(outbound.claim_due(s, "w2", limit=10, lease_s=600, now=now)) == 2  # pace: 5 a minute
    with factory.begin() as s:
        assert outbound.claim_due(s, "w2", limit=10, lease_s=60, now=now + timedelta(seconds=30)) == []
    with factory.begin() as s:
        # a minute later the pace allows more, but two channels are still held
        assert len(outbound.claim_due(s, "w3", limit=10, lease_s=600, now=now + timedelta(seconds=61))) == 1
    engine.dispose()


def test_due_attempt_found_outside_the_window_moves_to_the_next_window(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'window.db'}"
    now = kst(2026, 9, 21, 10, 0)  # Monday; windows 09:00-12:00 and 14:00-18:00
    seed(url, 2, now)
    engine, factory = factory_for(url)
    night = kst(2026, 9, 21, 21, 30)  # the worker was down all day
    with factory.begin() as s:
        assert outbound.claim_due(s, "w1", limit=5, lease_s=60, now=night) == []
        dues = sorted(a.due_at for a in s.scalars(select(Attempt)))
    assert dues == [kst(2026, 9, 22, 9, 0)] * 2  # next morning, never at night
    with factory.begin() as s:
        assert len(outbound.claim_due(s, "w1", limit=5, lease_s=60, now=kst(2026, 9, 22, 9, 0))) == 2
    engine.dispose()


def test_recurring_rounds_every_monday_and_thursday(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rounds.db'}"
    outbound.upgrade(url)
    engine, factory = factory_for(url)
    start = kst(2026, 9, 21, 9, 0)  # Monday
    with factory.begin() as s:
        campaign = outbound.create_campaign(
            s,
            name="안심콜",
            kind="welfare_check",
            status="running",
            schedule=schedule(start_date=start.date(), end_date=date(2026, 10, 12)),
            policy=RetryPolicy(max_attempts=2, delays=(timedelta(hours=1),)),
            recurrence_weekdays="0,3",
        )
        outbound.add_contacts(
            s, campaign, import_contacts("이름,전화번호\n홍길동,010-1111-2222\n".encode()).contacts
        )
        assert outbound.schedule_first_attempts(s, campaign, start) == 1
    rounds = []
    now = start
    for outcome in ("answered", "no_answer", "no_answer", "answered", "answered", "answered"):
        with factory.begin() as s:
            due = s.scalar(select(func.min(Attempt.due_at)).where(Attempt.state == "scheduled"))
            if due is None:
                break
            now = max(now, due)
            (attempt,) = outbound.claim_due(s, "w1", limit=1, lease_s=60, now=now)
            rounds.append((attempt.round_date, attempt.attempt_number))
            outbound.transition(s, attempt.id, "w1", "dialing", now)
            outbound.finish(s, attempt.id, "w1", outcome, now)
    # Chuseok (9/24) and the substitute holiday (10/5) are skipped, not moved; a retry stays in its round.
    assert rounds == [
        (date(2026, 9, 21), 1),
        (date(2026, 9, 28), 1),
        (date(2026, 9, 28), 2),
        (date(2026, 10, 1), 1),
        (date(2026, 10, 8), 1),
        (date(2026, 10, 12), 1),
    ]
    with factory() as s:
        assert [a.kind for a in s.scalars(select(Alert))] == ["unreachable"]  # the 9/28 round
        assert s.scalars(select(CampaignContact)).one().status == "done"  # the last round is over
        assert s.scalar(select(func.count()).select_from(Attempt).where(Attempt.state == "scheduled")) == 0
    engine.dispose()


def test_restarted_worker_releases_what_it_held(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    now = kst(2026, 9, 21, 10, 0)
    seed(url, 3, now)
    engine, factory = factory_for(url)
    with factory.begin() as s:
        a, b, c = (x.id for x in outbound.claim_due(s, "w1", limit=3, lease_s=600, now=now))
        outbound.transition(s, b, "w1", "dialing", now)  # killed during this call
    with factory.begin() as s:
        assert outbound.store.release_own(s, "w1", now + timedelta(seconds=5)) == 3
    with factory.begin() as s:
        dead = s.get(Attempt, b)
        assert dead is not None and dead.state == "completed" and "restarted" in (dead.error or "")
        taken = outbound.claim_due(s, "w1", limit=5, lease_s=600, now=now + timedelta(seconds=5))
        assert sorted(x.id for x in taken) == [a, c]  # no waiting for the 10-minute leases
    engine.dispose()


def test_postgres_channel_limit_holds_across_workers(pg_url: str) -> None:
    now = kst(2026, 9, 21, 10, 0)
    seed(pg_url, 50, now, channel_limit=5)
    engine = outbound.make_engine(pg_url, pool_size=4)
    factory = outbound.session_factory(engine)
    got: list[int] = []
    barrier = threading.Barrier(3)

    def work(worker: str) -> None:
        barrier.wait()
        for _ in range(5):
            with factory.begin() as s:
                got.extend(a.id for a in outbound.claim_due(s, worker, limit=5, lease_s=300, now=now))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(got) == 5 and len(set(got)) == 5
    engine.dispose()


def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import voicebot.chat.schema  # noqa: F401 - its tables (migration 0005) share outbound's metadata
    from outbound.schema import Base

    url = f"sqlite:///{tmp_path / 'schema.db'}"
    outbound.upgrade(url)
    engine = outbound.make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


# --- per-campaign values on the membership (migration 0003) -------------------------------------------


def _notes_move_to_memberships(url: str) -> None:
    """A database at 0002 with notes on the person: every membership gets them (and the date/place values
    in them), nothing is lost, and a downgrade puts the notes back on the person."""
    import sqlalchemy as sa
    from alembic import command

    outbound.upgrade(url, "0002_api_tokens")
    campaigns = sa.table(
        "campaigns",
        *(sa.column(c) for c in ("id", "name", "kind", "status", "weekdays", "windows", "timezone")),
        sa.column("start_date", sa.Date()),
        sa.column("end_date", sa.Date()),
        sa.column("recurrence_every_weeks", sa.Integer()),
        sa.column("skip_holidays", sa.Boolean()),
        *(
            sa.column(c, sa.Integer())
            for c in ("max_attempts", "retry_delay_s", "channel_limit", "pace_per_min")
        ),
        sa.column("created_at", sa.DateTime()),
        sa.column("updated_at", sa.DateTime()),
    )
    contacts = sa.table(
        "contacts",
        sa.column("id", sa.Integer()),
        sa.column("phone_e164"),
        sa.column("name"),
        sa.column("tags", sa.JSON()),
        sa.column("preferred_times"),
        sa.column("notes"),
        sa.column("created_at", sa.DateTime()),
    )
    members = sa.table(
        "campaign_contacts",
        *(sa.column(c, sa.Integer()) for c in ("id", "campaign_id", "contact_id", "attempts_made")),
        sa.column("status"),
        sa.column("notes"),
        sa.column("slots", sa.JSON()),
    )
    stamp = datetime(2026, 11, 1, 0, 0)
    engine = outbound.make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            campaigns.insert(),
            [
                {
                    "id": cid,
                    "name": name,
                    "kind": kind,
                    "status": "draft",
                    "weekdays": "0,1,2,3,4",
                    "windows": "10:00-12:00",
                    "timezone": "Asia/Seoul",
                    "start_date": date(2026, 11, 2),
                    "end_date": date(2026, 11, 30),
                    "recurrence_every_weeks": 1,
                    "skip_holidays": True,
                    "max_attempts": 3,
                    "retry_delay_s": 1800,
                    "channel_limit": 4,
                    "pace_per_min": 30,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for cid, name, kind in ((1, "안심콜", "welfare_check"), (2, "검사 결과", "covid_notice"))
            ],
        )
        conn.execute(
            contacts.insert(),
            [
                {
                    "id": 1,
                    "phone_e164": "+821033330001",
                    "name": "김순자",
                    "tags": [],
                    "preferred_times": "",
                    "notes": "date=11월 25일; place=중구 보건소; result=음성\n당뇨 관리",
                    "created_at": stamp,
                },
                {
                    "id": 2,
                    "phone_e164": "+821033330002",
                    "name": "이영희",
                    "tags": [],
                    "preferred_times": "",
                    "notes": "",
                    "created_at": stamp,
                },
            ],
        )
        conn.execute(
            members.insert(),
            [
                {"id": mid, "campaign_id": cid, "contact_id": pid, "attempts_made": 0, "status": "pending"}
                for mid, cid, pid in ((1, 1, 1), (2, 2, 1), (3, 1, 2))
            ],
        )
    outbound.upgrade(url)
    with engine.connect() as conn:
        got = {
            r.id: (r.notes, r.slots)
            for r in conn.execute(sa.select(members.c.id, members.c.notes, members.c.slots))
        }
        person_columns = {c["name"] for c in sa.inspect(conn).get_columns("contacts")}
    notes = "date=11월 25일; place=중구 보건소; result=음성\n당뇨 관리"
    values = {"date": "11월 25일", "place": "중구 보건소", "result": "음성"}
    assert got == {1: (notes, values), 2: (notes, values), 3: ("", None)}
    assert "notes" not in person_columns
    command.downgrade(outbound.store.alembic_config(url), "0002_api_tokens")
    with engine.connect() as conn:
        back = dict(conn.execute(sa.select(contacts.c.id, contacts.c.notes)).all())
        member_columns = {c["name"] for c in sa.inspect(conn).get_columns("campaign_contacts")}
    assert back == {1: notes, 2: ""}
    assert not {"notes", "slots"} & member_columns
    engine.dispose()


def test_migration_moves_notes_onto_memberships_sqlite(tmp_path: Path) -> None:
    _notes_move_to_memberships(f"sqlite:///{tmp_path / 'notes.db'}")


def test_migration_moves_notes_onto_memberships_postgres(pg_url: str) -> None:
    _notes_move_to_memberships(pg_url)
