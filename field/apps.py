from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    """The grid officer's phone app at /field/ (an installable, offline-capable web app)."""

    name = "field"
    verbose_name = "Screens: the officer's app"

    def ready(self):
        from frontend import registry
        from layers.accounts.roles import OFFICER

        registry.register("field-home", _("Officer app"), roles={OFFICER}, order=10)
        registry.register_catalogue("field")
