from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "layers.audits"
    label = "audits"
