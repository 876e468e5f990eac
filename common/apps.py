from django.apps import AppConfig
from django.conf import settings


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self):
        from PIL import Image

        # Pillow refuses (DecompressionBombError) images over twice this many pixels, and warns over it,
        # when it opens them anywhere in the process, not only where layers/incidents/photos.py checks.
        Image.MAX_IMAGE_PIXELS = settings.GRIDGIS["PHOTO_MAX_PIXELS"]

        from django.db import models
        from rest_framework.serializers import ModelSerializer

        from common.serializers import BoundedDateField

        # Every model serializer's date field takes dates within 1900..2999 only (a date past 9999-12-30
        # overflows the day arithmetic of the windows that read it).
        ModelSerializer.serializer_field_mapping[models.DateField] = BoundedDateField
