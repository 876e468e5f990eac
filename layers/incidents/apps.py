from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "layers.incidents"
    label = "incidents"
