"""Every password check goes through one throttle, before any hashing.

Checking a password costs a CPU-heavy hash (PBKDF2, about a core-second here), so a client guessing
passwords is also a denial of service. Every check counts against the client IP (GRIDGIS
THROTTLE_RATES["login"]) and against the account named (["login_account"], so that guessing one
account from many addresses is slowed too) in `count_password_attempt()`, which runs:

- in the authentication backend (ThrottledModelBackend), so every `authenticate()` call: the admin's
  sign-in, the web sign-in form, the API token sign-in, and any view added later that signs in;
- in the password-change forms before the old password is checked (web, admin and API).

Over the rate it raises TooManyAttempts (common.throttling): 429 with Retry-After, from DRF views by
DRF and from plain Django views by common.middleware.ThrottledAnswerMiddleware.
"""

from __future__ import annotations

import hashlib

from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import PasswordChangeForm
from django.urls import reverse

from common.throttling import CountedRate, TooManyAttempts


def count_password_attempt(request, username: str) -> None:
    """Count one password check for the client and the account; TooManyAttempts when over a rate."""
    account = hashlib.sha256(str(username).strip().lower().encode()).hexdigest()[:32]
    for rate in (CountedRate("login", ident=None), CountedRate("login_account", ident=account)):
        if request is None and rate.ident is None:
            continue  # a check outside a request (a management command) has no client address
        wait = rate.refused(request)
        if wait is not None:
            raise TooManyAttempts(wait, detail=f"too many password attempts; try again in {max(1, round(wait))} s")


class ThrottledModelBackend(ModelBackend):
    """Django's backend, with the attempt counted before the password is hashed."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field(), "")
        if password is not None:
            count_password_attempt(request, username or "")
        return super().authenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


class ThrottledPasswordChange:
    """Password-change form mixin: the old password's check is counted like a sign-in."""

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        count_password_attempt(self.request, self.user.get_username())
        return super().clean_old_password()


class ThrottledPasswordChangeForm(ThrottledPasswordChange, PasswordChangeForm):
    pass


class ThrottledAdminPasswordChangeForm(ThrottledPasswordChange, AdminPasswordChangeForm):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (signed in, old password, new one twice), with the throttled form."""

    form_class = ThrottledPasswordChangeForm
    template_name = "accounts/password_change.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


def admin_password_change(site, request, extra_context=None):
    """The admin's "change my password" page (AdminSite.password_change) with the throttled form."""
    defaults = {
        "form_class": ThrottledAdminPasswordChangeForm,
        "success_url": reverse("admin:password_change_done", current_app=site.name),
        "extra_context": {**site.each_context(request), **(extra_context or {})},
        "template_name": site.password_change_template or "registration/password_change_form.html",
    }
    request.current_app = site.name
    return PasswordChangeView.as_view(**defaults)(request)
