from django.apps import AppConfig


class FrontendConfig(AppConfig):
    """The shared screen base: layout, navigation, sign-in page, language switch, static ES modules."""

    name = "frontend"
    verbose_name = "Screens: shared base"
