"""schemathesis against /api/schema/ on a live server: no 5xx, and every response keeps to the schema.

`make test` runs the fuzzing phase with a few examples per operation (about a minute). For a deeper run, e.g.
before a release: SCHEMATHESIS_PHASES=examples,coverage,fuzzing SCHEMATHESIS_MAX_EXAMPLES=100 (several minutes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from accounts.models import Role
from generation import services
from tests.factories import CaptionTemplateFactory, MembershipFactory
from tests.worlds import add_comment, add_experiment, build_world

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.slow
def test_the_api_keeps_to_its_schema_under_generated_requests(live_server, monkeypatch, tmp_path):
    if not SCHEMATHESIS.exists():
        pytest.fail("schemathesis is not installed: pip install -e '.[dev]'")
    # Batches are created for real, but nothing reaches the render queue from this test.
    monkeypatch.setattr(services, "enqueue_renders", lambda ids: None)
    world = build_world()
    build_world()  # another workspace's data, which must never show up
    CaptionTemplateFactory(campaign=world.campaign, body="Second caption {colour}")
    owner = MembershipFactory(workspace=world.workspace, role=Role.OWNER).user
    add_experiment(world)  # the experiment, clip-note, notification and audit routes get real rows to act on
    add_comment(world)  # by a reviewer: the owner gets a notification
    token = Token.objects.create(user=owner)

    run = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{live_server.url}/api/schema/", "--checks", CHECKS,
         "--phases", os.environ.get("SCHEMATHESIS_PHASES", "examples,fuzzing"),
         "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"),
         "--seed", os.environ.get("SCHEMATHESIS_SEED", "1"), "--workers", "2",
         "--header", f"Authorization: Token {token.key}", "--request-timeout", "30",
         "--report-dir", str(tmp_path), "--no-color"],
        capture_output=True, text=True, timeout=900,
    )

    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
