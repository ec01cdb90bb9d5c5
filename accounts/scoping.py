"""Workspace scoping, written once: every tenant-owned model's queryset knows the path to its workspace."""

from __future__ import annotations

from django.db import models


class WorkspaceScopedQuerySet(models.QuerySet):
    #: ORM path from the model to its Workspace, e.g. "workspace" or "campaign__workspace".
    workspace_path = "workspace"

    def for_workspace(self, workspace) -> WorkspaceScopedQuerySet:
        return self.filter(**{self.workspace_path: workspace})

    def visible_to(self, user) -> WorkspaceScopedQuerySet:
        """Rows of the workspaces `user` is a member of (any role); nothing for anonymous users."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(**{f"{self.workspace_path}__memberships__user": user})

