"""The API renders clips up to the model's windowed limit (10 s and more) and takes 720p in either orientation."""

from __future__ import annotations

import pytest

from accounts.models import Role

pytestmark = pytest.mark.django_db


def test_the_api_renders_ten_seconds_and_names_the_models_limit_past_it(api_as, mine) -> None:
    client = api_as(Role.EDITOR)
    body = {"prompt_template": mine.template.pk, "grid": {"colour": ["red"], "shape": ["circle"]}}

    made = client.post("/api/clips/batch/", {**body, "params": {"frames": 80, "fps": 8}}, format="json")
    too_long = client.post("/api/clips/batch/", {**body, "params": {"frames": 241, "fps": 8}}, format="json")

    assert made.status_code == 201, made.content
    assert made.json()["created"][0]["render_params"]["frames"] == 80
    assert too_long.status_code == 400 and "from 1 to 240" in too_long.content.decode()


def test_a_campaign_output_larger_than_x_takes_is_refused_in_the_api(api_as, mine) -> None:
    response = api_as(Role.OWNER).patch(f"/api/campaigns/{mine.campaign.pk}/",
                                        {"output_width": 1280, "output_height": 1280}, format="json")
    portrait = api_as(Role.OWNER).patch(f"/api/campaigns/{mine.campaign.pk}/",
                                        {"output_width": 720, "output_height": 1280}, format="json")

    assert response.status_code == 400 and "short side may be at most 1024" in response.content.decode()
    assert portrait.status_code == 200
