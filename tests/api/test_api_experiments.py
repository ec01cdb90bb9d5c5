"""/api/experiments/: start, fill, decide and stop by role; another workspace's experiments are 404."""

from __future__ import annotations

from datetime import time as clock

import pytest

from accounts.models import Role
from campaigns.models import PostingSlot
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing import experiments
from publishing.models import Experiment, ExperimentStatus

pytestmark = pytest.mark.django_db


def with_grid(world) -> None:
    """A second approved variant (blue square) beside the world's red circle, and a daily slot."""
    Clip.objects.create(campaign=world.campaign, prompt_template=world.template, prompt="a blue square", seed=7,
                        variables={"colour": "blue", "shape": "square"}, status=ClipStatus.SUCCEEDED,
                        review_status=ReviewStatus.APPROVED)
    for weekday in range(7):
        PostingSlot.objects.create(campaign=world.campaign, weekday=weekday, local_time=clock(10))


def start(client, world):
    return client.post("/api/experiments/", {"prompt_template": world.template.pk, "x_account": world.account.pk,
                                             "min_impressions": 500}, format="json")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REVIEWER])
def test_readers_and_reviewers_cannot_start_or_fill_an_experiment(api_as, mine, role):
    with_grid(mine)
    assert start(api_as(role), mine).status_code == 403
    experiment = experiments.start_experiment(mine.template, mine.account)
    client = api_as(role)
    for action in ("fill", "decide", "stop"):
        response = client.post(f"/api/experiments/{experiment.pk}/{action}/", {}, format="json")
        assert response.status_code == 403, action
    assert client.get(f"/api/experiments/{experiment.pk}/").status_code == 200
    assert Experiment.objects.get().status == ExperimentStatus.RUNNING and not experiment.posts.exists()


def test_an_editor_starts_fills_and_stops_an_experiment(api_as, mine):
    with_grid(mine)
    client = api_as(Role.EDITOR)
    created = start(client, mine)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "running" and body["campaign"] == mine.campaign.pk
    assert sorted(v["label"] for v in body["variants"]) == ["colour=blue, shape=square", "colour=red, shape=circle"]

    filled = client.post(f"/api/experiments/{body['id']}/fill/", {"count": 2}, format="json")
    assert filled.status_code == 201, filled.content
    assert len({post["clip"] for post in filled.json()}) == 2, "one post per variant"

    early = client.post(f"/api/experiments/{body['id']}/decide/", {}, format="json")
    assert early.status_code == 400 and "No metrics yet" in early.json()[0]

    assert client.post(f"/api/experiments/{body['id']}/stop/", {}, format="json").json()["status"] == "stopped"
    again = client.post(f"/api/experiments/{body['id']}/stop/", {}, format="json")
    assert again.status_code == 400 and "Only a running experiment" in again.json()[0]
    refused = client.post(f"/api/experiments/{body['id']}/fill/", {"count": 1}, format="json")
    assert refused.status_code == 400 and "stopped" in refused.json()[0]


@pytest.mark.parametrize("payload, message", [
    ({"count": 0}, "greater than or equal to 1"),
    ({"count": 51}, "less than or equal to 50"),
    ({"count": "many"}, "valid integer"),
])
def test_bad_fill_counts_are_400s_that_say_why(api_as, mine, payload, message):
    with_grid(mine)
    experiment = experiments.start_experiment(mine.template, mine.account)
    response = api_as(Role.EDITOR).post(f"/api/experiments/{experiment.pk}/fill/", payload, format="json")
    assert response.status_code == 400 and message in response.content.decode()


def test_a_template_with_one_variant_is_refused_with_what_to_do(api_as, mine):
    response = start(api_as(Role.EDITOR), mine)
    assert response.status_code == 400
    assert "at least two variants" in response.json()[0]


def test_another_workspaces_experiment_is_404_and_cannot_be_started_there(api_as, mine, theirs):
    with_grid(theirs)
    theirs_experiment = experiments.start_experiment(theirs.template, theirs.account)
    client = api_as(Role.OWNER)
    for method, path in [("get", f"/api/experiments/{theirs_experiment.pk}/"),
                         ("post", f"/api/experiments/{theirs_experiment.pk}/fill/"),
                         ("post", f"/api/experiments/{theirs_experiment.pk}/decide/"),
                         ("post", f"/api/experiments/{theirs_experiment.pk}/stop/")]:
        assert getattr(client, method)(path, {}, format="json").status_code == 404, path
    assert client.get("/api/experiments/").json()["results"] == []
    assert start(client, theirs).status_code == 400
    mixed = client.post("/api/experiments/", {"prompt_template": mine.template.pk, "x_account": theirs.account.pk},
                        format="json")
    assert mixed.status_code == 400 and theirs.account.handle not in mixed.content.decode()


def test_each_experiment_action_writes_one_audit_event(api_as, mine):
    from accounts.models import AuditEvent

    with_grid(mine)
    client = api_as(Role.EDITOR)
    body = start(client, mine).json()
    started = AuditEvent.objects.filter(object_type="publishing.experiment")
    assert [(e.action, e.object_id) for e in started] == [("created", str(body["id"]))]
    client.post(f"/api/experiments/{body['id']}/stop/", {}, format="json")
    client.post(f"/api/experiments/{body['id']}/stop/", {}, format="json")  # refused: no second event
    assert sorted(started.values_list("action", flat=True)) == ["created", "stopped"]
