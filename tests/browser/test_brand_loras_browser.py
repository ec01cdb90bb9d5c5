"""A marketer uploads a brand LoRA in the browser, sees a refused file explained, and picks the LoRA in a campaign."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from generation.engine import BUNDLED_PATH
from generation.models import BrandLora, CampaignLora
from tests.generation.lora_files import build_lora, safetensors_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_marketer_uploads_a_lora_and_picks_it_for_a_campaign(live_server, page, screenshot, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    good = build_lora(BUNDLED_PATH, tmp_path / "good")
    wrong = tmp_path / "other-model.safetensors"
    wrong.write_bytes(safetensors_bytes({"unet.input_blocks.4.1.proj_in.lora_A.weight": [4, 640]}))
    call_command("seed_demo", password="browser-pw-1")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill("browser-pw-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/**")

    page.get_by_role("link", name="LoRAs").click()
    page.get_by_label("Name").fill("Other model's look")
    page.get_by_label("LoRA file (.safetensors)").set_input_files(str(wrong))
    page.get_by_role("button", name="Upload and check").click()
    assert "match nothing in model" in page.content()
    screenshot(page, "lora-01-refused")

    page.get_by_label("Name").fill("Acme look")
    page.get_by_label("LoRA file (.safetensors)").set_input_files(str(good))
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_selector("text=uploaded and checked")
    screenshot(page, "lora-02-uploaded")
    lora = BrandLora.objects.get()

    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Shapes launch").first.click()
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_text("Brand LoRAs").click()
    page.get_by_label("Acme look").fill("0.8")
    screenshot(page, "lora-03-campaign-form")
    page.get_by_role("button", name="Save campaign").click()
    page.wait_for_selector("text=Campaign saved")

    assert list(CampaignLora.objects.values_list("lora", "weight")) == [(lora.pk, 0.8)]
