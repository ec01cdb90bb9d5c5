from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.views import MembershipViewSet, MeView, WorkspaceViewSet

router = SimpleRouter()
router.register("workspaces", WorkspaceViewSet)
router.register("memberships", MembershipViewSet)
urlpatterns = [path("me/", MeView.as_view(), name="api-me"), *router.urls]
