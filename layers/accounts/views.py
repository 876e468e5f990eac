"""The web sign-in page: Django's login view behind the same "login" throttle as the token endpoint."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from common.throttling import refused_by_throttles


class ThrottledLoginView(auth_views.LoginView):
    """Each sign-in attempt (POST) counts against the client's IP under GRIDGIS THROTTLE_RATES["login"],
    so the form cannot be used to guess passwords faster than the token endpoint."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = refused_by_throttles(request, "login")
        if wait is not None:
            response = HttpResponse(
                f"Too many sign-in attempts from this address; try again in {wait:.0f} s.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(max(1, round(wait)))
            return response
        return super().post(request, *args, **kwargs)
