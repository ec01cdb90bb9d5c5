"""Rendering with brand LoRAs through the real glue: the worker fetches each file from media storage once (a bucket
in production), the frames of the same seed change, and the clip names the LoRAs it used."""

from __future__ import annotations

import pytest

from generation import loras, rendering, services
from generation.models import CampaignLora, Clip, ClipStatus
from tests.factories import PromptTemplateFactory, WorkspaceFactory
from tests.generation.lora_files import make_lora
from tests.generation.test_render_worker import wait_for

pytestmark = pytest.mark.django_db


def _render_template():
    template = PromptTemplateFactory(body="a {colour} circle moving left on a black background",
                                     variables={"colour": ["red"]})
    campaign = template.campaign
    campaign.model_key, campaign.steps, campaign.frames, campaign.guidance = "default", 2, 8, 1.0
    campaign.output_width = campaign.output_height = 64
    campaign.save()
    return template


def _render(template, seed: int = 5) -> Clip:
    clip = services.create_clips(template, [{"colour": "red"}], seed_policy=services.SeedPolicy.FIXED,
                                 seed=seed).clips[0]
    assert rendering.run_render(clip.pk) == ClipStatus.SUCCEEDED, Clip.objects.get(pk=clip.pk).error
    return Clip.objects.get(pk=clip.pk)


@pytest.fixture
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model gains nothing from more, and the suite shares its cores
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
def test_a_campaign_lora_fetched_from_the_bucket_changes_the_pixels_and_the_clip_names_it(
    lora_media, s3_media, lora_bytes, one_thread
):
    template = _render_template()
    plain = _render(template)
    lora = make_lora(template.campaign.workspace, lora_bytes)
    CampaignLora.objects.create(campaign=template.campaign, lora=lora, weight=1.0)

    branded = _render(template)

    assert lora.file.name in s3_media.object_keys()
    assert branded.loras == [{"name": "Acme look", "sha256": lora.sha256, "weight": 1.0}]
    assert branded.frames_hash != plain.frames_hash
    assert (lora_media / f"{lora.sha256}.safetensors").read_bytes() == lora_bytes
    # Fetched once per host: the cached file serves the next render even with the object gone from the bucket.
    s3_media.client.delete_object(Bucket=s3_media.bucket, Key=lora.file.name)
    assert _render(template, seed=6).status == ClipStatus.SUCCEEDED


def test_a_clip_whose_lora_was_deleted_fails_with_a_message_saying_what_to_do(lora_media, lora_bytes):
    template = _render_template()
    lora = make_lora(template.campaign.workspace, lora_bytes)
    CampaignLora.objects.create(campaign=template.campaign, lora=lora)
    clip = services.create_clips(template, [{"colour": "red"}]).clips[0]

    loras.delete_lora(lora)

    assert rendering.run_render(clip.pk) == ClipStatus.FAILED
    clip.refresh_from_db()
    assert "LoRA “Acme look” was deleted after this clip was made" in clip.error


def test_a_stored_file_that_changed_is_not_used(lora_media, lora_bytes, media_root):
    lora = make_lora(WorkspaceFactory(), lora_bytes)
    (media_root / lora.file.name).write_bytes(lora_bytes[:-1] + b"!")

    with pytest.raises(rendering.LoraUnavailable, match="sha256 differs"):
        rendering.fetch_lora(lora)
    assert list(lora_media.iterdir()) == []



@pytest.mark.integration
@pytest.mark.slow
def test_a_render_worker_on_another_host_fetches_the_lora_from_the_bucket(render_worker, s3_media, lora_bytes,
                                                                           lora_media, tmp_path):
    worker_cache = tmp_path / "worker-lora-cache"
    render_worker(CLIPCAST_LORA_CACHE_DIR=str(worker_cache), **s3_media.env)
    template = _render_template()
    lora = make_lora(template.campaign.workspace, lora_bytes)
    CampaignLora.objects.create(campaign=template.campaign, lora=lora, weight=0.9)

    clip = services.create_clips(template, [{"colour": "red"}]).clips[0]
    clip = wait_for(clip, {ClipStatus.SUCCEEDED, ClipStatus.FAILED})

    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    assert clip.loras == [{"name": "Acme look", "sha256": lora.sha256, "weight": 0.9}]
    assert [p.name for p in worker_cache.iterdir()] == [f"{lora.sha256}.safetensors"]


def test_a_lora_missing_from_the_bucket_fails_the_clip_with_a_message(lora_media, s3_media, lora_bytes):
    template = _render_template()
    lora = make_lora(template.campaign.workspace, lora_bytes)
    CampaignLora.objects.create(campaign=template.campaign, lora=lora)
    clip = services.create_clips(template, [{"colour": "red"}]).clips[0]
    s3_media.client.delete_object(Bucket=s3_media.bucket, Key=lora.file.name)

    assert rendering.run_render(clip.pk) == ClipStatus.FAILED
    clip.refresh_from_db()
    assert "LoRA “Acme look” could not be read from media storage" in clip.error
    assert list(lora_media.iterdir()) == []
