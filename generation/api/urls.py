from rest_framework.routers import SimpleRouter

from generation.api.conversation import ClipNoteViewSet
from generation.api.views import ClipViewSet, PromptTemplateWarningViewSet

router = SimpleRouter()
router.register("clips", ClipViewSet)
router.register("clip-notes", ClipNoteViewSet)
router.register("prompt-templates", PromptTemplateWarningViewSet)
urlpatterns = router.urls
