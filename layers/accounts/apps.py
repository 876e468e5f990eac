from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Roles, sign-in (session and token) and the scope of what each user may see."""

    name = "layers.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from common.scopes import set_scope_resolver
        from layers.accounts.roles import scope_for

        set_scope_resolver(scope_for)
