"""Session sign-in for the web pages: Django's login view (throttled) and logout view."""

from django.contrib.auth import views as auth_views
from django.urls import path

from layers.accounts.views import ThrottledLoginView

urlpatterns = [
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
