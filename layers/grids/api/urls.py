from django.urls import path

from layers.grids.api.views import LocateView, PlaceSearchView

urlpatterns = [
    path("locate/", LocateView.as_view(), name="locate"),
    path("places/", PlaceSearchView.as_view(), name="places"),
]
