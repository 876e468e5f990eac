import types

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Roles, sign-in (session and token) and the scope of what each user may see."""

    name = "layers.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from django.contrib import admin

        from common.scopes import set_scope_resolver
        from layers.accounts import signals  # noqa: F401  (connects the token revocation)
        from layers.accounts.passwords import admin_password_change
        from layers.accounts.roles import scope_for

        set_scope_resolver(scope_for)
        # The admin's "change my password" checks the old password: through the same throttle as
        # every other password check (AdminSite builds its URLs from this attribute later).
        admin.site.password_change = types.MethodType(admin_password_change, admin.site)
