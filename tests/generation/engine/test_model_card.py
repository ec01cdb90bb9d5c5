"""generation/bundled/MODEL_CARD.md says only what works: every pipeline it suggests for CLIPCAST_MODEL_PATH is one
the model registry takes, and what it says is refused is refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import diffusers
import pytest

from generation.engine import BUNDLED_PATH, ModelIncomplete, UnsupportedModel, inspect_model
from generation.engine.hotshot_xl import NATIVE_FAMILIES

CARD = (BUNDLED_PATH / "MODEL_CARD.md").read_text()
REAL_WEIGHTS = CARD[CARD.index("## Using real weights instead"):]


def folder_naming(tmp_path: Path, pipeline_class: str) -> Path:
    folder = tmp_path / pipeline_class
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": pipeline_class}))
    return folder


def test_the_card_points_model_path_at_no_hotshot_folder():
    paths = re.findall(r"CLIPCAST_MODEL_PATH=(\S+?)`", CARD)
    assert paths and not [p for p in paths if "hotshot" in p.lower()]


@pytest.mark.parametrize("pipeline_class", sorted(set(re.findall(r"`(\w+Pipeline)`", REAL_WEIGHTS))))
def test_each_pipeline_the_card_names_is_taken_or_said_to_be_refused(tmp_path, pipeline_class):
    said_refused = re.search(rf"names `{pipeline_class}`, which stock diffusers cannot load, so the model registry "
                             r"refuses\s+it", REAL_WEIGHTS)
    try:
        inspect_model(folder_naming(tmp_path, pipeline_class), key="card")
    except UnsupportedModel:
        assert said_refused, f"the card suggests {pipeline_class}, which the registry refuses"
        return
    except ModelIncomplete:
        pass  # the class is taken; this empty folder just has no components
    assert not said_refused and (hasattr(diffusers, pipeline_class) or pipeline_class in NATIVE_FAMILIES)
