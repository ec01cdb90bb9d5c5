from django.apps import AppConfig


class ClipcastConfig(AppConfig):
    name = "clipcast"
    verbose_name = "Clipcast web"
