from django.apps import AppConfig


class OfficeConfig(AppConfig):
    """The office screens under /office/: dispatcher, handler, leader, supervisor and planner."""

    name = "office"
    verbose_name = "Screens: office"

    def ready(self):
        from frontend import registry
        from office.access import SCREENS

        for order, screen in enumerate(SCREENS.values()):
            registry.register(screen.url_name, screen.label, roles=screen.roles, order=50 + order)
        registry.register_catalogue("office")
