"""A/B experiments: start one from a campaign, fill its slots, watch each variant's rate, see the winner."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.models import Role
from campaigns.models import Campaign
from dashboard.charts import bar_chart
from dashboard.forms.experiments import ExperimentForm, FillForm
from dashboard.workspace import page, scoped, workspace_view
from publishing import experiments
from publishing.models import Experiment, ExperimentStatus
from publishing.scheduling import local_to_utc


@workspace_view()
def experiment_list(request: HttpRequest) -> HttpResponse:
    rows = scoped(Experiment, request).select_related("campaign", "prompt_template", "x_account", "winner")
    return page(request, "dashboard/experiments/list.html", {"experiments": rows})


@workspace_view(read=Role.EDITOR)
def experiment_create(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = get_object_or_404(scoped(Campaign, request), pk=campaign_pk)
    form = ExperimentForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        decide_at = local_to_utc(data["decide_at"], campaign.timezone) if data["decide_at"] else None
        try:
            experiment = experiments.start_experiment(
                data["prompt_template"], data["x_account"], name=data["name"],
                min_impressions=data["min_impressions"], decide_at=decide_at, user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Experiment “{experiment.name}” started: fill slots to post its variants.")
            return redirect("dashboard:experiment", pk=experiment.pk)
    return page(request, "dashboard/experiments/form.html", {"campaign": campaign, "form": form},
                status=400 if form.errors else 200)


def _experiment(request: HttpRequest, pk: int) -> Experiment:
    return get_object_or_404(
        scoped(Experiment, request).select_related("campaign", "prompt_template", "x_account", "winner"), pk=pk)


@workspace_view()
def experiment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _experiment(request, pk))


def _detail_page(request: HttpRequest, experiment: Experiment, fill_form: FillForm | None = None,
                 status: int = 200) -> HttpResponse:
    variants = experiments.variants_of(experiment)
    chart = bar_chart("Engagement rate per variant (%)",
                      [(v.label, round(100 * (v.rate or 0.0), 2)) for v in variants])
    winner_key = experiments.variant_key(experiment.winner_variables) if experiment.winner_variables else None
    return page(request, "dashboard/experiments/detail.html", {
        "experiment": experiment, "variants": variants, "chart": chart, "winner_key": winner_key,
        "running": experiment.status == ExperimentStatus.RUNNING,
        "fill_form": fill_form or FillForm(),
        "posts": experiment.posts.select_related("clip").order_by("scheduled_at", "pk"),
        "neighbour_labels": [experiments.Variant(n).label for n in experiments.neighbours(
            experiment.prompt_template, experiment.winner_variables)] if experiment.winner_variables else [],
        "waiting": experiments.why_not_decidable(experiment, variants),
    }, status=status)


@workspace_view()
@require_POST
def experiment_fill(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment(request, pk)
    form = FillForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, experiment, fill_form=form, status=400)
    try:
        posts = experiments.fill_slots(experiment, form.cleaned_data["count"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Scheduled {len(posts)} post{'s' if len(posts) != 1 else ''} of the experiment "
                                  f"on @{experiment.x_account.handle}.")
    return redirect("dashboard:experiment", pk=experiment.pk)


@workspace_view()
@require_POST
def experiment_decide(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment(request, pk)
    if experiments.evaluate(experiment, force=True):
        experiment.refresh_from_db()
        messages.success(request, f"Winner: {experiment.winner_label} ({experiment.confidence_text} likely the "
                                  "best).")
    else:
        reason = experiments.why_not_decidable(experiment) or f"This experiment is {experiment.get_status_display()}."
        messages.error(request, reason)
    return redirect("dashboard:experiment", pk=experiment.pk)


@workspace_view()
@require_POST
def experiment_stop(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment(request, pk)
    if experiments.stop(experiment):
        messages.success(request, "Experiment stopped; its scheduled posts stay in the queue.")
    else:
        messages.error(request, "Only a running experiment can be stopped.")
    return redirect("dashboard:experiment", pk=experiment.pk)
