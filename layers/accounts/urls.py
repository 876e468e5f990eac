"""Session sign-in for the web pages: Django's login view, password change (both throttled in the
authentication backend, layers/accounts/passwords.py) and logout view."""

from django.contrib.auth import views as auth_views
from django.urls import path

from layers.accounts.passwords import PasswordChangeView
from layers.accounts.views import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("password_change/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
