"""Generate a batch of clips from a prompt template: grid or CSV, clip length, seed policy, count first."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from campaigns.models import Campaign, PromptTemplate
from dashboard.forms.generate import FPS, GenerateForm
from dashboard.workspace import page, scoped, workspace_view
from generation import costs
from generation.services import SeedPolicy, create_clips
from generation.vocabulary import prompt_template_warnings


def _template_for(campaign: Campaign, raw: str | None) -> PromptTemplate | None:
    templates = campaign.prompt_templates.all()
    if raw:
        try:
            return get_object_or_404(templates, pk=int(raw))
        except ValueError:
            pass
    return templates.first()


@workspace_view(read=Role.EDITOR)
def generate(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = get_object_or_404(scoped(Campaign, request), pk=campaign_pk)
    template = _template_for(campaign, request.POST.get("template") or request.GET.get("template"))
    form = None
    if template is not None:
        form = GenerateForm(request.POST or None, request.FILES or None, template=template)
        if request.method == "POST" and form.is_valid() and request.POST.get("action") == "generate":
            try:
                result = create_clips(
                    template, form.rows, params={"frames": form.frames, "fps": FPS},
                    seed_policy=SeedPolicy(form.cleaned_data["seed_policy"]), seed=form.cleaned_data.get("seed"),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                queued, dupes = len(result.clips), result.duplicates
                skipped = f" ({dupes} already rendered or rendering, skipped)" if dupes else ""
                messages.success(request, f"{queued} clip{pluralize(queued)} queued for rendering{skipped}.")
                for warning in result.warnings:
                    messages.warning(request, warning)
                return redirect(f"{reverse('dashboard:clips')}?campaign={campaign.pk}&template={template.pk}")
    return page(
        request, "dashboard/generate/generate.html",
        {
            "campaign": campaign, "template": template, "templates": campaign.prompt_templates.all(), "form": form,
            "counted": request.method == "POST" and form is not None and not form.errors,
            "vocabulary_warnings": prompt_template_warnings(template) if template is not None else [],
            "quota_warning": costs.usage(campaign.workspace).warning(),
        },
    )


@workspace_view()
@require_POST
def generate_count(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """How many clips the form as it stands would render (asked while the marketer ticks boxes)."""
    campaign = get_object_or_404(scoped(Campaign, request), pk=campaign_pk)
    template = _template_for(campaign, request.POST.get("template"))
    form = GenerateForm(request.POST, request.FILES, template=template) if template else None
    if form is not None:
        form.is_valid()
    return render(request, "dashboard/generate/_count.html", {"form": form, "counted": True})
