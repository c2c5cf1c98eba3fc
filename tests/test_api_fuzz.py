"""Schemathesis against a real `voicebot serve` (issue 17): every documented operation is sent generated
valid and invalid input with a fixed seed and a bounded number of examples; any server error, any status
or content type the OpenAPI document does not list, any response body that breaks its schema, and any
invalid input that is accepted fail the test.

Not checked: "schema-valid input accepted" (schemathesis's positive_data_acceptance): the service refuses,
with a 422 and the reason, what a JSON schema cannot say (a window like 22:00-02:00, an end date before the
start, a script value the campaign's script does not use, a zip that is no voice pack).
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from benchmarks.serving import serving

ST = Path(sys.executable).with_name("st")  # schemathesis's command, installed with the dev extra

CONFIG = """
[checks.negative_data_rejection]
# 413: a body over the route's limit is refused before it is parsed (also a rejection).
expected-statuses = ["400", "401", "403", "404", "409", "413", "422", "429"]
"""

SERVE = """
sip: {enabled: false}
webrtc: {enabled: true, max_calls: 2}
outbound: {enabled: false}
callbacks: {enabled: true}  # its routes exist only when it is on
# schemathesis sends wrong tokens on purpose (ignored_auth): keep its own address from being locked out
security: {login_max_failures: 1000}
"""

EXAMPLES = 25  # per operation and phase; about 2,500 requests in all


def seed(url: str, admin: dict[str, str]) -> None:
    """Something for the generated ids to find: a campaign with two people, a chat."""
    start = date.today() + timedelta(days=1)
    with httpx.Client(base_url=url, headers=admin, timeout=30) as http:
        body = {
            "name": "퍼징 안심콜",
            "kind": "welfare_check",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=14)).isoformat(),
        }
        campaign = http.post("/api/campaigns", json=body)
        assert campaign.status_code == 201, campaign.text
        people = "이름,전화번호\n김순자,010-1111-0001\n이영희,010-1111-0002\n".encode()
        imported = http.post(f"/api/campaigns/{campaign.json()['id']}/contacts", content=people)
        assert imported.status_code == 200, imported.text
        assert http.post("/api/chat/start").status_code == 201


@pytest.mark.skipif(not ST.exists(), reason="schemathesis is not installed (pip install -e '.[dev]')")
def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    (tmp_path / "schemathesis.toml").write_text(CONFIG, encoding="utf-8")
    with serving(tmp_path, SERVE) as served:
        seed(served.url, served.admin)
        run = subprocess.run(
            [
                str(ST),
                "--config-file",
                str(tmp_path / "schemathesis.toml"),
                "--no-color",
                "run",
                f"{served.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {served.admin_token}",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                "20261205",
                "--phases",
                "examples,fuzzing,stateful",
                # Revoking the fuzzer's own admin token would leave it nothing to test with; revocation
                # has its own tests (test_outbound_api, test_hardening).
                "--exclude-path-regex",
                r"^/api/tokens/\{",
                "--report",
                "junit",
                "--report-dir",
                str(tmp_path / "report"),
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            cwd=tmp_path,
        )
        log = served.log.read_text()
    summary = run.stdout[-6000:]
    assert run.returncode == 0, summary
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested and int(tested.group(1)) >= 50, summary  # every documented operation was reached
    assert "Traceback" not in log and '"level": "error"' not in log, log[-4000:]
