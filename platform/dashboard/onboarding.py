"""The “start here” steps on the first page, until the workspace has a campaign, a template and an X account."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse

from accounts.models import Workspace
from campaigns.models import Campaign, CampaignStatus, PromptTemplate
from publishing.models import AccountStatus, XAccount


@dataclass(frozen=True)
class Step:
    title: str
    detail: str
    url: str | None
    link_text: str
    done: bool


def first_steps(workspace: Workspace) -> list[Step] | None:
    """The three steps before a first post, or None once all are done (one query)."""
    campaigns = Campaign.objects.filter(workspace=OuterRef("pk")).exclude(status=CampaignStatus.ARCHIVED)
    facts = (
        Workspace.objects.filter(pk=workspace.pk)
        .annotate(
            first_campaign=Subquery(campaigns.order_by("created_at", "pk").values("pk")[:1]),
            has_template=Exists(PromptTemplate.objects.filter(campaign__workspace=OuterRef("pk"))),
            has_account=Exists(XAccount.objects.filter(workspace=OuterRef("pk"), status=AccountStatus.ACTIVE)),
        )
        .values("first_campaign", "has_template", "has_account")
        .get()
    )
    campaign_pk = facts["first_campaign"]
    if campaign_pk and facts["has_template"] and facts["has_account"]:
        return None
    return [
        Step("Create a campaign", "A campaign holds your time zone, render settings and posting slots.",
             reverse("dashboard:campaign_create"), "New campaign", campaign_pk is not None),
        Step("Write a prompt template", "Describe the clip with {variables}; the grid renders every combination.",
             reverse("dashboard:prompt_create", args=[campaign_pk]) if campaign_pk else None, "New prompt template",
             facts["has_template"]),
        Step("Connect an X account", "An owner connects the account your posts go out on.",
             reverse("dashboard:accounts"), "Accounts", facts["has_account"]),
    ]
