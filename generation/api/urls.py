from rest_framework.routers import SimpleRouter

from generation.api.views import ClipViewSet

router = SimpleRouter()
router.register("clips", ClipViewSet)
urlpatterns = router.urls
