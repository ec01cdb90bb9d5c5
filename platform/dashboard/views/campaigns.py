"""Campaigns: list with counts, create, edit, archive, the campaign page with charts, posting slots."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_POST

from accounts.audit import audited_delete, audited_save
from accounts.models import Role
from campaigns.models import Campaign, CampaignStatus, PostingSlot
from dashboard.forms.campaigns import CampaignForm, PostingSlotForm
from dashboard.forms.loras import CampaignLorasForm
from dashboard.insights import campaign_charts, with_counts
from dashboard.onboarding import first_steps
from dashboard.workspace import page, scoped, workspace_view
from generation.costs import campaign_usage, seconds_text
from publishing.best_time import heat_map
from publishing.models import AccountStatus, Post, PostStatus, XAccount
from publishing.services import archive_campaign


@workspace_view()
def campaign_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    campaigns = with_counts(scoped(Campaign, request))
    if status in CampaignStatus.values:
        campaigns = campaigns.filter(status=status)
    else:
        status = ""
        campaigns = campaigns.visible()
    return page(
        request, "dashboard/campaigns/list.html",
        {
            "campaigns": campaigns, "status": status, "statuses": CampaignStatus.choices,
            "first_steps": first_steps(request.workspace),
        },
    )


@workspace_view(read=Role.EDITOR)
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, initial={"timezone": request.workspace.timezone})
    lora_form = CampaignLorasForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid() and lora_form.is_valid():
        form.instance.workspace = request.workspace
        with transaction.atomic():
            campaign = audited_save(form.instance, form.save)
            lora_form.save(campaign)
        messages.success(request, f"Campaign “{campaign.name}” created. Add a prompt template to start generating.")
        return redirect("dashboard:campaign", pk=campaign.pk)
    return page(request, "dashboard/campaigns/form.html", {"form": form, "lora_form": lora_form, "campaign": None})


@workspace_view(read=Role.EDITOR)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(scoped(Campaign, request), pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    lora_form = CampaignLorasForm(request.POST or None, workspace=request.workspace, campaign=campaign)
    if request.method == "POST" and form.is_valid() and lora_form.is_valid():
        with transaction.atomic():
            audited_save(campaign, form.save)
            lora_form.save(campaign)
        messages.success(request, "Campaign saved.")
        return redirect("dashboard:campaign", pk=campaign.pk)
    return page(request, "dashboard/campaigns/form.html", {"form": form, "lora_form": lora_form, "campaign": campaign})


@workspace_view(read=Role.EDITOR)
def campaign_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation, saying what happens to the scheduled posts; POST archives."""
    campaign = get_object_or_404(scoped(Campaign, request), pk=pk)
    if request.method != "POST":
        scheduled = Post.objects.filter(clip__campaign=campaign, status=PostStatus.SCHEDULED).count()
        return page(request, "dashboard/campaigns/archive.html", {"campaign": campaign, "scheduled": scheduled})
    cancelled = archive_campaign(campaign)
    posts = f"its {cancelled} scheduled post{pluralize(cancelled)} cancelled" if cancelled else "nothing was scheduled"
    messages.success(request, f"Campaign “{campaign.name}” archived; {posts}.")
    return redirect("dashboard:campaigns")


@workspace_view()
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(with_counts(scoped(Campaign, request)), pk=pk)
    rollup, charts = campaign_charts(campaign)
    return page(
        request, "dashboard/campaigns/detail.html",
        {
            "campaign": campaign,
            "prompt_templates": campaign.prompt_templates.all(),
            "caption_templates": campaign.caption_templates.all(),
            "default_caption_template": campaign.default_caption_template(),
            "slots": campaign.posting_slots.all(),
            "slot_form": PostingSlotForm(campaign=campaign),
            "totals": rollup["totals"],
            "posted_with_metrics": rollup["posts"],
            "charts": charts,
            "best_hours": best_hours_for(campaign),
            "render_time": {key: seconds_text(value) for key, value in campaign_usage(campaign.pk).items()},
        },
    )


def best_hours_for(campaign: Campaign, per_account: int = 3) -> list[tuple[XAccount, list]]:
    """Each active account's best hours so far, in the campaign's time zone, to offer as posting slots."""
    taken = set(campaign.posting_slots.values_list("weekday", "local_time__hour"))
    offers = []
    for account in XAccount.objects.filter(workspace_id=campaign.workspace_id, status=AccountStatus.ACTIVE):
        best = [c for c in heat_map(account, campaign.timezone).best(per_account + len(taken))
                if (c.weekday, c.hour) not in taken][:per_account]
        if best:
            offers.append((account, best))
    return offers


@workspace_view()
@require_POST
def slot_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(scoped(Campaign, request), pk=pk)
    form = PostingSlotForm(request.POST, campaign=campaign)
    if form.is_valid():
        slot = audited_save(form.instance, form.save)
        messages.success(request, f"Posting slot {slot} ({campaign.timezone}) added.")
    else:
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, f"The slot was not added: {errors}")
    return redirect("dashboard:campaign", pk=campaign.pk)


@workspace_view()
@require_POST
def slot_delete(request: HttpRequest, pk: int) -> HttpResponse:
    slot = get_object_or_404(scoped(PostingSlot, request).select_related("campaign"), pk=pk)
    audited_delete(slot)
    messages.success(request, f"Posting slot {slot} removed; posts already scheduled keep their time.")
    return redirect("dashboard:campaign", pk=slot.campaign_id)
