from rest_framework.routers import SimpleRouter

from publishing.api.best_times import BestTimesViewSet
from publishing.api.campaigns import ArchivingCampaignViewSet
from publishing.api.experiments import ExperimentViewSet
from publishing.api.planner import BulkClipActionViewSet
from publishing.api.views import MetricsViewSet, PostViewSet, XAccountViewSet

router = SimpleRouter()
router.register("campaigns", ArchivingCampaignViewSet)
router.register("x-accounts", XAccountViewSet)
router.register("posts", PostViewSet)
router.register("experiments", ExperimentViewSet)
router.register("best-times", BestTimesViewSet, basename="best-times")
router.register("clip-actions", BulkClipActionViewSet, basename="clip-actions")
router.register("metrics", MetricsViewSet, basename="metrics")
urlpatterns = router.urls
