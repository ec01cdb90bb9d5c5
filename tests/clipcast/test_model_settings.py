"""CLIPCAST_MODELS: key=folder or key=hub id, comma-separated; a malformed entry stops start-up saying how to write it
(it used to be dropped silently, and the key was then unknown at render time)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from clipcast.env import env_models


def test_keys_map_to_folders_and_hub_ids(monkeypatch):
    monkeypatch.setenv("CLIPCAST_MODELS", " ltx = Lightricks/LTX-Video , mine=/srv/models/mine,wan=Wan-AI/Wan@v2 ")
    assert env_models("CLIPCAST_MODELS") == {
        "ltx": "Lightricks/LTX-Video", "mine": "/srv/models/mine", "wan": "Wan-AI/Wan@v2"}
    monkeypatch.delenv("CLIPCAST_MODELS")
    assert env_models("CLIPCAST_MODELS") == {}


@pytest.mark.parametrize(("value", "message"), [
    ("Lightricks/LTX-Video", r"'Lightricks/LTX-Video' is not key=model; write e.g. CLIPCAST_MODELS=ltx="),
    ("ltx=", r"'ltx=' is not key=model"),
    ("=Lightricks/LTX-Video", r"is not key=model"),
    ("l tx=Lightricks/LTX-Video", r"model key 'l tx' must be at most 64 letters"),
    ("ltx=/a,ltx=/b", r"model key 'ltx' is given twice"),
    ("default=Lightricks/LTX-Video", r"'default' is set by CLIPCAST_MODEL_PATH .* CLIPCAST_MODEL_PATH=Lightricks/"),
    ("ltx=/a,bundled=/b", r"'bundled' is the model that ships with Clipcast: give this model another key"),
])
def test_a_malformed_entry_stops_start_up_saying_how_to_write_it(monkeypatch, value, message):
    monkeypatch.setenv("CLIPCAST_MODELS", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        env_models("CLIPCAST_MODELS")
