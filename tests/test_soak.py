"""The soak benchmark, run briefly: mixed load on a real `voicebot serve` loses nothing and errs nowhere.
How long it holds up (memory, descriptors, latency over 20 minutes) is the benchmark's to print, not a
test's to assert."""

from __future__ import annotations

import shutil

from benchmarks import soak


def test_a_short_soak_completes_every_call_chat_and_request() -> None:
    result = soak.run(seconds=20, warmup=10, calls_at_once=1, api_per_s=2, people=10)
    assert result["api_errors"] == 0 and result["chat_errors"] == 0, result["per_minute"]
    assert result["chats"] >= 3
    assert result["server_error_lines"] == 0, result["server_error_examples"]
    if shutil.which("sipp"):
        assert result["inbound_calls_failed"] == 0 and result["inbound_calls_ok"] >= 1, result["per_minute"]
        assert result["inbound_logged"] == result["inbound_calls_ok"]  # every call finished and was logged
    assert result["outbound"]["progress"]["attempts"].get("completed", 0) >= 1
    assert result["server_end"]["open_fds"] < 200
