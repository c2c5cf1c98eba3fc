"""Outbound call service: contacts, campaigns, scheduling and claiming of call attempts.

Public interface::

    from outbound import parse_phone, normalize_phone, mask_phone, mask_name, PhoneError
    from outbound import import_contacts, load_do_not_call, ImportResult, CsvFormatError
    from outbound import TimeWindow, parse_windows, Schedule, RetryPolicy, next_allowed_time, next_retry
    from outbound import make_engine, upgrade, claim_due, transition, finish, recover_expired
    from outbound.retention import RetentionSettings, purge_outbound   # periods per kind (issue 17)
    from outbound.audit import record, list_events, AuditFilter, ACTIONS  # append-only audit log (issue 17)
    from outbound.callbacks import BusinessHours, free_slots, book, dial_due  # call-backs (issue 18)

Names and phone numbers never go to logs in clear: use :func:`mask_phone` / :func:`mask_name`.
"""

from outbound import kb_versions  # noqa: F401 - its table (migration 0013) joins the metadata
from outbound.callbacks import BusinessHours, Callback
from outbound.contacts import (
    Contact,
    CsvFormatError,
    ImportResult,
    RowIssue,
    import_contacts,
    load_do_not_call,
)
from outbound.holidays_kr import holiday_names, holidays_for, korean_holidays
from outbound.phones import (
    PhoneError,
    PhoneNumber,
    is_valid_phone,
    mask_name,
    mask_phone,
    normalize_phone,
    parse_phone,
)
from outbound.scheduler import (
    RetryPolicy,
    Schedule,
    ScheduleError,
    in_window,
    next_allowed_time,
    next_retry,
    parse_weekdays,
    recurrence_dates,
)
from outbound.schema import TRANSITIONS, InvalidTransition, check_transition
from outbound.store import (
    DEFAULT_URL,
    LeaseLost,
    acknowledge_alert,
    add_contacts,
    add_do_not_call,
    claim_due,
    create_campaign,
    finish,
    make_engine,
    recover_expired,
    renew_leases,
    schedule_first_attempts,
    session_factory,
    transition,
    upgrade,
)
from outbound.timewindows import TimeWindow, WindowError, parse_window, parse_windows

__all__ = [
    "DEFAULT_URL",
    "BusinessHours",
    "Callback",
    "holiday_names",
    "TRANSITIONS",
    "Contact",
    "CsvFormatError",
    "ImportResult",
    "InvalidTransition",
    "LeaseLost",
    "PhoneError",
    "PhoneNumber",
    "RetryPolicy",
    "RowIssue",
    "Schedule",
    "ScheduleError",
    "TimeWindow",
    "WindowError",
    "acknowledge_alert",
    "add_contacts",
    "add_do_not_call",
    "check_transition",
    "claim_due",
    "create_campaign",
    "finish",
    "holidays_for",
    "import_contacts",
    "in_window",
    "is_valid_phone",
    "korean_holidays",
    "load_do_not_call",
    "make_engine",
    "mask_name",
    "mask_phone",
    "next_allowed_time",
    "next_retry",
    "normalize_phone",
    "parse_phone",
    "parse_weekdays",
    "parse_window",
    "parse_windows",
    "recover_expired",
    "recurrence_dates",
    "renew_leases",
    "schedule_first_attempts",
    "session_factory",
    "transition",
    "upgrade",
]
