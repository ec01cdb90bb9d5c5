from rest_framework.routers import SimpleRouter

from generation.api.conversation import ClipNoteViewSet
from generation.api.views import (
    BrandLoraViewSet,
    CampaignLoraViewSet,
    ClipViewSet,
    PromptTemplateWarningViewSet,
    RenderUsageViewSet,
)

router = SimpleRouter()
router.register("clips", ClipViewSet)
router.register("clip-notes", ClipNoteViewSet)
router.register("prompt-templates", PromptTemplateWarningViewSet)
router.register("render-usage", RenderUsageViewSet, basename="render-usage")
router.register("brand-loras", BrandLoraViewSet)
router.register("campaign-loras", CampaignLoraViewSet)
urlpatterns = router.urls
