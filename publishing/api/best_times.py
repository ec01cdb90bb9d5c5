"""Best time to post over the API: an account's engagement rate by weekday and hour, in a chosen time zone."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import WorkspaceScopedViewSet
from core.timezones import refusal
from publishing.best_time import PRIOR_IMPRESSIONS, heat_map
from publishing.models import XAccount


class CellSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 = Monday ... 6 = Sunday, in `timezone`.")
    hour = serializers.IntegerField()
    posts = serializers.IntegerField()
    impressions = serializers.IntegerField()
    engagements = serializers.IntegerField(help_text="Likes + replies + reposts + quotes.")
    rate = serializers.FloatField(allow_null=True)
    smoothed = serializers.FloatField(help_text=f"Rate pulled toward the overall rate by {PRIOR_IMPRESSIONS} "
                                                "impressions' worth of it; the ranking uses this.")


class BestTimesSerializer(serializers.Serializer):
    x_account = serializers.IntegerField()
    timezone = serializers.CharField()
    posts = serializers.IntegerField()
    overall_rate = serializers.FloatField()
    best = CellSerializer(many=True)
    cells = CellSerializer(many=True, help_text="7 x 24 cells, Monday 00:00 first.")


class BestTimesViewSet(WorkspaceScopedViewSet):
    queryset = XAccount.objects.all()

    @extend_schema(
        parameters=[OpenApiParameter("tz", str, required=False,
                                     description="IANA time zone for weekdays and hours; the workspace's by default.")],
        responses=BestTimesSerializer,
    )
    def retrieve(self, request: Request, pk=None) -> Response:
        """The account's engagement rate by weekday and hour, and its best hours, from its posted history."""
        account = self.get_object()
        tz_name = request.query_params.get("tz", "").strip() or account.workspace.timezone  # as the dashboard reads it
        problem = refusal(tz_name[:64])
        if problem:
            raise serializers.ValidationError({"tz": problem})
        grid = heat_map(account, tz_name)
        body = {"x_account": account.pk, "timezone": tz_name, "posts": grid.posts, "overall_rate": grid.overall,
                "best": grid.best(5), "cells": [cell for row in grid.cells for cell in row]}
        return Response(BestTimesSerializer(body).data)
