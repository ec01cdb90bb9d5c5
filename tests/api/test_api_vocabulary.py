"""The API warns about prompt words the campaign's model cannot draw: template answers, batch answers, clips."""

from __future__ import annotations

from accounts.models import Role


def test_saving_a_template_answers_with_warnings(api_as, mine):
    client = api_as(Role.EDITOR)
    answer = client.post("/api/prompt-templates/", {
        "campaign": mine.campaign.pk, "name": "Cats", "body": "a {animal} surfing at sunset",
        "variables": {"animal": ["cat"]},
    }, format="json")
    assert answer.status_code == 201, answer.content
    [warning] = answer.json()["warnings"]
    assert "“surfing”, “at”, “sunset”, “cat”" in warning

    fixed = client.patch(f"/api/prompt-templates/{answer.json()['id']}/", {
        "body": "a {animal} moving left on a black background", "variables": {"animal": ["red circle"]},
    }, format="json")
    assert fixed.status_code == 200, fixed.content
    assert fixed.json()["warnings"] == []


def test_a_batch_answer_warns_and_flags_the_clips(api_as, mine):
    mine.template.variables = {"colour": ["red"], "shape": ["circle", "hexagon"]}
    mine.template.save()
    client = api_as(Role.EDITOR)
    answer = client.post("/api/clips/batch/", {
        "prompt_template": mine.template.pk, "grid": {"colour": ["red"], "shape": ["circle", "hexagon"]},
    }, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert len(body["warnings"]) == 1 and "“hexagon”" in body["warnings"][0]
    assert sorted(clip["out_of_vocabulary"] for clip in body["created"]) == [[], ["hexagon"]]
    hexagon = next(clip for clip in body["created"] if clip["out_of_vocabulary"])
    assert client.get(f"/api/clips/{hexagon['id']}/").json()["out_of_vocabulary"] == ["hexagon"]
