"""Odd and hostile input answers with a form error or a 404, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
HUGE = "9" * 30


def test_out_of_range_ids_and_parameters(owner, mine):
    for url in [
        reverse("dashboard:clips") + f"?campaign={HUGE}&template={HUGE}&page={HUGE}",
        reverse("dashboard:clip_progress") + f"?ids={HUGE}&ids=-1&ids=abc",
        reverse("dashboard:posts") + f"?campaign={HUGE}&page=-3",
        reverse("dashboard:calendar") + "?date=9999-12-31&view=month",
        reverse("dashboard:calendar") + "?date=0001-01-01&view=week",
        reverse("dashboard:generate", args=[mine.campaign.pk]) + f"?template={HUGE}",
    ]:
        assert owner.get(url).status_code in (200, 286, 404), url
    assert owner.get(f"/clips/{HUGE}/").status_code == 404
    assert owner.post(f"/clips/{HUGE}/review/", {"decision": "approve"}).status_code == 404


def test_dates_at_the_ends_of_the_calendar_are_form_errors(editor, mine):
    url = reverse("dashboard:schedule", args=[mine.approved.pk])
    for when in ("9999-12-31T23:59", "0001-01-01T00:00", "2026-02-30T10:00", "tomorrow"):
        response = editor.post(url, {"account": mine.account.pk, "caption": "hi", "when": when, "action": "schedule"})
        assert response.status_code == 200, when
        assert response.context["form"].errors, when
    response = editor.post(
        reverse("dashboard:post_reschedule", args=[mine.post.pk]), {"when": "9999-12-31T23:59", "caption": "hi"}
    )
    assert response.status_code == 200


def test_oversized_and_control_character_templates_in_the_preview(editor, mine):
    url = reverse("dashboard:template_preview", args=[mine.campaign.pk])
    for data in [
        {"kind": "prompt", "body": "x" * 20_000, "variables_text": ""},
        {"kind": "prompt", "body": "{a}", "variables_text": "\n".join(f"v{i}: a" for i in range(5000))},
        {"kind": "prompt", "body": "a \u202e{colour}", "variables_text": "colour: red"},
        {"kind": "caption", "body": "\x00", "hashtags": ""},
        {"kind": "prompt", "body": "{colour}", "variables_text": '{"colour": "not a list"}'},
        {"kind": "prompt", "body": "{colour}", "variables_text": "{not json"},
    ]:
        response = editor.post(url, data)
        assert response.status_code == 200
        assert 'class="errorlist"' in response.content.decode(), data["body"][:20]


def test_a_binary_csv_is_a_form_error(editor, mine):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("rows.csv", b"\xff\xfe\x00\x01binary", "text/csv")
    response = editor.post(
        reverse("dashboard:generate", args=[mine.campaign.pk]),
        {"template": mine.template.pk, "source": "csv", "csv_file": upload, "length": "1", "seed_policy": "random",
         "action": "generate"},
    )
    assert response.status_code == 200 and "not UTF-8 text" in response.content.decode()


def test_an_oversized_template_is_a_form_error_naming_the_limit(editor, mine):
    from campaigns.models import PromptTemplate

    url = reverse("dashboard:prompt_create", args=[mine.campaign.pk])
    variables_text = "\n".join(f"v{i}: a" for i in range(20_000))

    response = editor.post(url, {"name": "big", "body": "{v0}", "variables_text": variables_text})

    assert response.status_code == 200
    assert "20,000 variables" in response.content.decode() and "limit is 20" in response.content.decode()
    assert not PromptTemplate.objects.filter(name="big").exists()


def test_the_generate_page_of_a_template_saved_before_the_caps_is_quick_and_says_why(editor, mine):
    from campaigns.models import PromptTemplate

    legacy = PromptTemplate.objects.create(  # written before the caps existed: no validation on this path
        campaign=mine.campaign, name="legacy", body="{v0}", variables={f"v{i}": ["x", "y"] for i in range(20_000)}
    )

    response = editor.get(reverse("dashboard:generate", args=[mine.campaign.pk]) + f"?template={legacy.pk}")

    assert response.status_code == 200
    page = response.content.decode()
    assert "20,000 variables" in page and "limit is 20" in page
    assert len(page) < 200_000
