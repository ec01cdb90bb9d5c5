"""A clip's review conversation over the API: comments and the approvals and rejections, in order."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import VisibleRelatedField, WorkspaceScopedViewSet, require_role
from accounts.models import Role, workspace_id_of
from generation import conversation
from generation.models import Clip, ClipNote


class ClipNoteSerializer(serializers.ModelSerializer):
    clip = VisibleRelatedField(queryset=Clip.objects.all())
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    body = serializers.CharField(help_text="The comment; at most 2,000 characters.")

    class Meta:
        model = ClipNote
        fields = ["id", "clip", "author", "kind", "body", "created_at"]
        read_only_fields = ["author", "kind", "created_at"]


class ClipNoteViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Comments on clips (reviewers and up write them; editors, owners and earlier participants are notified),
    with each approval and rejection as a note of its kind. Filter by `clip`."""

    queryset = ClipNote.objects.select_related("author")
    serializer_class = ClipNoteSerializer
    filterset_fields = ["clip", "kind"]
    action_roles = {"create": Role.REVIEWER}

    def create(self, request: Request) -> Response:
        data = ClipNoteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        clip = data.validated_data["clip"]
        require_role(request.user, workspace_id_of(clip), Role.REVIEWER)
        try:
            note = conversation.comment_on(clip, request.user, data.validated_data["body"])
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return Response(self.get_serializer(note).data, status.HTTP_201_CREATED)
