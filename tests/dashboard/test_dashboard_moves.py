"""The dashboard's edit forms never carry an object into another workspace or campaign."""

from __future__ import annotations

import inspect
from importlib import import_module
from pkgutil import iter_modules

import pytest
from django import forms
from django.db import models
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

import dashboard.forms
from accounts.models import Role
from dashboard.forms.campaigns import format_variables
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def model_forms() -> list[type[forms.ModelForm]]:
    found = []
    for info in iter_modules(dashboard.forms.__path__):
        module = import_module(f"dashboard.forms.{info.name}")
        found += [c for _, c in inspect.getmembers(module, inspect.isclass)
                  if issubclass(c, forms.ModelForm) and c.__module__ == module.__name__]
    return found


def test_no_dashboard_model_form_lets_a_relation_be_edited():
    assert model_forms(), "the dashboard has model forms; the scan found none"
    for form_class in model_forms():
        relations = [
            name for name, field in form_class.base_fields.items()
            if isinstance(getattr(form_class._meta.model, name, None), models.fields.related_descriptors.
                          ForwardManyToOneDescriptor)
        ]
        # The view sets the workspace or campaign from the URL and the session, where the role was checked.
        assert relations == [], f"{form_class.__name__} edits {relations}: set it in the view instead"


@pytest.fixture
def owner_of_both(mine, theirs) -> Client:
    user = UserFactory()
    for world in (mine, theirs):
        MembershipFactory(workspace=world.workspace, user=user, role=Role.OWNER)
    client = Client()
    client.force_login(user)
    client.get(reverse("dashboard:home"))  # picks a current workspace
    client.post(reverse("dashboard:switch_workspace"), {"workspace": mine.workspace.pk})
    return client


def test_posting_a_workspace_or_campaign_into_an_edit_form_moves_nothing(owner_of_both, mine, theirs):
    campaign = {k: v for k, v in model_to_dict(mine.campaign).items() if v is not None}
    edits = [
        (reverse("dashboard:campaign_edit", args=[mine.campaign.pk]),
         {**campaign, "name": "Renamed", "workspace": theirs.workspace.pk}),
        (reverse("dashboard:prompt_edit", args=[mine.template.pk]),
         {"name": "P", "body": mine.template.body, "variables_text": format_variables(mine.template.variables),
          "campaign": theirs.campaign.pk}),
        (reverse("dashboard:caption_edit", args=[mine.caption.pk]),
         {"name": "C", "body": "hi", "hashtags": "", "campaign": theirs.campaign.pk}),
    ]
    for url, data in edits:
        response = owner_of_both.post(url, data)
        assert response.status_code == 302, (url, response.status_code)

    for obj in (mine.campaign, mine.template, mine.caption):
        obj.refresh_from_db()
    assert mine.campaign.name == "Renamed" and mine.campaign.workspace_id == mine.workspace.pk
    assert mine.template.name == "P" and mine.template.campaign_id == mine.campaign.pk
    assert mine.caption.name == "C" and mine.caption.campaign_id == mine.campaign.pk
