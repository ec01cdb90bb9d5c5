from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.notifications import NotificationViewSet
from accounts.api.views import (
    AuditEventViewSet,
    InvitationViewSet,
    MembershipViewSet,
    MeView,
    ReceivedInvitationViewSet,
    WorkspaceViewSet,
)

router = SimpleRouter()
router.register("workspaces", WorkspaceViewSet)
router.register("memberships", MembershipViewSet)
router.register("invitations", InvitationViewSet)
router.register("notifications", NotificationViewSet)
router.register("my-invitations", ReceivedInvitationViewSet, basename="received-invitation")
router.register("audit-events", AuditEventViewSet)
urlpatterns = [path("me/", MeView.as_view(), name="api-me"), *router.urls]
