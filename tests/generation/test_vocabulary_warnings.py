"""Prompts a closed-vocabulary model cannot draw: warned before rendering, and the clips flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generation import services
from generation.engine import BUNDLED_PATH
from generation.vocabulary import prompt_template_warnings
from tests.factories import CampaignFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db

CAT = "a {animal} surfing at sunset"


@pytest.fixture
def open_model(tmp_path: Path, settings) -> str:
    """The bundled model's folder without its vocabulary: an open-vocabulary model as far as Clipcast can tell."""
    folder = tmp_path / "open"
    folder.mkdir()
    for item in BUNDLED_PATH.iterdir():
        if item.name != "clipcast.json":
            (folder / item.name).symlink_to(item)
    own = json.loads((BUNDLED_PATH / "clipcast.json").read_text())
    own.pop("vocabulary")
    (folder / "clipcast.json").write_text(json.dumps(own))
    settings.CLIPCAST_MODELS = {"open": str(folder)}
    return "open"


def test_a_template_with_words_the_model_never_saw_is_warned_about():
    template = PromptTemplateFactory(body=CAT, variables={"animal": ["cat", "red circle"]})
    [warning] = prompt_template_warnings(template)
    assert "“surfing”, “at”, “sunset”, “cat”" in warning


def test_a_template_in_the_models_words_gets_no_warning():
    assert prompt_template_warnings(PromptTemplateFactory()) == []


def test_a_batch_flags_each_clip_with_its_own_unknown_words_and_warns_once():
    template = PromptTemplateFactory(body="a {colour} circle moving left on a black background",
                                     variables={"colour": ["red", "orange"]})
    result = services.create_clips(template, [{"colour": "red"}, {"colour": "orange"}])
    flags = {clip.variables["colour"]: clip.out_of_vocabulary for clip in result.clips}
    assert flags == {"red": [], "orange": ["orange"]}
    assert len(result.warnings) == 1 and "“orange”" in result.warnings[0]


def test_an_open_vocabulary_model_says_nothing(open_model):
    campaign = CampaignFactory(model_key=open_model)
    template = PromptTemplateFactory(campaign=campaign, body=CAT, variables={"animal": ["cat"]})
    assert prompt_template_warnings(template) == []
    result = services.create_clips(template, [{"animal": "cat"}])
    assert result.warnings == [] and result.clips[0].out_of_vocabulary == []
