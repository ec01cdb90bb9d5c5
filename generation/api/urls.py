from rest_framework.routers import SimpleRouter

from generation.api.views import ClipViewSet, PromptTemplateWarningViewSet

router = SimpleRouter()
router.register("clips", ClipViewSet)
router.register("prompt-templates", PromptTemplateWarningViewSet)
urlpatterns = router.urls
