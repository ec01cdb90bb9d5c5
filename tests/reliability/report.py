"""Write docs/RELIABILITY.md from a `make reliability` run: the scenario rows the tests recorded (JSON lines) and
the pass counts of the test suites that prove scenarios 5-7 (JUnit XML).

    python tests/reliability/report.py RESULTS.jsonl JUNIT.xml OUT.md
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

# Scenario rows that come from whole test modules (every test is one trial).
SUITES = {
    "5. Hostile input corpus (templates, fields, dates, time zones, grids, CSV bombs, JSON, markup, API fuzzing)": (
        "test_hostile_api_input", "test_hostile_markup_in_browser", "test_dashboard_hostile_input",
        "test_schemathesis",
    ),
    "6. Access control (every endpoint and page x every role x own/other workspace, and moves)": (
        "test_api_roles", "test_api_isolation", "test_api_memberships", "test_api_invitations", "test_api_moves",
        "test_dashboard_moves", "test_dashboard_permissions", "test_dashboard_role_pages", "test_dashboard_invitations",
        "test_roles",
    ),
    "7. Secrets (encryption at rest, key rotation, no leaks, deploy check, headers, login throttle)": (
        "test_secrets_at_rest", "test_key_rotation", "test_security", "test_deploy_check", "test_login_throttle",
        "test_shared_throttle",
    ),
}
# Scenario rows the reliability tests record themselves; a test that fails before recording leaves a hole.
RECORDED = {
    "1.": "Render worker loss", "2.": "Publisher loss", "3.": "Infrastructure restarts", "4.": "X faults",
    "8a.": "Load: wrk", "8b.": "Load: 10,000 posts due in the same minute",
    "9.": "Scale-out: four hosts, a GPU host lost",
}
ORDER = ("1.", "2.", "3.", "4.", "5.", "6.", "7.", "8a.", "8b.", "9.")


def failed_tests(junit: Path) -> list[str]:
    # Our own pytest wrote this file a moment ago.
    cases = ET.parse(junit).getroot().iter("testcase") if junit.exists() else []  # noqa: S314
    return [f"{case.get('classname', '?').rsplit('.', 1)[-1]}::{case.get('name', '?')}" for case in cases
            if case.find("failure") is not None or case.find("error") is not None]


def missing_rows(rows: list[dict], failed: list[str]) -> list[dict]:
    """A row saying so for every recorded scenario with no result: its test failed (or never ran)."""
    have = {prefix for prefix in RECORDED for r in rows if r["scenario"].startswith(prefix)}
    why = f"no result recorded; failed tests: {', '.join(failed[:5])}" if failed else "no result recorded"
    return [{"scenario": f"{prefix} {name}", "trials": 0, "passed": 0, "duplicates": "-", "lost": "-",
             "stuck": "-", "notes": why} for prefix, name in RECORDED.items() if prefix not in have]


def suite_rows(junit: Path) -> list[dict]:
    # Our own pytest wrote this file a moment ago.
    cases = ET.parse(junit).getroot().iter("testcase") if junit.exists() else []  # noqa: S314
    counts = {name: [0, 0, []] for name in SUITES}
    for case in cases:
        module = case.get("classname", "").rsplit(".", 1)[-1]
        for name, modules in SUITES.items():
            if module in modules:
                bad = case.find("failure") is not None or case.find("error") is not None
                skipped = case.find("skipped") is not None
                if skipped:
                    continue
                counts[name][0] += 1
                counts[name][1] += not bad
                if bad:
                    counts[name][2].append(case.get("name", "?"))
    return [{"scenario": name, "trials": total, "passed": passed, "duplicates": "-", "lost": "-",
             "stuck": "-", "notes": f"{total} tests" + (f"; failed: {', '.join(failed[:5])}" if failed else "")}
            for name, (total, passed, failed) in counts.items()]


def main(results: Path, junit: Path, out: Path) -> int:
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()] if results.exists() else []
    rows += suite_rows(junit)
    failed = failed_tests(junit)
    rows += missing_rows(rows, failed)
    rows.sort(key=lambda r: next((i for i, p in enumerate(ORDER) if r["scenario"].startswith(p)), 99))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Reliability and security: measured",
        "",
        f"Written by `make reliability` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit `{commit}`, "
        f"{platform.machine()} with {_cores()} CPU cores, PostgreSQL and Redis on 127.0.0.1, the X sandbox on "
        "127.0.0.1. Every scenario starts real processes (Celery workers, beat, the web server, the sandbox) and "
        "stops by itself; the tests are in `tests/reliability/`, `tests/hostile/` and the suites named below. "
        "`make test` runs the short version of scenarios 1, 2, 5 and 6.",
        "",
        "| scenario | trials | passed | duplicates | lost | stuck | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        notes = r["notes"] + (" (short run)" if r.get("mode") == "short" else "")
        cells = [r["scenario"], r["trials"], r["passed"], r["duplicates"], r["lost"], r["stuck"], notes]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    failing = [r["scenario"] for r in rows if r["passed"] != r["trials"] or not r["trials"]]
    failing += [f"test {name}" for name in failed if not any(name.split("::")[-1] in r["notes"] for r in rows)]
    lines += ["", f"**Result: {'all scenarios passed' if not failing else 'FAILING: ' + '; '.join(failing)}.**", ""]
    lines += [Path(__file__).with_name("SCENARIOS.md").read_text()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}: {len(rows)} scenarios, {len(failing)} failing")
    return 1 if failing else 0


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
