"""A/B experiments: variants in rotation into the campaign's slots, metrics read back from the X sandbox, a
Beta-binomial winner, then the winner's neighbours in the grid. The publisher runs in this process."""

from __future__ import annotations

from datetime import time as clock
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils import timezone

from campaigns.models import PostingSlot
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing import experiments, publisher
from publishing.metrics_refresh import refresh_recent
from publishing.models import Experiment, ExperimentStatus, Post, PostStatus
from publishing.tasks import refresh_metrics
from tests.factories import CaptionTemplateFactory, PromptTemplateFactory
from tests.publishing.test_publish_worker import connected_account, x_env  # noqa: F401

pytestmark = pytest.mark.django_db

GRID = {"colour": ["red", "green", "blue"], "shape": ["circle", "square"]}


def test_probability_best_is_a_fair_coin_for_equal_counts_and_sure_for_a_clear_winner():
    even = experiments.probability_best([(40, 1000), (40, 1000)])
    assert abs(even[0] - 0.5) < 0.03 and abs(sum(even) - 1) < 1e-9
    clear = experiments.probability_best([(10, 1000), (60, 1000), (12, 1000)])
    assert clear[1] > 0.99
    assert experiments.probability_best([(10, 1000), (60, 1000)]) == experiments.probability_best(
        [(10, 1000), (60, 1000)]), "a fixed seed: the same counts give the same confidence"
    few = experiments.probability_best([(1, 10), (2, 10)])
    assert 0.5 < few[1] < 0.9, "ten impressions each are not proof"


def test_neighbours_move_one_variable_to_the_next_value_in_its_list():
    template = PromptTemplateFactory(body="a {colour} {shape}", variables=GRID)
    found = experiments.neighbours(template, {"colour": "green", "shape": "circle"})
    assert found == [
        {"colour": "red", "shape": "circle"}, {"colour": "blue", "shape": "circle"},
        {"colour": "green", "shape": "square"},
    ]
    assert experiments.neighbours(template, {"colour": "red", "shape": "square"}) == [
        {"colour": "green", "shape": "square"}, {"colour": "red", "shape": "circle"}]


def grid_campaign(make_video=None, colours=("red", "blue")):
    template = PromptTemplateFactory(body="a {colour} {shape} moving left on a black background", variables=GRID)
    campaign = template.campaign
    for name in ("A", "B"):
        CaptionTemplateFactory(campaign=campaign, name=name, body=f"Take {name}: a {{colour}} {{shape}}!",
                               hashtags="")
    for weekday in range(7):
        for hour in (9, 13, 18):
            PostingSlot.objects.create(campaign=campaign, weekday=weekday, local_time=clock(hour))
    for seed, colour in enumerate(colours, start=1):
        clip = Clip.objects.create(
            campaign=campaign, prompt_template=template, prompt=f"a {colour} circle", seed=seed,
            variables={"colour": colour, "shape": "circle"}, status=ClipStatus.SUCCEEDED,
            review_status=ReviewStatus.APPROVED)
        if make_video is not None:
            with open(make_video(seconds=1.0), "rb") as handle:
                clip.video.save("clip.mp4", File(handle))
    return template


def test_an_experiment_needs_two_approved_variants_an_account_of_the_workspace_and_one_at_a_time(mine, theirs):
    template = grid_campaign(colours=("red",))
    account = mine.account
    template.campaign.workspace = mine.workspace
    template.campaign.save()
    with pytest.raises(ValidationError, match="at least two variants"):
        experiments.start_experiment(template, account)
    Clip.objects.create(campaign=template.campaign, prompt_template=template, prompt="a blue circle", seed=9,
                        variables={"colour": "blue", "shape": "circle"}, status=ClipStatus.SUCCEEDED,
                        review_status=ReviewStatus.APPROVED)
    with pytest.raises(ValidationError, match="another workspace"):
        experiments.start_experiment(template, theirs.account)
    experiment = experiments.start_experiment(template, account)
    assert experiment.status == ExperimentStatus.RUNNING
    with pytest.raises(ValidationError, match="already has a running experiment"):
        experiments.start_experiment(template, account)
    assert Experiment.objects.count() == 1


def test_fill_puts_variants_in_rotation_into_the_campaigns_slots_with_captions_x_accepts(mine):
    template = grid_campaign()
    template.campaign.workspace = mine.workspace
    template.campaign.save()
    experiment = experiments.start_experiment(template, mine.account)

    posts = experiments.fill_slots(experiment, 4)

    colours = [p.clip.variables["colour"] for p in posts]
    assert sorted(colours) == ["blue", "blue", "red", "red"] and colours[0] != colours[1] != colours[2]
    assert len({p.caption for p in posts}) == 4, "X refuses the same text twice: each post has its own caption"
    assert all(p.experiment_id == experiment.pk and p.status == PostStatus.SCHEDULED for p in posts)
    assert [p.scheduled_at for p in posts] == sorted(p.scheduled_at for p in posts)
    assert len({p.scheduled_at for p in posts}) == 4, "one post per slot"
    with pytest.raises(ValidationError, match="add a caption template"):
        experiments.fill_slots(experiment, 1)  # two variants x two caption templates are used up


def publish_all(posts, sandbox=None, age: timedelta = timedelta(hours=1)) -> None:
    """Publish in this process, then make the posts `age` old on X (impressions grow with a post's age)."""
    for post in posts:
        post.__class__.objects.filter(pk=post.pk).update(status=PostStatus.UPLOADING)
        for _ in range(5):
            try:
                assert publisher.publish(post.pk) == PostStatus.POSTED
                break
            except publisher.RetryLater:
                continue
        if sandbox is not None:
            x_id = post.__class__.objects.get(pk=post.pk).x_post_id
            with sandbox.server.sandbox.store.tx() as db:
                db.execute("UPDATE posts SET created_at = created_at - ? WHERE id = ?", (age.total_seconds(), x_id))


@pytest.mark.slow
def test_the_sandbox_audience_picks_the_winner_and_the_slots_go_to_its_neighbours(sandbox, x_env,  # noqa: F811
                                                                                  make_video):
    template = grid_campaign(make_video, colours=("red", "blue"))
    account = connected_account(sandbox, template.campaign.workspace)
    experiment = experiments.start_experiment(template, account, min_impressions=2000)
    posts = experiments.fill_slots(experiment, 2)
    publish_all(posts, sandbox)  # an hour old: 10,800 impressions each at the sandbox's 3 a second
    sandbox.audience(rules=[{"text_contains": "blue", "like_rate": 0.12}], like_rate=0.03)

    refresh_metrics()  # the periodic task: metrics, then the stop rule

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DECIDED
    assert experiment.winner_variables == {"colour": "blue", "shape": "circle"}
    assert experiment.confidence > 0.99
    variants = {v.variables["colour"]: v for v in experiments.variants_of(experiment)}
    assert variants["blue"].rate > 2 * variants["red"].rate
    # The neighbours of blue circle (green circle, blue square) are rendered for review.
    neighbours = Clip.objects.filter(prompt_template=template, status=ClipStatus.QUEUED)
    assert sorted(c.prompt for c in neighbours) == [
        "a blue square moving left on a black background", "a green circle moving left on a black background"]
    # Until a neighbour is approved, further slots go to the winner itself.
    assert experiments.fill_slots(experiment, 1)[0].clip.variables["colour"] == "blue"
    green = neighbours.get(variables__colour="green")
    Clip.objects.filter(pk=green.pk).update(status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED)
    assert experiments.fill_slots(experiment, 1)[0].clip_id == green.pk


def test_the_stop_rule_waits_for_impressions_on_every_variant(sandbox, x_env, make_video):  # noqa: F811
    template = grid_campaign(make_video)
    account = connected_account(sandbox, template.campaign.workspace)
    experiment = experiments.start_experiment(template, account, min_impressions=10**9)
    publish_all(experiments.fill_slots(experiment, 1))  # only one variant is out
    assert refresh_recent() == 1
    assert experiments.evaluate(experiment, force=True) is False
    assert "No metrics yet" in experiments.why_not_decidable(experiment)
    publish_all(experiments.fill_slots(experiment, 1))
    refresh_recent()
    assert experiments.evaluate(experiment) is False, "far from a billion impressions"
    Experiment.objects.filter(pk=experiment.pk).update(decide_at=timezone.now() - timedelta(seconds=1))
    experiment.refresh_from_db()
    assert experiments.evaluate(experiment) is True, "the time to decide by has come"


@pytest.mark.django_db
def test_clips_still_queued_or_rendering_are_not_variants_until_rendered_and_approved(mine):
    from tests.worlds import add_experiment, make_clip

    # Given a template with one approved variant (red circle) and a blue square still queued
    make_clip(mine.campaign, mine.template, seed=8, variables={"colour": "blue", "shape": "square"})
    PostingSlot.objects.create(campaign=mine.campaign, weekday=0, local_time=clock(10))
    # Then it has no second variant to test
    with pytest.raises(ValidationError, match="it has 1"):
        experiments.start_experiment(mine.template, mine.account)

    # And in a running experiment, filling slots only ever posts rendered, approved clips (the world's red circle
    # also has a rendering and a queued clip)
    experiment = add_experiment(mine)
    posts = experiments.fill_slots(experiment, 6)
    assert posts and all(p.clip.status == ClipStatus.SUCCEEDED and p.clip.review_status == ReviewStatus.APPROVED
                         for p in posts), [(p.clip.status, p.clip.review_status) for p in posts]


@pytest.mark.django_db
def test_filling_when_no_variant_has_a_clip_left_says_so_not_that_captions_ran_out(mine):
    from tests.worlds import add_experiment

    experiment = add_experiment(mine)
    Clip.objects.filter(prompt_template=mine.template).update(review_status=ReviewStatus.REJECTED)

    with pytest.raises(ValidationError, match="No variant has a rendered, approved clip left to post"):
        experiments.fill_slots(experiment, 2)
    assert not experiment.posts.exists()


@pytest.mark.django_db
def test_archiving_a_campaign_stops_its_running_experiments(mine, editor):
    from django.urls import reverse

    from accounts.models import AuditEvent
    from tests.worlds import add_experiment

    experiment = add_experiment(mine)
    experiments.fill_slots(experiment, 2)

    assert editor.post(reverse("dashboard:campaign_archive", args=[mine.campaign.pk])).status_code == 302

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.STOPPED
    assert not experiment.posts.filter(status=PostStatus.SCHEDULED).exists()
    assert not experiments.evaluate(experiment, force=True)
    with pytest.raises(ValidationError, match="stopped"):
        experiments.fill_slots(experiment, 1)
    event = AuditEvent.objects.get(object_type="publishing.experiment", action="stopped")
    assert event.changes["because"] == [None, "campaign archived"]


@pytest.mark.django_db
def test_an_archived_campaign_starts_no_experiment(mine, editor):
    from django.urls import reverse

    from tests.worlds import add_experiment

    add_experiment(mine)
    Experiment.objects.update(status=ExperimentStatus.STOPPED)
    mine.campaign.archive()
    with pytest.raises(ValidationError, match="is archived: make it active again"):
        experiments.start_experiment(mine.template, mine.account)
    response = editor.post(reverse("dashboard:experiment_create", args=[mine.campaign.pk]),
                           {"prompt_template": mine.template.pk, "x_account": mine.account.pk, "min_impressions": "10"})
    assert response.status_code == 400 and "is archived" in response.content.decode()
    assert not Experiment.objects.filter(status=ExperimentStatus.RUNNING).exists()


@pytest.mark.django_db
def test_archiving_through_the_api_cancels_scheduled_posts_and_stops_experiments_like_the_dashboard(mine):
    from rest_framework.test import APIClient

    from accounts.models import Role
    from tests.factories import MembershipFactory
    from tests.worlds import add_experiment

    experiment = add_experiment(mine)
    experiments.fill_slots(experiment, 2)
    client = APIClient()
    client.force_authenticate(MembershipFactory(workspace=mine.workspace, role=Role.EDITOR).user)

    assert client.delete(f"/api/campaigns/{mine.campaign.pk}/").status_code == 204

    mine.campaign.refresh_from_db()
    experiment.refresh_from_db()
    assert mine.campaign.status == "archived" and experiment.status == ExperimentStatus.STOPPED
    assert not Post.objects.filter(clip__campaign=mine.campaign, status=PostStatus.SCHEDULED).exists()
