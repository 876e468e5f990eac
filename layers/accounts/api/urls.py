from django.urls import path

from layers.accounts.api.views import MeView, PasswordView, TokenView

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
    path("auth/password/", PasswordView.as_view(), name="auth-password"),
]
