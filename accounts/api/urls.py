from rest_framework.routers import SimpleRouter

from accounts.api.views import InvitationViewSet, MembershipViewSet, ReceivedInvitationViewSet, WorkspaceViewSet

router = SimpleRouter()
router.register("workspaces", WorkspaceViewSet)
router.register("memberships", MembershipViewSet)
router.register("invitations", InvitationViewSet)
router.register("my-invitations", ReceivedInvitationViewSet, basename="received-invitation")
urlpatterns = router.urls
