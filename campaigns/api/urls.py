from rest_framework.routers import SimpleRouter

from campaigns.api.views import CampaignViewSet, CaptionTemplateViewSet, PostingSlotViewSet

router = SimpleRouter()
router.register("campaigns", CampaignViewSet)
# prompt-templates is served by generation.api (its answers warn about words the model cannot draw).
router.register("caption-templates", CaptionTemplateViewSet)
router.register("posting-slots", PostingSlotViewSet)
urlpatterns = router.urls
