from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from publishing.captions import build_caption, measure, normalise, validate_caption
from tests.factories import CaptionTemplateFactory


def test_urls_count_23_and_emoji_count_2():
    assert measure("a https://example.com/" + "x" * 100).weighted_length == 2 + 23
    assert measure("😀").weighted_length == 2


def test_text_is_nfc_normalised_and_bidi_controls_are_kept_and_counted_as_x_does():
    decomposed = "cafe\u0301"
    assert normalise(decomposed) == "caf\u00e9"
    assert normalise("abc\u202eevil") == "abc\u202eevil"
    assert validate_caption("abc\u202eevil") == "abc\u202eevil"
    assert measure("abc\u202eevil").weighted_length == 9


def test_characters_x_refuses_are_refused_not_removed():
    # twitter-text's "Handle invalid characters": 10 characters long once U+FFFF/U+FFFE were ignored, yet invalid.
    with pytest.raises(ValidationError, match=r"characters X refuses \(U\+FFFF, U\+FFFE\): remove them"):
        validate_caption("ABC\u202a\uffffABC\ufffe")
    with pytest.raises(ValidationError, match=r"U\+0000"):
        validate_caption("a\x00b")
    assert not measure("ABC\ufeff").fits


def test_a_caption_over_the_limit_says_how_far_over():
    with pytest.raises(ValidationError, match=r"Caption is 297/280 weighted characters: shorten it by 17"):
        validate_caption("x" * 297)


def test_cjk_counts_double_toward_the_limit():
    assert validate_caption("字" * 140)
    with pytest.raises(ValidationError, match="282/280"):
        validate_caption("字" * 141)


def test_an_empty_caption_is_refused():
    with pytest.raises(ValidationError, match="empty"):
        validate_caption("   ")


@pytest.mark.django_db
def test_build_caption_renders_the_template_with_the_clips_variables():
    template = CaptionTemplateFactory(body="A {colour} {shape}!", hashtags="#shapes")
    assert build_caption(template, {"colour": "red", "shape": "circle", "motion": "x"}) == "A red circle! #shapes"
