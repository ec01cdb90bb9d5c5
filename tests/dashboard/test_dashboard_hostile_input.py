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


def test_odd_query_strings_on_the_new_pages(owner, mine):
    from tests.worlds import add_comment, add_experiment

    experiment = add_experiment(mine)
    add_comment(mine)
    for url in [
        reverse("dashboard:audit_log") + "?actor=a%00b&object_type=%00&object_id=%00&action=%00",
        reverse("dashboard:audit_log") + f"?object_id={HUGE}&object_type={'x' * 5000}&page=abc",
        reverse("dashboard:audit_log") + f"?page={HUGE}&actor=%E2%80%AE",
        reverse("dashboard:notifications") + "?page=-1",
        reverse("dashboard:notifications") + f"?page={HUGE}",
        reverse("dashboard:experiments") + "?page=abc&status=%00",
        reverse("dashboard:experiment", args=[experiment.pk]) + "?tz=%00",
        reverse("dashboard:usage") + "?month=abc&page=%00",
        reverse("dashboard:campaign", args=[mine.campaign.pk]) + "?tz=%00",
        reverse("dashboard:clip", args=[mine.approved.pk]) + "?page=%00",
    ]:
        response = owner.get(url)
        assert response.status_code == 200, (url, response.status_code)
    for url in [f"/experiments/{HUGE}/", f"/accounts/{HUGE}/best-times/", f"/campaigns/{HUGE}/experiments/new/"]:
        assert owner.get(url).status_code == 404, url
    for url in [f"/experiments/{HUGE}/fill/", f"/clips/{HUGE}/comment/", f"/notifications/{HUGE}/open/"]:
        assert owner.post(url, {"count": "1", "body": "hi"}).status_code == 404, url


def test_a_nul_byte_in_an_audit_filter_shows_no_events(owner, mine):
    from tests.worlds import add_comment

    add_comment(mine)
    response = owner.get(reverse("dashboard:audit_log") + "?actor=a%00b")
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 0
    assert owner.get(reverse("dashboard:audit_log")).context["page_obj"].paginator.count > 0


@pytest.mark.parametrize("tz", ["a%00b", "x" * 5000, "localtime", "US/Eastern", "../../etc/passwd"])
def test_a_bad_time_zone_on_the_best_times_page_says_what_to_choose(owner, mine, tz):
    response = owner.get(reverse("dashboard:account_best_times", args=[mine.account.pk]) + f"?tz={tz}")
    assert response.status_code == 400
    assert "choose" in response.context["problem"] and response.context["tz_name"] == mine.workspace.timezone


def test_hostile_comments_are_form_errors(reviewer, mine):
    url = reverse("dashboard:clip_comment", args=[mine.approved.pk])
    for data, words in [({"body": "nul\x00"}, "Null characters"), ({"body": "x" * 100_000}, "at most 2,000"),
                        ({"body": "   "}, "Write a comment first"), ({}, "Write a comment first")]:
        response = reviewer.post(url, data)
        assert response.status_code == 400, data
        assert words in str(response.context["comment_form"].errors), (words, response.context["comment_form"].errors)
    assert not mine.approved.notes.exists()


def test_hostile_experiment_forms_are_form_errors(editor, mine, theirs):
    from publishing.models import Experiment

    url = reverse("dashboard:experiment_create", args=[mine.campaign.pk])
    good = {"prompt_template": mine.template.pk, "x_account": mine.account.pk, "min_impressions": "10"}
    for data in [
        {**good, "prompt_template": "abc"}, {**good, "x_account": HUGE}, {**good, "min_impressions": "-1"},
        {**good, "min_impressions": HUGE}, {**good, "decide_at": "9999-12-31T23:59"},
        {**good, "decide_at": "0001-01-01T00:00"}, {**good, "name": "nul\x00"}, {**good, "name": "x" * 1000},
        {**good, "prompt_template": theirs.template.pk}, {**good, "x_account": theirs.account.pk},
    ]:
        response = editor.post(url, data)
        assert response.status_code == 400, data
        assert response.context["form"].errors, data
        assert theirs.template.name not in response.content.decode()
    assert not Experiment.objects.exists()


def test_hostile_fill_counts_are_form_errors(editor, mine):
    from tests.worlds import add_experiment

    experiment = add_experiment(mine)
    url = reverse("dashboard:experiment_fill", args=[experiment.pk])
    for count in ["0", "-1", HUGE, "four", ""]:
        response = editor.post(url, {"count": count})
        assert response.status_code == 400, count
        assert response.context["fill_form"].errors, count
    assert not experiment.posts.exists()
