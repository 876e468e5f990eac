"""The web sign-in page. Its password check is throttled where every other one is, in the
authentication backend (layers/accounts/passwords.py)."""

from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    """Django's sign-in form; a signed-in user is sent on to where they were going."""

    redirect_authenticated_user = True
