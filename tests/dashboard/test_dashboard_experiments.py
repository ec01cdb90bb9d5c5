"""Experiments in the dashboard: start from a campaign, fill slots, decide, stop; by role; bad input; isolation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from publishing import experiments
from publishing.models import Experiment, ExperimentStatus, Post
from tests.api.test_api_experiments import with_grid

pytestmark = pytest.mark.django_db


def test_an_editor_starts_an_experiment_and_fills_slots_with_its_variants(editor, mine):
    with_grid(mine)
    campaign_page = editor.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    assert reverse("dashboard:experiment_create", args=[mine.campaign.pk]) in campaign_page

    response = editor.post(reverse("dashboard:experiment_create", args=[mine.campaign.pk]), {
        "prompt_template": mine.template.pk, "x_account": mine.account.pk, "name": "Colour test",
        "min_impressions": 300})
    experiment = Experiment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:experiment",
                                                                            args=[experiment.pk])
    filled = editor.post(reverse("dashboard:experiment_fill", args=[experiment.pk]), {"count": 2}, follow=True)
    body = filled.content.decode()
    assert "Scheduled 2 posts of the experiment" in body
    assert experiment.posts.count() == 2
    assert 'data-variant="colour=blue, shape=square"' in body and 'data-variant="colour=red, shape=circle"' in body
    assert "No metrics yet" in body

    early = editor.post(reverse("dashboard:experiment_decide", args=[experiment.pk]), follow=True)
    assert "No metrics yet" in early.content.decode()
    editor.post(reverse("dashboard:experiment_stop", args=[experiment.pk]))
    assert Experiment.objects.get().status == ExperimentStatus.STOPPED


@pytest.mark.parametrize("data, message", [
    ({"min_impressions": 0}, "greater than or equal to 1"),
    ({"min_impressions": "lots"}, "Enter a whole number"),
    ({"decide_at": "next tuesday"}, "Enter a date and time"),
    ({"decide_at": "2001-01-01T10:00"}, "in the past"),
    ({"prompt_template": 10**9}, "Select a valid choice"),
])
def test_bad_input_is_a_400_form_that_says_why(editor, mine, data, message):
    with_grid(mine)
    form = {"prompt_template": mine.template.pk, "x_account": mine.account.pk, "min_impressions": 100, **data}
    response = editor.post(reverse("dashboard:experiment_create", args=[mine.campaign.pk]), form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Experiment.objects.exists()


def test_a_bad_fill_count_is_a_400_page_not_a_crash(editor, mine):
    with_grid(mine)
    experiment = experiments.start_experiment(mine.template, mine.account)
    response = editor.post(reverse("dashboard:experiment_fill", args=[experiment.pk]), {"count": 9999})
    assert response.status_code == 400 and "less than or equal to 50" in response.content.decode()
    assert not Post.objects.filter(experiment=experiment).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REVIEWER])
def test_viewers_and_reviewers_read_the_experiment_but_change_nothing(login_as, mine, role):
    with_grid(mine)
    experiment = experiments.start_experiment(mine.template, mine.account)
    client = login_as(role)
    page = client.get(reverse("dashboard:experiment", args=[experiment.pk]))
    assert page.status_code == 200 and 'id="fill-slots"' not in page.content.decode()
    assert client.get(reverse("dashboard:experiments")).status_code == 200
    assert client.get(reverse("dashboard:experiment_create", args=[mine.campaign.pk])).status_code == 403
    for name in ("experiment_fill", "experiment_decide", "experiment_stop"):
        assert client.post(reverse(f"dashboard:{name}", args=[experiment.pk]), {"count": 1}).status_code == 403
    assert Experiment.objects.get().status == ExperimentStatus.RUNNING and not experiment.posts.exists()


def test_another_workspaces_experiment_is_404_and_its_account_is_not_offered(owner, mine, theirs):
    with_grid(theirs)
    theirs_experiment = experiments.start_experiment(theirs.template, theirs.account)
    for name in ("experiment", "experiment_fill", "experiment_decide", "experiment_stop"):
        method = owner.get if name == "experiment" else owner.post
        assert method(reverse(f"dashboard:{name}", args=[theirs_experiment.pk])).status_code == 404, name
    assert owner.get(reverse("dashboard:experiment_create", args=[theirs.campaign.pk])).status_code == 404
    assert theirs_experiment.name not in owner.get(reverse("dashboard:experiments")).content.decode()
    with_grid(mine)
    response = owner.post(reverse("dashboard:experiment_create", args=[mine.campaign.pk]), {
        "prompt_template": mine.template.pk, "x_account": theirs.account.pk, "min_impressions": 10})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
