from rest_framework.routers import SimpleRouter

from accounts.api.views import MembershipViewSet, WorkspaceViewSet

router = SimpleRouter()
router.register("workspaces", WorkspaceViewSet)
router.register("memberships", MembershipViewSet)
urlpatterns = router.urls
