from django.urls import path

from layers.grids.api.views import LocateView

urlpatterns = [
    path("locate/", LocateView.as_view(), name="locate"),
]
