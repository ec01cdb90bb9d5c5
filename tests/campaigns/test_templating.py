from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns import templating


def test_it_fills_placeholders_and_keeps_literal_braces():
    body = "a {colour} {shape} {{literally}}"
    assert templating.render(body, {"colour": "red", "shape": "circle"}) == "a red circle {literally}"


def test_it_lists_placeholders_in_order_once():
    assert templating.placeholders("{b} and {a} and {b}") == ["b", "a"]


@pytest.mark.parametrize("body", ["{a.b}", "{a[0]}", "{0}", "{}", "{__class__}", "{a:>10}", "{a!r}", "{ a b }"])
def test_it_refuses_anything_but_a_plain_name(body):
    with pytest.raises(ValidationError, match="is not allowed"):
        templating.parse(body)


@pytest.mark.parametrize("body", ["open { brace", "close } brace", "{a"])
def test_it_refuses_unbalanced_braces(body):
    with pytest.raises(ValidationError, match="Unmatched"):
        templating.parse(body)


def test_missing_values_are_named():
    with pytest.raises(ValidationError) as info:
        templating.render("{colour} {shape} {colour}", {"shape": "x"})
    assert "{colour}" in str(info.value)
    assert "{shape}" not in str(info.value)


def test_unknown_variables_are_named():
    with pytest.raises(ValidationError) as info:
        templating.check_declared("{colour} {speed}", ["colour"])
    assert "{speed}" in str(info.value)


def test_values_are_inserted_verbatim_never_reparsed():
    assert templating.render("{a}", {"a": "{b.__class__}"}) == "{b.__class__}"


def test_it_refuses_nul_bytes_and_huge_templates():
    with pytest.raises(ValidationError, match="NUL"):
        templating.parse("a\x00b")
    with pytest.raises(ValidationError, match="limit"):
        templating.parse("x" * (templating.MAX_TEMPLATE_LENGTH + 1))
