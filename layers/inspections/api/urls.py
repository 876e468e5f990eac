from django.urls import path
from rest_framework.routers import SimpleRouter

from layers.inspections.api.views import CategoryViewSet, CoverageView, PatrolViewSet, PointViewSet, ScheduleViewSet

router = SimpleRouter()
router.register("inspection-categories", CategoryViewSet, basename="inspection-category")
router.register("inspection-points", PointViewSet, basename="inspection-point")
router.register("patrols", PatrolViewSet, basename="patrol")
router.register("patrol-schedules", ScheduleViewSet, basename="patrol-schedule")

urlpatterns = [
    path("patrol-coverage/", CoverageView.as_view(), name="patrol-coverage"),
    *router.urls,
]
