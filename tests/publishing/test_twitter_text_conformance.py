"""twitter-text's official conformance cases (conformance/validate.yml: weighted length, discounted emoji,
directional markers), run over our caption validation. The fixture holds only those groups, with its licence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from publishing.captions import measure, validate_caption

FIXTURE = json.loads((Path(__file__).parent / "twitter_text_validate.json").read_text())
CASES = [
    pytest.param(group, case, id=f"{group}: {case['description']}")
    for group, cases in FIXTURE["tests"].items()
    for case in cases
]


def test_the_fixture_holds_the_three_groups_and_its_licence():
    assert {g: len(c) for g, c in FIXTURE["tests"].items()} == {
        "WeightedTweetsCounterTest": 20, "WeightedTweetsWithDiscountedEmojiCounterTest": 22,
        "UnicodeDirectionalMarkerCounterTest": 2,
    }
    assert "Apache License, Version 2.0" in " ".join(FIXTURE["_licence"])


@pytest.mark.parametrize(("group", "case"), CASES)
def test_caption_validation_agrees_with_twitter_text(group: str, case: dict) -> None:
    version = FIXTURE["_config"][group]  # upstream runs the plain weighted group with config v2, the rest with v3
    result = measure(case["text"], version=version)
    assert (result.weighted_length, result.fits) == (case["expected"]["weightedLength"], case["expected"]["valid"])
    if version != 3:
        return  # X itself uses v3; validate_caption has no other configuration
    if case["expected"]["valid"]:
        assert validate_caption(case["text"]) == measure(case["text"]).text
    else:
        with pytest.raises(ValidationError):
            validate_caption(case["text"])
