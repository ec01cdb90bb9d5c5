"""Every registered model's changelist and add page render for a superuser."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import CaptionTemplateFactory, MembershipFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db

MODELS = list(admin.site._registry)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_add_page_render(client, superuser, model):
    # Some rows so list_display columns are exercised, not just the empty table.
    MembershipFactory()
    PromptTemplateFactory()
    CaptionTemplateFactory()
    client.force_login(superuser)
    opts = model._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    if admin.site._registry[model].has_add_permission(changelist.wsgi_request):
        add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        assert add.status_code == 200


def test_the_admin_covers_every_clipcast_model():
    from django.apps import apps

    ours = {"clipcast", "accounts", "campaigns", "generation", "publishing"}
    missing = [m._meta.label for m in apps.get_models() if m._meta.app_label in ours and m not in admin.site._registry]
    assert missing == []


def test_x_tokens_never_appear_in_the_admin(client, superuser):
    from publishing.models import XAccount

    membership = MembershipFactory()
    account = XAccount.objects.create(
        workspace=membership.workspace, handle="brand", access_token="plain-access-token-123",
        refresh_token="plain-refresh-token-456",
    )
    client.force_login(superuser)
    page = client.get(reverse("admin:publishing_xaccount_change", args=[account.pk]))
    assert page.status_code == 200
    assert b"plain-access-token-123" not in page.content
    assert b"plain-refresh-token-456" not in page.content


@pytest.mark.parametrize("query", ["?status=%00", "?q=a%00b", "?kind=x&kind=%00", "?%00=1"])
def test_a_nul_byte_in_an_admin_list_filter_is_a_400_saying_what_to_fix(client, superuser, query):
    client.force_login(superuser)
    for name in ("generation_clip", "publishing_post", "publishing_experiment", "generation_clipnote"):
        response = client.get(reverse(f"admin:{name}_changelist") + query)
        assert response.status_code == 400, (name, query, response.status_code)
        assert "NUL character" in response.content.decode()
    assert client.get(reverse("admin:generation_clip_changelist") + "?status=failed").status_code == 200
