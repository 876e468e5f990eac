from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CitizenConfig(AppConfig):
    """The citizen's report page (/report/): report a problem without signing in, and follow it."""

    name = "citizen"
    verbose_name = "Screens: citizen's report page"

    def ready(self):
        from frontend import registry

        registry.register("citizen-report", gettext_lazy("Report a problem"), order=90)
        registry.register_catalogue("citizen")
