"""HTML and JavaScript typed into names, prompts and captions are shown as text on every dashboard page: checked
in a real browser (an executed payload sets window.__xss or opens a dialog)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from campaigns.models import Campaign, CaptionTemplate, PromptTemplate
from generation.models import Clip
from publishing.models import Post
from tests.dashboard.test_dashboard_browser import in_own_browser
from tests.factories import MembershipFactory, UserFactory
from tests.worlds import build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PAYLOADS = [
    '<script>window.__xss="script"</script>',
    '<img src=x onerror="window.__xss=\'img\'">',
    '"><svg onload="window.__xss=\'svg\'">',
    "</textarea><script>window.__xss='textarea'</script>",
]


def test_markup_in_user_content_is_escaped_on_every_dashboard_page(live_server):
    world = build_world(name=PAYLOADS[0])
    Campaign.objects.filter(pk=world.campaign.pk).update(name=PAYLOADS[1])
    PromptTemplate.objects.filter(pk=world.template.pk).update(name=PAYLOADS[2], body="a {colour} " + PAYLOADS[3])
    CaptionTemplate.objects.filter(pk=world.caption.pk).update(body=PAYLOADS[1] + " #clipcast")
    Clip.objects.filter(campaign=world.campaign).update(prompt=PAYLOADS[0] + " a red circle")
    Post.objects.filter(pk=world.post.pk).update(caption=PAYLOADS[2], last_error=PAYLOADS[3])
    user = UserFactory()
    MembershipFactory(user=user, workspace=world.workspace, role=Role.OWNER)
    pages = [
        reverse("dashboard:home"), reverse("dashboard:campaign", args=[world.campaign.pk]),
        reverse("dashboard:prompt_edit", args=[world.template.pk]),
        reverse("dashboard:caption_edit", args=[world.caption.pk]),
        reverse("dashboard:generate", args=[world.campaign.pk]), reverse("dashboard:clips"),
        reverse("dashboard:clip", args=[world.approved.pk]), reverse("dashboard:schedule", args=[world.approved.pk]),
        reverse("dashboard:posts"), reverse("dashboard:post", args=[world.post.pk]), reverse("dashboard:calendar"),
        reverse("dashboard:calendar") + "?view=month", reverse("dashboard:accounts"),
    ]
    shown: dict[str, int] = {}

    def visit(page) -> None:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill("pw-correct-horse-42")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        for path in pages:
            response = page.goto(live_server.url + path)
            assert response.status == 200, (path, response.status)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__xss") is None, f"a payload ran on {path}"
            text = page.locator("body").inner_text() + " ".join(
                page.locator("input, textarea").evaluate_all("els => els.map(e => e.value)"))
            shown[path] = sum(p in text for p in PAYLOADS)
        assert dialogs == []

    in_own_browser(visit)
    assert all(shown.values()), f"pages where the content did not show as text: {shown}"
