from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Roles, sign-in (session and token) and the scope of what each user may see."""

    name = "layers.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"
