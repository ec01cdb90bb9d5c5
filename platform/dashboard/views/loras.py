"""Brand LoRAs of the workspace: the list, the upload form (editors and owners), delete."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard.forms.loras import LoraUploadForm
from dashboard.workspace import page, scoped, workspace_view
from generation import loras
from generation.models import BrandLora


@workspace_view()
def lora_list(request: HttpRequest) -> HttpResponse:
    form = LoraUploadForm(request.POST or None, request.FILES or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        lora = form.save(request.user)
        messages.success(request, f"LoRA “{lora.name}” uploaded and checked against model “{lora.model_key}”. "
                                  "Pick it in a campaign's settings to render with it.")
        return redirect("dashboard:loras")
    items = scoped(BrandLora, request).select_related("uploaded_by").prefetch_related("campaign_links__campaign")
    return page(request, "dashboard/loras/list.html", {"loras": items, "form": form},
                status=400 if form.errors else 200)


@workspace_view()
@require_POST
def lora_delete(request: HttpRequest, pk: int) -> HttpResponse:
    lora = get_object_or_404(scoped(BrandLora, request), pk=pk)
    loras.delete_lora(lora)
    messages.success(request, f"LoRA “{lora.name}” deleted; its campaigns render without it from now on.")
    return redirect("dashboard:loras")
