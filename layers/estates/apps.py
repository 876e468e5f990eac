from django.apps import AppConfig


class EstatesConfig(AppConfig):
    name = "layers.estates"
    label = "estates"
