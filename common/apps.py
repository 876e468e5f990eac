from django.apps import AppConfig
from django.conf import settings


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self):
        from PIL import Image

        # Pillow refuses (DecompressionBombError) images over twice this many pixels, and warns over it,
        # when it opens them anywhere in the process, not only where common/photos.py checks.
        Image.MAX_IMAGE_PIXELS = settings.GRIDGIS["PHOTO_MAX_PIXELS"]
