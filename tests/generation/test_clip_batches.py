from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from generation import services
from generation.batches import expand_grid, rows_from_csv
from generation.models import Clip, ClipStatus
from tests.factories import CampaignFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return PromptTemplateFactory(
        body="a {colour} {shape} moving left on a black background",
        variables={"colour": ["red", "blue", "green"], "shape": ["circle", "square"]},
    )


def test_a_grid_is_the_cartesian_product(template):
    rows = expand_grid(template, {"colour": ["red", "blue"], "shape": ["circle", "square"]}, cap=10)
    assert len(rows) == 4
    assert {"colour": "blue", "shape": "square"} in rows


def test_a_grid_over_the_cap_is_refused_before_it_is_built(template):
    grid = {"colour": [f"c{i}" for i in range(1000)], "shape": [f"s{i}" for i in range(1000)]}
    with pytest.raises(ValidationError, match="1,000,000 clips; the limit is 500"):
        expand_grid(template, grid, cap=500)


def test_a_grid_must_cover_exactly_the_templates_variables(template):
    with pytest.raises(ValidationError, match=r"\{shape\}"):
        expand_grid(template, {"colour": ["red"]}, cap=10)
    with pytest.raises(ValidationError, match=r"Unknown variable\(s\) \{size\}"):
        expand_grid(template, {"colour": ["red"], "shape": ["circle"], "size": ["big"]}, cap=10)


def test_csv_rows_need_the_right_header_and_complete_rows(template):
    assert rows_from_csv(template, "colour,shape\nred,circle\nblue,square\n", cap=10) == [
        {"colour": "red", "shape": "circle"}, {"colour": "blue", "shape": "square"},
    ]
    with pytest.raises(ValidationError, match="header must name exactly"):
        rows_from_csv(template, "colour,size\nred,big\n", cap=10)
    with pytest.raises(ValidationError, match="line 3"):
        rows_from_csv(template, "colour,shape\nred,circle\nblue\n", cap=10)
    with pytest.raises(ValidationError, match="larger than"):
        rows_from_csv(template, "colour,shape\n" + "red,circle\n" * 50_000, cap=10)


def test_create_clips_dedupes_and_records_explicit_seeds(template, django_capture_on_commit_callbacks):
    rows = [{"colour": "red", "shape": "circle"}, {"colour": "red", "shape": "circle"}, {"colour": "blue",
                                                                                          "shape": "square"}]
    with django_capture_on_commit_callbacks() as callbacks:
        result = services.create_clips(template, rows, seed_policy=services.SeedPolicy.FIXED, seed=7)
    assert len(result.clips) == 2
    assert result.duplicates == 1
    assert len(callbacks) == 1
    assert sorted(Clip.objects.values_list("seed", flat=True)) == [7, 7]
    again = services.create_clips(template, rows, seed_policy=services.SeedPolicy.FIXED, seed=7)
    assert again.clips == [] and again.duplicates == 3
    clip = Clip.objects.get(variables={"colour": "red", "shape": "circle"})
    assert clip.prompt == "a red circle moving left on a black background"
    assert clip.render_params["frames"] == template.campaign.frames
    assert clip.status == ClipStatus.QUEUED


def test_incrementing_seeds_make_distinct_clips(template):
    rows = [{"colour": "red", "shape": "circle"}] * 3
    result = services.create_clips(template, rows, seed_policy=services.SeedPolicy.INCREMENT, seed=100)
    assert sorted(c.seed for c in result.clips) == [100, 101, 102]


def test_an_invalid_row_writes_nothing(template):
    rows = [{"colour": "red", "shape": "circle"}, {"colour": "purple", "shape": "circle"}]
    with pytest.raises(ValidationError, match="not a value of"):
        services.create_clips(template, rows)
    assert Clip.objects.count() == 0


def test_unknown_render_settings_are_refused(template):
    with pytest.raises(ValidationError, match="Unknown render setting 'speed'"):
        services.create_clips(template, [{"colour": "red", "shape": "circle"}], params={"speed": 3})


def test_cancel_a_queued_clip_at_once_and_flag_a_rendering_one(template):
    result = services.create_clips(template, [{"colour": "red", "shape": "circle"}, {"colour": "blue",
                                                                                      "shape": "circle"}])
    queued, rendering = result.clips
    Clip.objects.filter(pk=rendering.pk).update(status=ClipStatus.RENDERING)
    assert services.cancel_clip(queued)
    assert services.cancel_clip(rendering)
    queued.refresh_from_db()
    rendering.refresh_from_db()
    assert queued.status == ClipStatus.CANCELLED
    assert rendering.status == ClipStatus.RENDERING and rendering.cancel_requested


def test_render_messages_sent_by_name_reach_the_render_task_on_the_gpu_queue():
    from clipcast.celery import app
    from generation import tasks

    assert tasks.render_clip.name == services.RENDER_TASK
    assert app.amqp.router.route({}, services.RENDER_TASK)["queue"].name == "gpu"


@pytest.mark.parametrize(("status", "review", "approval_required", "problem"), [
    ("succeeded", "approved", True, None),
    ("succeeded", "pending", False, None),
    ("succeeded", "pending", True, "This campaign requires approval: approve the clip before scheduling it."),
    ("failed", "approved", False,
     "Only a clip that rendered successfully, or is still queued or rendering, can be posted."),
    ("queued", "pending", True, None),
    ("rendering", "pending", False, None),
])
def test_one_rule_says_whether_a_clip_can_be_scheduled(status, review, approval_required, problem):
    campaign = CampaignFactory(approval_required=approval_required)
    clip = Clip.objects.create(campaign=campaign, prompt="p", seed=1, status=status, review_status=review)
    assert clip.why_not_schedulable() == problem
    assert clip.can_be_scheduled is (problem is None)
