from rest_framework.routers import SimpleRouter

from campaigns.api.views import CampaignViewSet, CaptionTemplateViewSet, PostingSlotViewSet, PromptTemplateViewSet

router = SimpleRouter()
router.register("campaigns", CampaignViewSet)
router.register("prompt-templates", PromptTemplateViewSet)
router.register("caption-templates", CaptionTemplateViewSet)
router.register("posting-slots", PostingSlotViewSet)
urlpatterns = router.urls
