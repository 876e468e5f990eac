from rest_framework.routers import SimpleRouter

from layers.estates.api.views import EstateViewSet, RenovationProjectViewSet, SuggestionViewSet, WorkItemViewSet

router = SimpleRouter()
router.register("estates", EstateViewSet, basename="estate")
router.register("renovation-projects", RenovationProjectViewSet, basename="renovation-project")
router.register("work-items", WorkItemViewSet, basename="work-item")
router.register("resident-suggestions", SuggestionViewSet, basename="resident-suggestion")

urlpatterns = router.urls
