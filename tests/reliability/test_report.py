"""docs/RELIABILITY.md must never say "all passed" about a run in which a scenario's test died before recording."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reliability.report import RECORDED, main

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.reliability.test_render_worker_loss" name="test_killed_and_hung">{failure}</testcase>
<testcase classname="tests.hostile.test_hostile_api_input" name="test_nul_bytes"/>
<testcase classname="tests.api.test_api_roles" name="test_viewer_cannot_create"/>
<testcase classname="tests.clipcast.test_security" name="test_login_is_throttled"/>
</testsuite></testsuites>"""


def write_run(tmp_path: Path, prefixes, failure: str = "") -> tuple[Path, Path]:
    results, junit = tmp_path / "results.jsonl", tmp_path / "junit.xml"
    rows = [{"scenario": f"{p} {RECORDED[p]}", "trials": 5, "passed": 5, "duplicates": 0, "lost": 0, "stuck": 0,
             "notes": "measured"} for p in prefixes]
    results.write_text("".join(json.dumps(row) + "\n" for row in rows))
    junit.write_text(JUNIT.format(failure=failure))
    return results, junit


def test_a_scenario_whose_test_failed_before_recording_is_reported_failing(tmp_path):
    results, junit = write_run(tmp_path, [p for p in RECORDED if p != "1."], failure='<failure message="stuck"/>')
    out = tmp_path / "RELIABILITY.md"
    assert main(results, junit, out) == 1
    text = out.read_text()
    assert "| 1. Render worker loss | 0 | 0 |" in text
    assert "no result recorded; failed tests: test_render_worker_loss::test_killed_and_hung" in text
    assert "**Result: FAILING: 1. Render worker loss" in text


def test_a_failed_test_fails_the_report_even_when_its_row_was_recorded(tmp_path):
    results, junit = write_run(tmp_path, list(RECORDED), failure='<failure message="late assert"/>')
    out = tmp_path / "RELIABILITY.md"
    assert main(results, junit, out) == 1
    assert "FAILING: test test_render_worker_loss::test_killed_and_hung" in out.read_text()


def test_a_clean_run_with_every_scenario_passes(tmp_path):
    results, junit = write_run(tmp_path, list(RECORDED))
    out = tmp_path / "RELIABILITY.md"
    assert main(results, junit, out) == 0
    assert "**Result: all scenarios passed.**" in out.read_text()
