from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "layers.inspections"
    label = "inspections"
