"""Photo checks at the edge: a real JPEG or PNG, within the byte and pixel limits of settings.GRIDGIS."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png"}


class PhotoError(ValueError):
    """Why an uploaded file is not an acceptable photo."""


@dataclass(frozen=True)
class CheckedPhoto:
    file: UploadedFile
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]


def check_photo(upload: UploadedFile) -> CheckedPhoto:
    """Open `upload` with Pillow and refuse anything but an intact JPEG/PNG within the limits.

    The pixel cap is checked from the header, before any decoding, so a decompression bomb is refused
    without being decoded; `verify()` then reads the whole file to catch truncated or corrupt data.
    """
    limits = settings.GRIDGIS
    name = getattr(upload, "name", "photo")
    if upload.size is not None and upload.size > limits["PHOTO_MAX_BYTES"]:
        raise PhotoError(f"{name}: {upload.size} bytes is over the limit of {limits['PHOTO_MAX_BYTES']}")
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format not in ALLOWED_FORMATS:
                raise PhotoError(f"{name}: {image.format} is not accepted; send a JPEG or PNG")
            width, height = image.size
            if width * height > limits["PHOTO_MAX_PIXELS"]:
                raise PhotoError(f"{name}: {width}x{height} pixels is over the limit of "
                                 f"{limits['PHOTO_MAX_PIXELS']}")
            image.verify()
            image_format = image.format
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise PhotoError(f"{name}: not a readable JPEG or PNG image ({exc.__class__.__name__})") from exc
    upload.seek(0)
    return CheckedPhoto(file=upload, format=image_format, width=width, height=height)
