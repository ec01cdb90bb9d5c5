from rest_framework.routers import SimpleRouter

from campaigns.api.views import CaptionTemplateViewSet, PostingSlotViewSet

router = SimpleRouter()
# campaigns is served by publishing.api (archiving one cancels its scheduled posts and stops its experiments).
# prompt-templates is served by generation.api (its answers warn about words the model cannot draw).
router.register("caption-templates", CaptionTemplateViewSet)
router.register("posting-slots", PostingSlotViewSet)
urlpatterns = router.urls
