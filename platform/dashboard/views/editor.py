"""Prompt and caption template editor with a live preview (htmx) of the rendered text and its X length."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.audit import audited_delete, audited_save
from accounts.models import Role
from campaigns.models import Campaign, CaptionTemplate, PromptTemplate
from dashboard.forms.campaigns import CaptionTemplateForm, PromptTemplateForm, format_variables
from dashboard.preview import Preview, caption_preview, prompt_preview
from dashboard.workspace import page, scoped, workspace_view
from generation.vocabulary import closed_vocabulary, prompt_template_warnings
from publishing.captions import measure


def _preview_for(campaign: Campaign, kind: str, data) -> Preview:
    if kind == "caption":
        return caption_preview(campaign, data.get("body", ""), data.get("hashtags", ""), data)
    return prompt_preview(campaign, data.get("body", ""), data.get("variables_text", ""), data)


def _editor(request: HttpRequest, campaign: Campaign, kind: str, instance=None) -> HttpResponse:
    form_class = CaptionTemplateForm if kind == "caption" else PromptTemplateForm
    if instance is None:
        instance = (CaptionTemplate if kind == "caption" else PromptTemplate)(campaign=campaign)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        template = audited_save(form.instance, form.save)
        messages.success(request, f"{'Caption' if kind == 'caption' else 'Prompt'} template “{template.name}” saved.")
        if kind == "prompt":
            for warning in prompt_template_warnings(template):
                messages.warning(request, warning)
        return redirect("dashboard:campaign", pk=campaign.pk)
    if request.method == "POST":
        data = request.POST
    elif instance.pk and kind == "prompt":
        data = {"body": instance.body, "variables_text": format_variables(instance.variables or {})}
    elif instance.pk:
        data = {"body": instance.body, "hashtags": instance.hashtags}
    else:
        data = {}
    return page(
        request, "dashboard/editor/editor.html",
        {"form": form, "campaign": campaign, "kind": kind, "template": instance, "preview": _preview_for(
            campaign, kind, data), "vocabulary": closed_vocabulary(campaign.model_key) if kind == "prompt" else None},
    )


@workspace_view(read=Role.EDITOR)
def prompt_create(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(scoped(Campaign, request), pk=campaign_pk), "prompt")


@workspace_view(read=Role.EDITOR)
def prompt_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(scoped(PromptTemplate, request).select_related("campaign"), pk=pk)
    return _editor(request, template.campaign, "prompt", template)


@workspace_view(read=Role.EDITOR)
def caption_create(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(scoped(Campaign, request), pk=campaign_pk), "caption")


@workspace_view(read=Role.EDITOR)
def caption_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(scoped(CaptionTemplate, request).select_related("campaign"), pk=pk)
    return _editor(request, template.campaign, "caption", template)


@workspace_view()
@require_POST
def template_preview(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """The preview panel for the editor's current (unsaved) text: answered on every keystroke pause."""
    campaign = get_object_or_404(scoped(Campaign, request), pk=campaign_pk)
    kind = "caption" if request.POST.get("kind") == "caption" else "prompt"
    preview = _preview_for(campaign, kind, request.POST)
    return render(request, "dashboard/editor/_preview.html", {"preview": preview, "kind": kind})


@workspace_view()
@require_POST
def caption_counter(request: HttpRequest) -> HttpResponse:
    """The weighted-length counter for a caption being typed (schedule and post pages)."""
    return render(request, "dashboard/_counter.html", {"counter": measure(request.POST.get("caption", ""))})


@workspace_view(read=Role.EDITOR)
def template_delete(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """GET asks for confirmation; POST deletes. Clips made from a prompt template keep their prompt and variables
    (they record what they were rendered with) and simply no longer point at the template."""
    model = CaptionTemplate if kind == "caption" else PromptTemplate
    template = get_object_or_404(scoped(model, request).select_related("campaign"), pk=pk)
    clip_count = template.clips.count() if kind == "prompt" else 0
    if request.method == "POST":
        audited_delete(template)
        kept = f" Its {clip_count} clip(s) keep their prompt and variables." if clip_count else ""
        messages.success(request, f"{kind.capitalize()} template “{template.name}” deleted.{kept}")
        return redirect("dashboard:campaign", pk=template.campaign_id)
    return page(request, "dashboard/editor/delete.html",
                {"template": template, "campaign": template.campaign, "kind": kind, "clip_count": clip_count})
