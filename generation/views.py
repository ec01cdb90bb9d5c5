"""Clip media for the members of the clip's workspace (session login or API token), nobody else."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from generation import media
from generation.models import Clip


class ClipMediaView(APIView):
    """GET /clips/<id>/media/<video|gif|poster>: the file, a proxy hand-off, or a redirect to a presigned URL.

    A clip outside the caller's workspaces is a 404, the same as a clip that does not exist."""

    schema = None  # not part of the JSON API's schema: it answers with media, not JSON

    def get(self, request: Request, pk: int, kind: str) -> HttpResponse:
        if kind not in media.KINDS:
            raise Http404
        clips = Clip.objects.all() if request.user.has_perm("generation.view_clip") else Clip.objects.visible_to(
            request.user)  # admins who may view clips in the admin see their media there too
        clip = clips.filter(pk=pk).first()
        if clip is None or not getattr(clip, kind):
            raise Http404
        return media.serve(request._request, clip, kind)


clip_media = ClipMediaView.as_view()
